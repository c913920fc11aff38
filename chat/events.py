"""Every event webox sends to sockets: names, shapes and the one way they go out.

Events travel the channel layer to the group of their conversation as one ``chat.events``
message carrying a list, so one flush of many replies costs one publish. They are only ever
sent after the data they describe is committed: services hand theirs to ``publish_on_commit``;
the streaming engine publishes after its own writes return (``message.retrying`` describes
nothing stored, so it goes out at once). Documented in docs/api.md and docs/streaming.md.

A low-level module: it imports nothing of chat but the channel layer, so services, streaming,
and anything else may import it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.db import transaction

from webox.loops import server_loop

logger = logging.getLogger(__name__)

SNAPSHOT = "snapshot"
MESSAGE_CREATED = "message.created"
MESSAGE_DELTA = "message.delta"
MESSAGE_BLOCKS = "message.blocks"
MESSAGE_COMPLETED = "message.completed"
MESSAGE_ERROR = "message.error"
MESSAGE_CANCELLED = "message.cancelled"
MESSAGE_UPDATED = "message.updated"
MESSAGE_RETRYING = "message.retrying"
TURN_VOTED = "turn.voted"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_DELETED = "conversation.deleted"
ERROR = "error"

# The channel-layer message type; the consumer's ``chat_events`` handler receives it.
LAYER_MESSAGE_TYPE = "chat.events"

Event = dict[str, Any]


def conversation_group(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def delta(*, message_id: int, seq: int, text: str) -> Event:
    return {"type": MESSAGE_DELTA, "message_id": message_id, "seq": seq, "text": text}


def blocks(*, message_id: int, seq: int, start: int, end: int, html: str, open: dict | None = None) -> Event:
    """Finished Markdown blocks of a streaming reply: ``html`` renders ``content[start:end]`` (characters).

    ``open``: the open block after them, when it is a code fence or a table (``OpenBlock.as_event``):
    ``start`` may then equal ``end``. Travels right after the delta of the same ``seq``, in the same
    layer message (chat.streamed_markdown).
    """
    event = {"type": MESSAGE_BLOCKS, "message_id": message_id, "seq": seq, "start": start, "end": end, "html": html}
    if open is not None:
        event["open"] = open
    return event


def message_created(message: dict) -> Event:
    return {"type": MESSAGE_CREATED, "message": message}


def message_updated(message: dict) -> Event:
    return {"type": MESSAGE_UPDATED, "message": message}


def message_retrying(*, message_id: int, retry: int, max_retries: int, code: str, retry_in_ms: int) -> Event:
    """The reply's provider failed before any text and is asked again in ``retry_in_ms``.

    Nothing is stored for a retry, so it goes out at once; a socket that joins later never sees it.
    """
    return {"type": MESSAGE_RETRYING, "message_id": message_id, "retry": retry, "max_retries": max_retries,
            "code": code, "retry_in_ms": retry_in_ms}


def message_ended(message: dict) -> Event:
    """The event that tells sockets a reply has ended, with its final text (``message``: serialized)."""
    # Every end carries the reply's figures (tokens, cost, timings): a stopped or failed reply shows them at once.
    common = {"message_id": message["id"], "content": message["content"], "content_html": message["content_html"],
              "seq": message["seq"], "usage": message["usage"], "ttft_ms": message["ttft_ms"],
              "duration_ms": message["duration_ms"]}
    if message["status"] == "complete":
        return {"type": MESSAGE_COMPLETED, **common, "finish_reason": message["finish_reason"]}
    if message["status"] == "error":
        return {"type": MESSAGE_ERROR, **common, "code": message["error_code"], "detail": message["error_detail"]}
    return {"type": MESSAGE_CANCELLED, **common}


def turn_voted(*, message_id: int, vote: dict | None) -> Event:
    """The vote on the turn of user message ``message_id`` was cast, changed or (``vote`` null) withdrawn."""
    return {"type": TURN_VOTED, "message_id": message_id, "vote": vote}


def conversation_updated(conversation: dict) -> Event:
    return {"type": CONVERSATION_UPDATED, "conversation": conversation}


def conversation_deleted(conversation_id: int) -> Event:
    return {"type": CONVERSATION_DELETED, "conversation_id": conversation_id}


def error(*, code: str, detail: str, retry_after: int | None = None) -> Event:
    """To one socket only. ``retry_after`` (seconds) comes with ``rate_limited`` and ``budget_exhausted``."""
    event = {"type": ERROR, "code": code, "detail": detail}
    if retry_after is not None:
        event["retry_after"] = retry_after
    return event


async def publish(conversation_id: int, events: list[Event]) -> None:
    """Send events to every socket on the conversation, in order, as one layer message."""
    if events:
        await get_channel_layer().group_send(
            conversation_group(conversation_id), {"type": LAYER_MESSAGE_TYPE, "events": events}
        )


async def publish_each(by_conversation: dict[int, list[Event]]) -> None:
    """``publish`` for several conversations at once: each its one layer message, in one Redis round trip.

    The Redis pub/sub layer (channels_redis 4.3, pinned) sends each ``group_send`` on its own round trip
    under a lock per shard: a flush of 50 conversations cost 50 round trips one after the other, five
    times the CPU of these 50 PUBLISH commands pipelined (``python -m benchmarks chunks``). The layer's
    own names for the group channels, shards and messages are used, so subscribers cannot tell the
    difference. Any other layer (the in-memory one of the embedded default) gets one ``group_send`` each.
    """
    layer = get_channel_layer()
    if not isinstance(layer, RedisPubSubChannelLayer):
        await asyncio.gather(*(publish(cid, events) for cid, events in by_conversation.items() if events))
        return
    shard_layer = layer._get_layer()  # this loop's
    by_shard: dict[Any, list[tuple[str, bytes]]] = {}
    for cid, events in by_conversation.items():
        if events:
            channel = shard_layer._get_group_channel_name(conversation_group(cid))
            message = layer.serialize({"type": LAYER_MESSAGE_TYPE, "events": events})
            by_shard.setdefault(shard_layer._get_shard(channel), []).append((channel, message))
    for shard, messages in by_shard.items():
        async with shard._lock:  # as the shard's own publish
            shard._ensure_redis()
            pipe = shard._redis.pipeline(transaction=False)
            for channel, message in messages:
                pipe.publish(channel, message)
            await pipe.execute()


def publish_on_commit(conversation_id: int, events: list[Event]) -> None:
    """Publish ``events`` once the current transaction commits (at once outside of one).

    Robust: an event the layer cannot take is logged and lost (sockets repair by resync), but it
    never turns a stored write into a 500 nor keeps the next on-commit callbacks (starting the
    replies) from running.
    """
    transaction.on_commit(lambda: publish_from_sync(conversation_id, events), robust=True)


def publish_from_sync(conversation_id: int, events: list[Event]) -> None:
    """``publish`` for synchronous code (services' ``on_commit`` callbacks).

    Under the ASGI server the publish is handed to the server's loop and not waited for: the caller
    is a request's thread that still holds its pooled database connection, and waiting for a busy
    loop kept it checked out (waits near a second were seen under a burst of sends). The loop
    starts the publishes in the order they were handed over. Elsewhere (the test client, a
    management command, a worker's sweep) the caller waits, as before.
    """
    loop = server_loop()
    if loop is None:
        async_to_sync(publish)(conversation_id, events)
        return
    future = asyncio.run_coroutine_threadsafe(publish(conversation_id, events), loop)
    future.add_done_callback(functools.partial(_report_failed_publish, conversation_id))


def _report_failed_publish(conversation_id: int, future) -> None:
    # As a robust on_commit callback's failure was: logged, the events lost (sockets repair by resync).
    failure = None if future.cancelled() else future.exception()
    if failure is not None:
        logger.error("publishing to conversation %s failed", conversation_id, exc_info=failure)
