"""What a socket is sent when it joins or repairs a gap: the replies' text so far and their pending retries.

The stream state in Redis (chat.stream_store) is ahead of the last database checkpoint while a reply
streams; a snapshot takes whichever is newer, so a joining socket continues exactly where the live
deltas are.
"""

from __future__ import annotations

import time

from chat import events
from chat.models import ACTIVE_STATUSES, Message
from chat.serializers import message_data
from chat.stream_store import stream_store

from .join_reads import active_replies


def snapshot_replies(conversation_id: int, only: list[int] | None = None) -> tuple[list[dict], list[dict]]:
    """Replies with their text so far (the stream state's when it is ahead of the last checkpoint),
    and the latest ``message.retrying`` of each active one still without text."""
    if only is None:
        replies = active_replies(conversation_id=conversation_id)
    else:
        replies = list(Message.objects.filter(pk__in=only, conversation_id=conversation_id))
    # By stream key: state left by another reply with the same id (a restored database) is never read.
    states = stream_store().read_sync([reply.stream_key for reply in replies if reply.stream_key])
    data = []
    waiting: dict[str, int] = {}
    for reply in replies:
        state = states.get(reply.stream_key) if reply.stream_key else None
        if state is not None and state.seq >= reply.seq:
            # Before serializing: the rendered prefix (rendered_html) is worked out from this text.
            reply.content, reply.seq = state.text, state.seq
        item = message_data(reply)
        data.append(item)
        if reply.stream_key and reply.status in ACTIVE_STATUSES and not item["seq"]:
            waiting[reply.stream_key] = reply.pk
    return data, retries_replayed(waiting)


def retries_replayed(waiting: dict[str, int]) -> list[dict]:
    """The stored latest retry of these replies (stream key -> id), its wait counted from now."""
    now = time.time()
    return [
        events.message_retrying(message_id=waiting[key], retry=retry["retry"], max_retries=retry["max_retries"],
                                code=retry["code"], retry_in_ms=max(0, round((retry["retry_at"] - now) * 1000)))
        for key, retry in stream_store().retries_sync(list(waiting)).items()
    ] if waiting else []
