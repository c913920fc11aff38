"""The conversation socket: a snapshot on connect, then the live events, with seq checks.

Thin: authenticate, check the user and access (on connect and on every client event), call one
service, forward events. Frames are decoded here, so a bad one (not JSON, nested too deeply,
too big, text no database can store) gets an ``error`` frame and the socket stays open. Lost or
doubled deltas are caught here by their seq and repaired from the stream state, so what reaches
a client is gap-free even when the channel layer dropped something. What one socket may cost is
bounded: its frames by a token bucket (socket_limits), its life by the credentials it was opened
with (a session's log-out or end, a token's expiry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time

import orjson
from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import aclose_old_connections
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError

from accounts.selectors import user_auth_hash, user_group, user_still_valid
from chat import blinding, events
from chat.errors import ChatError, ChatInputError, ChatNotFound
from chat.models import Message
from chat.selectors import ConversationNotFound, conversation_get_for_user, conversation_owned, message_get_for_user
from chat.services import message_edit, message_send, reply_cancel, send_input_clean
from chat.services.inputs import SEND_FIELDS
from webox.database import BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS, database_busy

from .db_threads import in_db_thread
from .dispatching import serve
from .snapshots import snapshot_replies
from .socket_auth import BEARER_SUBPROTOCOL, session_still_belongs, token_user_and_access
from .socket_limits import FrameBucket

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY_FRAMES = 4429
AUTH_TIMEOUT_SECONDS = 10
ENDED = float("inf")
EDIT_FIELDS = {"message", "columns", "attachments"}


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        # Frames go past channels' session wrapper: it acts on HTTP responses only, yet reads the
        # lazy session for every message. Accept and close still pass through it.
        wrapper = getattr(send, "__self__", None)
        self.send_frame = wrapper.real_send if isinstance(wrapper, InstanceSessionWrapper) else send
        await serve(self, scope, receive, send)

    async def send_json(self, content, close=False):
        try:
            await self.send_frame({"type": "websocket.send", "text": await self.encode_json(content)})
        except Disconnected:
            return  # the client is closing the socket while this was on its way; its disconnect follows
        if close:
            await self.close(close)

    async def dispatch(self, message):
        """As channels dispatches, but only client frames close old database connections first.

        channels does that (a hop to its sync thread) before every handler; for the layer
        messages, one per flush per socket, it was the largest single cost of daphne's loop, and
        for a socket's connect and disconnect a good part of theirs. Those handlers read nothing
        from the database but the names of a hidden reply, the credentials and the snapshot, and
        that, like all of this consumer's database work, runs in ``in_db_thread``, whose threads
        hand their connections back after each call.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if message["type"] == "websocket.receive":
            await aclose_old_connections()  # as channels does: rare, one per client frame
        await handler(message)

    @classmethod
    async def encode_json(cls, content) -> str:
        """orjson: a few times faster than ``json.dumps`` for every frame of every socket.

        Non-ASCII text is sent as UTF-8 rather than escaped (the same JSON to any parser). What
        orjson refuses (a lone surrogate, an integer over 64 bits) goes out through ``json`` as before.
        """
        try:
            return orjson.dumps(content).decode()
        except TypeError:
            return json.dumps(content)

    async def connect(self):
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.user = AnonymousUser()
        self.auth_hash = ""
        self.in_user_group = False
        self.joined = False
        self.known_seq: dict[int, int] = {}
        # Blind replies not yet revealed: their (provider, model), whose names their deltas must not show.
        self.hidden_names: dict[int, tuple[str, str]] = {}
        self.auth_timer: asyncio.Task | None = None
        # How it authenticated: the session it was opened with, or its token's expiry (Unix time).
        self.session_key: str | None = None
        self.token_expires: float | None = None
        self.expiry_timer: asyncio.Task | None = None
        self.frames = FrameBucket(settings.WEBOX_WS_FRAME_RATE)
        self.resyncs = FrameBucket(settings.WEBOX_WS_RESYNC_RATE)
        self.frames_over_limit = 0
        subprotocols = self.scope.get("subprotocols") or []
        owns = None  # whether the conversation is the user's, when read with the token's user
        if BEARER_SUBPROTOCOL in subprotocols:
            token = next((p for p in subprotocols if p != BEARER_SUBPROTOCOL), "")
            found, owns = await in_db_thread(token_user_and_access)(token, self.conversation_id)
            self.take_token(found)
            await self.accept(subprotocol=BEARER_SUBPROTOCOL)
        else:
            scope_user = self.scope.get("user")
            if scope_user is not None and scope_user.is_authenticated:
                self.user = scope_user
                session = self.scope.get("session")
                self.session_key = session.session_key if session is not None else None
            await self.accept()
        if self.user.is_authenticated:
            await self.join(owns=owns)
        elif BEARER_SUBPROTOCOL in subprotocols:
            await self.close(code=CLOSE_UNAUTHENTICATED)
        else:
            self.auth_timer = asyncio.get_running_loop().create_task(self._close_unless_authenticated())

    async def _close_unless_authenticated(self):
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    def take_token(self, found) -> None:
        if found is not None:
            self.user, self.token_expires = found

    async def _close_when_credentials_expire(self):
        """A JWT socket closes at its token's expiry; a session socket once its session is gone."""
        if self.token_expires is not None:
            await asyncio.sleep(max(0.0, self.token_expires - time.time()))
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        while True:
            await asyncio.sleep(settings.WEBOX_WS_SESSION_CHECK_SECONDS)
            try:
                belongs = await in_db_thread(session_still_belongs)(self.session_key, self.user.pk)
            except Exception:
                # The session store did not answer: ask again next time (a log-out still closes at once).
                logger.exception("could not check the session of a socket")
                continue
            if not belongs:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return

    async def join(self, *, owns: bool | None = None):
        """Follow the user's changes and, if the conversation is theirs, its events from a snapshot on.

        ``owns``: whether it is theirs, when read together with the token's user; None: read it here.
        """
        if self.token_expires is not None or self.session_key is not None:
            self.expiry_timer = asyncio.get_running_loop().create_task(self._close_when_credentials_expire())
        # The password as it is now: a later change (or deactivation, deletion) ends this socket.
        self.auth_hash = user_auth_hash(self.user)
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        self.in_user_group = True
        if owns is False:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if owns is None and not await self.may_access():
            return
        await self.channel_layer.group_add(events.conversation_group(self.conversation_id), self.channel_name)
        self.joined = True
        await self.send_snapshot()

    async def may_access(self) -> bool:
        if await in_db_thread(conversation_owned)(user=self.user, conversation_id=self.conversation_id):
            return True
        await self.close(code=CLOSE_FORBIDDEN)
        return False

    async def send_snapshot(self, only: list[int] | None = None):
        replies, retries = await in_db_thread(snapshot_replies)(self.conversation_id, only)
        for reply in replies:
            self.known_seq[reply["id"]] = reply["seq"]
            await self.note_hidden(reply)
        # partial: a repair of the listed replies only; the others are as the client knows them.
        await self.send_json({"type": events.SNAPSHOT, "conversation_id": self.conversation_id, "replies": replies,
                              "partial": only is not None})
        for event in retries:
            await self.send_json(event)

    async def disconnect(self, code):
        for timer in (self.auth_timer, self.expiry_timer):
            if timer is not None:
                timer.cancel()
        if self.joined:
            await self.channel_layer.group_discard(events.conversation_group(self.conversation_id), self.channel_name)
        if self.in_user_group:
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)

    async def user_still_valid(self) -> bool:
        if await in_db_thread(user_still_valid)(user_id=self.user.pk, auth_hash=self.auth_hash):
            return True
        await self.close(code=CLOSE_UNAUTHENTICATED)
        return False

    # --- client -> server ---------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not await self.within_limit(self.frames):
            return
        raw = text_data if text_data is not None else bytes_data
        size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw or b"")
        limit = settings.WEBOX_WS_MAX_FRAME_BYTES
        if size > limit:
            await self.send_json(events.error(code="too_big", detail=f"A frame holds at most {limit} bytes."))
            return
        try:
            content = json.loads(raw or "")
        except RecursionError:
            await self.send_json(events.error(code="bad_frame", detail="The frame is nested too deeply."))
            return
        except (TypeError, ValueError):
            await self.send_json(events.error(code="bad_frame", detail="Frames must be JSON objects."))
            return
        try:
            await self.receive_json(content)
        except Exception:
            # One bad frame must not end the socket (daphne would close it with 1011).
            logger.exception("socket frame of type %r failed", str(content.get("type"))[:40]
                             if isinstance(content, dict) else None)
            await self.send_json(events.error(code="internal", detail="The frame could not be handled."))

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json(events.error(code="bad_frame", detail="Frames must be JSON objects with a type."))
            return
        kind = content["type"]
        if not self.user.is_authenticated:
            await self.authenticate_by_frame(content)
            return
        if kind == "auth":
            await self.send_json(events.error(code="bad_frame", detail="Already authenticated."))
            return
        handler = {"send": self.client_send, "cancel": self.client_cancel, "resync": self.client_resync}.get(kind)
        if handler is None:
            await self.send_json(events.error(code="unknown_type", detail=f"Unknown frame type {kind[:40]!r}."))
            return
        # A snapshot is read and rendered afresh each time: resync has a tighter limit of its own.
        if kind == "resync" and not await self.within_limit(self.resyncs):
            return
        self.frames_over_limit = 0  # only frames over a limit one after another end the socket
        if await self.user_still_valid() and await self.may_access():
            await handler(content)

    async def within_limit(self, bucket: FrameBucket) -> bool:
        """Count one frame; over the limit the socket gets ``rate_limited``, and if it goes on, a close."""
        wait = bucket.take()
        if not wait:
            return True
        self.frames_over_limit += 1
        if self.frames_over_limit == settings.WEBOX_WS_FRAMES_OVER_LIMIT + 1:
            await self.close(code=CLOSE_TOO_MANY_FRAMES)
        elif self.frames_over_limit <= settings.WEBOX_WS_FRAMES_OVER_LIMIT:
            retry_after = math.ceil(wait)
            await self.send_json(events.error(code="rate_limited", retry_after=retry_after,
                                              detail=f"Too many frames. Try again in {retry_after} seconds."))
        return False

    async def authenticate_by_frame(self, content):
        token = content.get("token") if content.get("type") == "auth" else None
        found, owns = (await in_db_thread(token_user_and_access)(token, self.conversation_id)
                       if isinstance(token, str) else (None, False))
        if found is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.take_token(found)
        await self.join(owns=owns)

    async def client_send(self, content):
        fields = {name: content[name] for name in SEND_FIELDS if name in content}
        try:
            if "edit" in content:
                await in_db_thread(self._edit)(content["edit"], fields)
            else:
                await in_db_thread(self._send)(fields)
        except ChatError as exc:
            await self.send_json(events.error(code=exc.code, detail=exc.detail, retry_after=exc.retry_after))
        except TypeError:
            await self.send_json(events.error(code="invalid", detail="Unexpected fields in the send frame."))
        except OperationalError as exc:
            if not database_busy(exc):
                raise
            await self.send_json(events.error(code="busy", detail=BUSY_DETAIL, retry_after=BUSY_RETRY_AFTER_SECONDS))

    def _send(self, fields):
        send = send_input_clean(**fields)
        conversation = conversation_get_for_user(user=self.user, conversation_id=self.conversation_id)
        message_send(user=self.user, conversation=conversation, send=send)

    def _edit(self, message_id, fields):
        """A send frame with ``edit``: that user message edited and sent again (POST /messages/{id}/edit)."""
        if set(fields) - EDIT_FIELDS:
            raise ChatInputError("An edit takes message, columns and attachments only.")
        try:
            message = message_get_for_user(user=self.user, message_id=message_id)
        except ConversationNotFound:
            raise ChatNotFound("No such message.") from None
        if message.conversation_id != self.conversation_id:
            raise ChatNotFound("No such message.")
        message_edit(user=self.user, message=message, text=fields.get("message"), columns=fields.get("columns"),
                     attachments=fields.get("attachments"))

    async def client_cancel(self, content):
        try:
            await in_db_thread(self._cancel)(content.get("message_id"))
        except ConversationNotFound:
            await self.send_json(events.error(code="not_found", detail="No such reply in this conversation."))
        except ChatError as exc:
            await self.send_json(events.error(code="invalid", detail=exc.detail))

    def _cancel(self, message_id):
        reply = message_get_for_user(user=self.user, message_id=message_id)
        if reply.conversation_id != self.conversation_id:
            raise ConversationNotFound
        reply_cancel(reply=reply)

    async def client_resync(self, content):
        await self.send_snapshot()

    # --- server -> client (channel layer) -------------------------------------------------------
    async def user_changed(self, message):
        """The account changed (accounts.signals): close unless the user still may use it."""
        await self.user_still_valid()

    async def user_logged_out(self, message):
        """A log-out (accounts.signals) ends the sockets opened with that session."""
        if self.session_key and message.get("session_key") == self.session_key:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def chat_events(self, message):
        forwarded: set[tuple[int, int]] = set()
        for event in message["events"]:
            kind = event.get("type")
            if kind == events.MESSAGE_DELTA:
                if await self.forward_delta(event):
                    forwarded.add((event["message_id"], event["seq"]))
                continue
            if kind == events.MESSAGE_BLOCKS:
                # Only behind its own delta: when that was dropped or repaired, the snapshot holds these blocks.
                if (event["message_id"], event["seq"]) in forwarded:
                    await self.send_json(blinding.mask_blocks_event(event, self.hidden_names.get(event["message_id"])))
                continue
            if kind in (events.MESSAGE_CREATED, events.MESSAGE_UPDATED):
                await self.note_hidden(event["message"])
            if kind == events.MESSAGE_CREATED and event["message"]["role"] == "assistant":
                self.known_seq.setdefault(event["message"]["id"], 0)
            elif kind in (events.MESSAGE_COMPLETED, events.MESSAGE_ERROR, events.MESSAGE_CANCELLED):
                if self.known_seq.get(event["message_id"], 0) < event["seq"]:
                    # Its last deltas were lost on the way, and no later one will show the gap: the truth first.
                    await self.send_snapshot(only=[event["message_id"]])
                # Ended: any delta still on its way is stale.
                self.known_seq[event["message_id"]] = ENDED
            await self.send_json(event)
            if kind == events.CONVERSATION_DELETED:
                await self.close(code=CLOSE_FORBIDDEN)

    async def note_hidden(self, message: dict) -> None:
        """Remember a blind reply still hidden (its names, read once), forget one revealed."""
        message_id = message["id"]
        if not message.get("hidden"):
            self.hidden_names.pop(message_id, None)
        elif message_id not in self.hidden_names:
            row = await in_db_thread(
                lambda: Message.objects.filter(pk=message_id).values_list("provider", "model").first())()
            self.hidden_names[message_id] = row or ("", "")

    async def forward_delta(self, event) -> bool:
        """Send a delta that follows what this socket has; True if it was sent as it is."""
        message_id, seq = event["message_id"], event["seq"]
        known = self.known_seq.get(message_id, 0)
        if seq <= known:
            return False  # a duplicate, or text the snapshot already gave
        if seq == known + 1:
            self.known_seq[message_id] = seq
            await self.send_json(blinding.mask_delta_event(event, self.hidden_names.get(message_id)))
            return True
        # A gap: something between was lost on the way. Send the truth instead.
        await self.send_snapshot(only=[message_id])
        return False
