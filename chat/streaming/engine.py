"""The one orchestration loop: generate one reply, from claim to final event.

Used the same way by both runners: the embedded default runs it on the server's event loop,
Celery workers on their process's long-lived loop (chat/streaming/runners.py). Steps: claim the reply
(so it never runs twice), build its context, stream from its provider, hand deltas to the
publisher (coalesced, recorded, published), then store the end — complete, error or cancelled,
always with the text so far — and publish that event once it is committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass

from django.conf import settings

from chat import events, services
from chat.attachments.models import Attachment
from chat.context import build_chat_request
from chat.models import Message
from chat.providers import (
    ChatRequest,
    ErrorCode,
    Pace,
    ProviderConfig,
    ProviderError,
    Retrying,
    StreamResult,
    TextDelta,
    build_provider,
    provider_config_at,
)
from chat.serializers import message_data
from chat.stream_store import stream_store
from chat.usage.models import ModelPrice
from chat.usage.pricing import override_at
from webox.logging_context import bind_reply

from .db_threads import in_db_thread
from .publisher import get_publisher

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    result: StreamResult | None = None
    failure: ProviderError | None = None
    # When the provider was asked: timings count from here, as a provider's own StreamResult does.
    asked_at: float | None = None
    first_token_at: float | None = None


@dataclass
class Prepared:
    """A claimed reply with what its provider call needs, or why it cannot be made."""

    reply: Message
    config: ProviderConfig | None = None
    request: ChatRequest | None = None
    # The operator's price for it (chat/usage/pricing.py), as of the claim; None: the bundled table's.
    override: ModelPrice | None = None
    # Raised where the stream would have been, so it ends the reply as any stream's failure does.
    failure: Exception | None = None


def prepare_reply(reply_id: int) -> Prepared | None:
    """Claim the reply, then read its provider and build its context: one trip to a database thread.

    Three trips (each a thread hop and a pooled connection's check) were a third of the time
    between the task's arrival and the provider call. The claim's read says which version of its
    provider and prices applies; each version is read once per process (``provider_config_at``,
    ``override_at``), so a reply usually reads neither.
    """
    reply = services.reply_start(reply_id=reply_id)
    if reply is None:
        return None  # already claimed, cancelled or deleted
    prepared = Prepared(reply)
    try:
        prepared.override = override_at(reply.provider, reply.model, (reply.price_model_at, reply.price_any_at))
        prepared.config = provider_config_at(reply.provider, reply.provider_at)
        if prepared.config is None:
            raise ProviderError(ErrorCode.PROVIDER_UNKNOWN, f"The provider {reply.provider!r} is not configured.")
        if not prepared.config.allows(reply.model):  # e.g. a regenerated reply of a model since disallowed
            raise ProviderError(ErrorCode.MODEL_NOT_ALLOWED,
                                f"The model {reply.model!r} is not allowed for {reply.provider}.")
        prepared.request = build_chat_request(reply, context_tokens=prepared.config.context_tokens,
                                              question_attachments=None if reply.question_has_files else ())
    except Exception as exc:  # claimed already: the reply must still end, not wait for the sweep
        prepared.failure = exc
    return prepared


async def generate_reply(reply_id: int) -> None:
    prepared = await in_db_thread(prepare_reply)(reply_id)
    if prepared is None:
        return
    reply = prepared.reply
    bind_reply(reply=reply.pk, conversation=reply.conversation_id)
    publisher = get_publisher()
    stream = publisher.open(reply_id=reply.pk, conversation_id=reply.conversation_id, key=reply.stream_key)
    outcome = Outcome()
    try:
        if prepared.failure is not None:
            raise prepared.failure
        await stream_from_provider(prepared, stream, outcome, pace=publisher.pace(stream))
    except ProviderError as exc:
        outcome.failure = exc
    except asyncio.CancelledError:
        if not stream.cancel_requested:
            await _end_abandoned(publisher, stream)
            raise
        asyncio.current_task().uncancel()
    except Exception:
        logger.exception("reply %s failed unexpectedly", reply_id)
        outcome.failure = ProviderError(ErrorCode.UPSTREAM_ERROR, "webox hit an unexpected error while streaming.")
    final_deltas = await publisher.close(stream)
    await end_reply(reply, stream, outcome, final_deltas, config=prepared.config, override=prepared.override)


async def stream_from_provider(prepared: Prepared, stream, outcome: Outcome, *, pace: Pace | None = None) -> None:
    """Ask the reply's provider and hand every piece of text to the publisher; ``pace``: how the provider reads
    its body once text has come (``Publisher.pace``).

    A reply has a total deadline and a size cap (``WEBOX_REPLY_DEADLINE_SECONDS``,
    ``WEBOX_REPLY_MAX_CHARS``): a provider that trickles text forever would otherwise hold the
    reply, its place under the user's active-reply cap and its cost open. Past either, the stream
    is closed and the reply ends as an error with the text so far.
    """
    outcome.asked_at = time.monotonic()
    deadline, max_chars = settings.WEBOX_REPLY_DEADLINE_SECONDS, settings.WEBOX_REPLY_MAX_CHARS
    chars = 0
    try:
        async with asyncio.timeout(deadline or None) as timer, \
                aclosing(build_provider(prepared.config).stream(prepared.request, pace=pace)) as items:
            async for item in items:
                if isinstance(item, TextDelta):
                    if outcome.first_token_at is None:
                        outcome.first_token_at = time.monotonic()
                    if max_chars and chars + len(item.text) > max_chars:
                        stream.append(item.text[:max_chars - chars])
                        raise ProviderError(ErrorCode.TOO_LONG,
                                            f"The reply reached the limit of {max_chars} characters.")
                    chars += len(item.text)
                    stream.append(item.text)
                elif isinstance(item, Retrying):
                    await announce_retry(prepared.reply, item)
                else:
                    outcome.result = item
    except TimeoutError:
        if not timer.expired():
            raise
        raise ProviderError(ErrorCode.DEADLINE_EXCEEDED,
                            f"The reply took longer than the limit of {deadline:g} seconds.") from None
    if outcome.result is None:
        raise ProviderError(ErrorCode.CONNECTION_LOST, "The provider's stream ended without finishing.")


async def announce_retry(reply, retrying: Retrying) -> None:
    """Tell the sockets the provider is being asked again, before the wait rather than after it.

    Retries happen before the first text, so no delta of this reply can be overtaken. The stream
    store keeps the latest one for a socket that joins during the wait (snapshots.snapshot_replies).
    """
    retry = {"retry": retrying.retry, "max_retries": retrying.max_retries, "code": str(retrying.code)}
    event = events.message_retrying(message_id=reply.pk, **retry, retry_in_ms=round(retrying.delay * 1000))
    try:
        await stream_store().record_retry(reply.stream_key, {**retry, "retry_at": time.time() + retrying.delay})
        await events.publish(reply.conversation_id, [event])
    except Exception:
        # Only a courtesy: the retry goes ahead, and the reply's later events still tell the story.
        logger.exception("could not announce retry %d of reply %s", retrying.retry, reply.pk)


async def end_reply(reply, stream, outcome: Outcome, final_deltas: list[dict], *,
                    config: ProviderConfig | None, override: ModelPrice | None) -> None:
    """Store how the reply ended, with its whole text, then tell the sockets.

    ``config``: the reply's provider as read when it started (its price is looked up from it);
    None when it is not configured. ``override``: the operator's price for it as read when it started.
    """
    asked_at = outcome.asked_at
    ttft_ms = None if outcome.first_token_at is None else int((outcome.first_token_at - asked_at) * 1000)
    duration_ms = None if asked_at is None else int((time.monotonic() - asked_at) * 1000)
    common = {"reply_id": reply.pk, "content": stream.text, "seq": stream.final_seq, "config": config, "claimed": reply,
              "override": override}
    # The provider's counts whenever it sent them; the services estimate the rest (chat/usage).
    counts = {} if outcome.result is None else {
        "prompt_tokens": outcome.result.prompt_tokens, "completion_tokens": outcome.result.completion_tokens}
    if stream.cancel_requested:
        end, fields = services.reply_stop, {"ttft_ms": ttft_ms, "duration_ms": duration_ms, **counts}
    elif outcome.failure is not None:
        end, fields = services.reply_fail, {"code": outcome.failure.code, "detail": outcome.failure.detail,
                                            "ttft_ms": ttft_ms, "duration_ms": duration_ms, **counts}
    else:
        end, fields = services.reply_complete, {"result": outcome.result}
    ended, data = await in_db_thread(_ended)(end, **common, **fields)
    if ended is not None:
        logger.info("reply %s ended %s", ended.pk, ended.status, extra={
            "status": ended.status, "provider": ended.provider, "model": ended.model,
            "error_code": ended.error_code, "ttft_ms": ended.ttft_ms, "duration_ms": ended.duration_ms})
    # The last deltas travel with the final event: one layer message for the end of a reply.
    ending = [events.message_ended(data)] if ended is not None else []
    try:
        await events.publish(reply.conversation_id, final_deltas + ending)
        await stream_store().forget(reply.stream_key)
    except Exception:
        # Stored already; sockets that missed the end find it on their next snapshot or fetch.
        logger.exception("could not publish the end of reply %s", reply.pk)


def _ended(end, **fields):
    """``end(**fields)`` and the ended reply's data for its event, in one database thread trip."""
    ended = end(**fields)
    if ended is None:
        return None, None
    # Files belong to user messages (chat/attachments): the event's empty list needs no query, nor the
    # compiling of one (an empty queryset not yet read compiles its SQL: a third of the end's CPU).
    none = Attachment.objects.none()
    none._result_cache, none._prefetch_done = [], True  # as Django's prefetch leaves a queryset
    ended._prefetched_objects_cache = {"attachments": none}
    return ended, message_data(ended)


async def _end_abandoned(publisher, stream) -> None:
    """The loop is shutting down under us: publish what we have; the sweep will end the reply."""
    try:
        final_deltas = await asyncio.shield(publisher.close(stream))
        await asyncio.shield(events.publish(stream.conversation_id, final_deltas))
    except Exception:
        logger.exception("could not flush reply %s while shutting down", stream.reply_id)
