"""A reply's writes as the streaming engine makes them: claim, checkpoint, end; and the orphan sweep.

Called from database threads (``chat.streaming.db_threads``). Each claim and end is one
conditional UPDATE, so a reply never runs twice and never ends twice; its usage is counted once,
by the caller whose UPDATE ended it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chat import events, limits
from chat.models import ACTIVE_STATUSES, Message, ReplyStatus
from chat.providers import ErrorCode, ProviderConfig, StreamResult, get_provider_config
from chat.serializers import message_data
from chat.stream_store import StreamStoreUnavailable, stream_store
from chat.usage.models import ModelPrice
from chat.usage.pricing import LOOK_UP
from chat.usage.services import usage_fields
from webox.database import retry_while_busy

from .claimed import claimed_reply
from .reply_writes import checkpoint_streaming, update_reply_if

logger = logging.getLogger(__name__)

ORPHANED_DETAIL = "The reply stopped making progress (its worker stopped or lost its connection)."


def reply_start(*, reply_id: int) -> Message | None:
    """Claim a pending reply for generation. Only one caller can ever win, so no reply runs twice."""
    now = timezone.now()
    # A burst that keeps the database busy delays the claim; it must not drop the reply.
    claimed = retry_while_busy(lambda: update_reply_if(
        reply_id, (ReplyStatus.PENDING,),
        status=ReplyStatus.STREAMING, started_at=now, updated_at=now, stream_id=uuid.uuid4().hex,
    ))
    if not claimed:
        return None
    # Still on the claim's connection: this read meets neither a pool timeout nor (WAL) the write lock.
    # None when its conversation was deleted right after the claim: nothing was asked, nothing runs.
    # It also reads the versions of its provider's record and prices (their configs are read once a
    # version: provider_config_at, override_at, not once a reply), and whether its question has files.
    return claimed_reply(reply_id)


def _one(rows):
    """The row of a query by primary key, or None: without ``first()``'s ordering, which by the model's
    default order was a sixth of the CPU of compiling the statement."""
    return next(iter(rows.order_by()[:1]), None)


def replies_checkpoint(*, checkpoints: list[tuple[int, str, int]]) -> list[int]:
    """Store the text so far of streaming replies; also the heartbeat the orphan sweep reads.

    Returns the ids among them that are no longer streaming — ended by someone else (the sweep, an
    operator) or deleted with their conversation — whose streams should stop.
    """
    if not checkpoints:
        return []
    ids = [reply_id for reply_id, _, _ in checkpoints]
    # One statement for all of them; replies that have ended meanwhile are left alone.
    written = checkpoint_streaming(checkpoints, timezone.now())
    if written == len(ids):
        return []
    streaming = set(Message.objects.filter(pk__in=ids, status=ReplyStatus.STREAMING).values_list("pk", flat=True))
    return [reply_id for reply_id in ids if reply_id not in streaming]


def _finish(reply_id: int, status: str, *, asked: bool, config: ProviderConfig | None,
            claimed: Message | None = None, prompt_tokens: int | None = None, completion_tokens: int | None = None,
            override: ModelPrice | None | object = LOOK_UP, **fields) -> Message | None:
    # Every reply that asked its provider records usage and cost, however it ended. They are
    # worked out before the one conditional UPDATE, so no row lock is held across statements.
    # Each statement waits out a busy database on its own (webox.database.retry_while_busy): a
    # reply's end is not lost to a burst, and none of them is applied twice.
    if claimed is not None:
        # The engine's copy, read when it claimed the reply: what has changed since (its text, seq and
        # timings) is in ``fields``, and the conditional UPDATE below says whether it is still active. Read
        # again, it cost a statement and most of the CPU of an end.
        reply = claimed
    else:
        reply = retry_while_busy(lambda: _one(Message.objects.filter(pk=reply_id, status__in=ACTIVE_STATUSES)
                                              .select_related("conversation", "reply_to")))
        if reply is None:
            return None
    for name, value in fields.items():
        setattr(reply, name, value)
    if config is None:
        config = get_provider_config(reply.provider)
    usage = usage_fields(reply=reply, asked=asked, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                         config=config, override=override)
    now = timezone.now()
    ended = retry_while_busy(lambda: update_reply_if(
        reply_id, ACTIVE_STATUSES, status=status, completed_at=now, updated_at=now, **fields, **usage
    ))
    if not ended:
        if _deleted(reply_id):
            _charge_deleted(reply, usage)
        return None
    # The row now holds exactly what was just written (``fields`` are set above): no need to read it back.
    for name, value in {"status": status, "completed_at": now, "updated_at": now, **usage}.items():
        setattr(reply, name, value)
    # Counted once, by the one caller whose UPDATE ended the reply; kept if the conversation goes.
    retry_while_busy(lambda: limits.record_usage(reply=reply))
    return reply


def _deleted(reply_id: int) -> bool:
    return not retry_while_busy(lambda: Message.objects.filter(pk=reply_id).exists())


def _charge_deleted(reply: Message, usage: dict) -> None:
    """Add the usage of a reply whose row was deleted while it ran to its owner's month.

    The budget must not depend on the rows surviving: what a reply spent is spent. A reply ended
    by the sweep or an operator and deleted before its engine finished is counted twice (the
    estimate, then this): rare, and on the budget's side.
    """
    for name, value in usage.items():
        setattr(reply, name, value)
    try:
        with transaction.atomic():
            retry_while_busy(lambda: limits.record_usage(reply=reply))
    except IntegrityError:
        pass  # its owner was deleted too: there is no budget left to charge


# ``config`` below: the reply's provider as the engine read it when the reply started (its price is
# looked up from it); None when the caller does not have it, and it is looked up by name.
# ``claimed``: the reply as the engine claimed it; its usage is charged from it if its row is deleted
# before it ends. ``override``: the operator's price for it as the engine read it (``pricing.override_at``);
# not given, it is looked up.

def reply_complete(*, reply_id: int, content: str, seq: int, result: StreamResult,
                   config: ProviderConfig | None = None, claimed: Message | None = None,
                   override: ModelPrice | None | object = LOOK_UP) -> Message | None:
    return _finish(
        reply_id, ReplyStatus.COMPLETE, asked=True, config=config, claimed=claimed, override=override,
        content=content, seq=seq,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens, ttft_ms=result.ttft_ms, duration_ms=result.duration_ms,
        finish_reason=result.finish_reason or "",
    )


def reply_fail(*, reply_id: int, content: str, seq: int, code: str, detail: str, ttft_ms: int | None,
               duration_ms: int | None, prompt_tokens: int | None = None, completion_tokens: int | None = None,
               config: ProviderConfig | None = None, claimed: Message | None = None,
               override: ModelPrice | None | object = LOOK_UP) -> Message | None:
    # No duration: the provider was never asked (unknown provider, a failure before the request).
    return _finish(reply_id, ReplyStatus.ERROR, asked=duration_ms is not None, config=config, claimed=claimed,
                   override=override,
                   content=content,
                   seq=seq,
                   error_code=str(code), error_detail=detail[:2000], ttft_ms=ttft_ms, duration_ms=duration_ms,
                   prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def reply_stop(*, reply_id: int, content: str, seq: int, ttft_ms: int | None, duration_ms: int | None,
               prompt_tokens: int | None = None, completion_tokens: int | None = None,
               config: ProviderConfig | None = None, claimed: Message | None = None,
               override: ModelPrice | None | object = LOOK_UP) -> Message | None:
    return _finish(reply_id, ReplyStatus.CANCELLED, asked=duration_ms is not None, config=config, claimed=claimed,
                   override=override,
                   content=content,
                   seq=seq,
                   ttft_ms=ttft_ms, duration_ms=duration_ms, finish_reason="cancelled",
                   prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def replies_end_interrupted(*, detail: str) -> list[Message]:
    """End every active reply at once as ``interrupted``, keeping its latest text.

    Only for the embedded runner, whose one server process owns every reply: when it stops, and
    when it starts again (what a previous process left behind), none of them can still be running.
    """
    candidates = list(Message.objects.filter(status__in=ACTIVE_STATUSES))
    return orphans_end(candidates, None, code=ErrorCode.INTERRUPTED, detail=detail)


def replies_sweep_orphans(*, stale_seconds: int | None = None) -> list[Message]:
    """End every reply whose stream stopped checkpointing: its worker died or lost its way.

    The partial text is kept (the stream store's, when it is newer than the last checkpoint).
    A reply the user asked to stop ends as cancelled; any other as an ``orphaned`` error.
    """
    cutoff = stale_cutoff(stale_seconds)
    candidates = list(Message.objects.filter(Q(status__in=ACTIVE_STATUSES), updated_at__lt=cutoff))
    return orphans_end(candidates, cutoff)


def stale_cutoff(stale_seconds: int | None = None):
    """Replies that have not checkpointed since this moment count as stuck."""
    stale = stale_seconds if stale_seconds is not None else settings.WEBOX_REPLY_STALE_SECONDS
    return timezone.now() - timedelta(seconds=stale)


def orphans_end(candidates: list[Message], cutoff, *, code: str = ErrorCode.ORPHANED,
                detail: str = ORPHANED_DETAIL) -> list[Message]:
    """End each of ``candidates`` still active and stale at ``cutoff`` (None: however recent), keeping its
    latest text, as an error with ``code`` and ``detail`` (or cancelled, when its user asked to stop)."""
    if not candidates:
        return []
    store = stream_store()
    keys = [m.stream_key for m in candidates if m.stream_key]
    states = store.read_sync(keys)
    cancelled = store.cancel_requested(keys)
    ended = []
    for message in candidates:
        # Each reply on its own: one that cannot be ended (a bad row, a price lookup that fails) is
        # logged and left for the next sweep, and the others still end.
        try:
            if _orphan_end(message, cutoff, state=states.get(message.stream_key) if message.stream_key else None,
                           cancelled=message.stream_key in cancelled, code=code, detail=detail):
                ended.append(message)
        except Exception:
            logger.exception("could not end stale reply %s", message.pk)
    return ended


def _orphan_end(message: Message, cutoff, *, state, cancelled: bool, code: str, detail: str) -> bool:
    content, seq = (state.text, state.seq) if state and state.seq >= message.seq else (message.content, message.seq)
    message.content = content
    # A claimed reply had asked its provider: its usage is estimated from what streamed.
    asked = message.started_at is not None
    usage = usage_fields(reply=message, asked=asked,
                         config=get_provider_config(message.provider) if asked else None)
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status__in=ACTIVE_STATUSES)
        if cutoff is not None:
            updated = updated.filter(updated_at__lt=cutoff)
        fields = {"content": content, "seq": seq, "completed_at": timezone.now(), "updated_at": timezone.now(),
                  **usage}
        if cancelled:
            count = updated.update(status=ReplyStatus.CANCELLED, finish_reason="cancelled", **fields)
        else:
            count = updated.update(status=ReplyStatus.ERROR, error_code=code, error_detail=detail, **fields)
        if not count:
            return False
        message.refresh_from_db()
        # An orphan's (estimated) usage counts against its owner's budget like any ended reply's.
        limits.record_usage(reply=message)
        events.publish_on_commit(message.conversation_id, [events.message_ended(message_data(message))])
    return True


def streaming_replies_stop(*, messages, whose: str) -> None:
    """Raise the stop flag of every streaming reply among ``messages``, whose rows are about to go.

    Pending replies need no flag: their rows go, so no worker can claim them. Without the stream
    service the deletion still goes ahead: the replies' final writes then find no row.
    """
    keys = [m.stream_key for m in messages.filter(status=ReplyStatus.STREAMING).only("pk", "stream_id")
            if m.stream_key]
    try:
        stream_store().request_cancel(keys)
    except StreamStoreUnavailable:
        logger.warning("could not signal %d replies of %s to stop", len(keys), whose)
