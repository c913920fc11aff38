"""Writes made for operators and for accounts: stop replies in bulk, end a stuck one.

The Django admin, the ops page and the account signals (chat/signals.py) call these.
"""

from __future__ import annotations

from chat.errors import ChatConflict, ChatError, ChatNotFound
from chat.models import ACTIVE_STATUSES, Conversation, Message, Role

from .replies import orphans_end, stale_cutoff, streaming_replies_stop
from .turns import reply_cancel


def conversation_cancel_replies(*, conversation: Conversation) -> list[Message]:
    """Stop every reply still generating in the conversation; the replies asked to stop.

    A reply that ended meanwhile is skipped. Raises ``ChatUnavailable`` (503) when the stream
    service cannot be reached to stop a streaming one.
    """
    return _cancel_each(conversation.messages.filter(role=Role.ASSISTANT, status__in=ACTIVE_STATUSES))


def user_replies_cancel(*, user_id: int) -> list[Message]:
    """Stop every reply still generating in the user's conversations (an account being deactivated).

    Each is tried; a reply that ended meanwhile is skipped. Raises ``ChatUnavailable`` (503) after
    the others when the stream service cannot be reached to stop a streaming one.
    """
    return _cancel_each(Message.objects.filter(conversation__owner_id=user_id, role=Role.ASSISTANT,
                                               status__in=ACTIVE_STATUSES))


def user_streaming_replies_stop(*, user_id: int) -> None:
    """Ask the user's streaming replies to stop: the user and their rows are about to be deleted."""
    streaming_replies_stop(messages=Message.objects.filter(conversation__owner_id=user_id), whose=f"user {user_id}")


def _cancel_each(replies) -> list[Message]:
    stopped, unreachable = [], None
    for reply in replies.order_by("id"):
        try:
            stopped.append(reply_cancel(reply=reply))
        except ChatConflict:
            continue  # ended meanwhile
        except ChatError as exc:
            unreachable = unreachable or exc
    if unreachable is not None:
        raise unreachable
    return stopped


def reply_end_stuck(*, reply_id: int, stale_seconds: int | None = None) -> Message:
    """End one stuck reply now, as the sweep would (an operator's button on the ops page).

    Only a reply that has not checkpointed for ``WEBOX_REPLY_STALE_SECONDS`` counts as stuck: a
    live stream is stopped with ``reply_cancel`` instead, which its worker honours.
    """
    cutoff = stale_cutoff(stale_seconds)
    reply = Message.objects.filter(pk=reply_id, role=Role.ASSISTANT).first()
    if reply is None:
        raise ChatNotFound("No such reply.")
    if reply.status not in ACTIVE_STATUSES or reply.updated_at >= cutoff:
        raise ChatConflict("This reply is not stuck.")
    ended = orphans_end([reply], cutoff)
    if not ended:
        raise ChatConflict("This reply is not stuck.")
    return ended[0]
