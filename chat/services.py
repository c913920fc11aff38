"""Every write to conversations and messages. Views, consumers, tasks and the engine call these."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, PositiveIntegerField, Q, TextField, Value, When
from django.utils import timezone

from webox.database import retry_while_busy

from . import dispatch, limits
from .models import ACTIVE_STATUSES, ContextMode, Conversation, Message, ReplyStatus, Role
from .providers import ErrorCode, StreamResult, provider_configs
from .rendering import markdown_to_plain
from .serializers import conversation_data, message_data
from .usage.services import usage_fields

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 100_000
MAX_PROVIDERS_PER_TURN = 8
TITLE_CHARS = 60


class ChatInputError(Exception):
    """Bad input from a user: the message is safe to show them. ``status`` is the HTTP status.

    ``code`` names the error in socket ``error`` frames; ``retry_after`` (seconds) becomes the
    ``Retry-After`` header of a 429.
    """

    def __init__(self, detail: str, *, field: str | None = None, status: int = 400, code: str = "invalid",
                 retry_after: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @classmethod
    def from_limit(cls, exc: limits.LimitReached) -> ChatInputError:
        return cls(exc.detail, status=429, code=exc.code, retry_after=exc.retry_after)


def clean_text(value: str, *, field: str) -> str:
    """Text as every database stores it: no NUL (PostgreSQL cannot) and no unpaired surrogate.

    One rule on SQLite and PostgreSQL alike: such text is refused, never stored altered.
    """
    if "\x00" in value:
        raise ChatInputError(f"{field} cannot contain NUL characters.", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ChatInputError(f"{field} holds an unpaired surrogate, which is not text.", field=field) from None
    return value


def _check_limits(user, new_replies: int) -> None:
    """The user's cap on active replies and monthly budget; call in the storing transaction."""
    try:
        limits.check_new_replies(user, new_replies, limits.lock_user_and_read_limits(user))
    except limits.LimitReached as exc:
        raise ChatInputError.from_limit(exc) from None


@dataclass(frozen=True)
class SendResult:
    conversation: Conversation
    user_message: Message
    replies: list[Message]
    conversation_created: bool


def title_from_message(text: str) -> str:
    """A conversation's automatic title: the start of its first message as plain text (no Markdown marks).

    A message that is nothing but marks (``---``) keeps its own characters.
    """
    words = markdown_to_plain(text) or " ".join(text.split())
    if len(words) <= TITLE_CHARS:
        return words
    cut = words[:TITLE_CHARS].rsplit(" ", 1)[0] or words[:TITLE_CHARS]
    return cut + "…"


def _clean_number(value, *, field: str, kind: type, low, high):
    if value is None or value == "":
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ChatInputError(f"{field} must be a number.", field=field) from None
    if isinstance(value, bool) or not (low <= number <= high):
        raise ChatInputError(f"{field} must be between {low} and {high}.", field=field)
    return number


MAX_SYSTEM_PROMPT_CHARS = 20_000


def _clean_parameters(params: dict | None, *, field: str, per_column: bool = False) -> dict:
    """temperature and max_tokens; with ``per_column``, also a column's own ``system_prompt``."""
    params = params or {}
    if not isinstance(params, dict):
        raise ChatInputError(f"{field} must be an object.", field=field)
    prompt = params.get("system_prompt") if per_column else None
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > MAX_SYSTEM_PROMPT_CHARS):
        raise ChatInputError(f"{field}.system_prompt must be text of at most {MAX_SYSTEM_PROMPT_CHARS} characters.",
                             field=field)
    cleaned = {
        "temperature": _clean_number(params.get("temperature"), field=f"{field}.temperature", kind=float,
                                     low=0.0, high=2.0),
        "max_tokens": _clean_number(params.get("max_tokens"), field=f"{field}.max_tokens", kind=int,
                                    low=1, high=200_000),
        "system_prompt": prompt.strip() if prompt else None,
    }
    return {key: value for key, value in cleaned.items() if value not in (None, "")}


def _resolve_targets(selected_providers, selected_models) -> list[tuple[str, str]]:
    if not isinstance(selected_providers, list) or not selected_providers:
        raise ChatInputError("Pick at least one provider.", field="selected_providers")
    if len(selected_providers) > MAX_PROVIDERS_PER_TURN:
        raise ChatInputError(f"Pick at most {MAX_PROVIDERS_PER_TURN} providers.", field="selected_providers")
    if len(set(map(str, selected_providers))) != len(selected_providers):
        raise ChatInputError("A provider is picked twice.", field="selected_providers")
    selected_models = selected_models or {}
    if not isinstance(selected_models, dict):
        raise ChatInputError("selected_models must be an object.", field="selected_models")
    configs = {config.name: config for config in provider_configs()}
    targets = []
    for name in selected_providers:
        config = configs.get(name) if isinstance(name, str) else None
        if config is None:
            raise ChatInputError(f"Unknown provider {str(name)[:100]!r}.", field="selected_providers")
        model = selected_models.get(name) or config.default_model or (config.models[0] if config.models else "")
        if not isinstance(model, str) or not model.strip() or len(model) > 200:
            raise ChatInputError(f"Pick a model for {name}.", field="selected_models")
        targets.append((name, model.strip()))
    return targets


def _after_commit_publish(conversation_id: int, event_list: list[dict]) -> None:
    # robust: an event the layer cannot take is logged and lost (sockets repair by resync), but it never
    # turns a stored write into a 500 nor keeps the next callbacks (starting the replies) from running.
    transaction.on_commit(lambda: dispatch.events.publish_from_sync(conversation_id, event_list), robust=True)


def _touch(conversation: Conversation) -> None:
    conversation.save(update_fields=["updated_at"])


def _clean_default_providers(names) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ChatInputError("default_providers must be a list of provider names.", field="default_providers")
    known = {config.name for config in provider_configs()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ChatInputError(f"Unknown provider {unknown[0][:100]!r}.", field="default_providers")
    return list(dict.fromkeys(names))


def _clean_default_params(params) -> dict:
    """``{temperature, max_tokens, provider_params: {provider: {temperature, max_tokens, system_prompt}}}``."""
    if not isinstance(params, dict):
        raise ChatInputError("default_params must be an object.", field="default_params")
    unknown = set(params) - {"temperature", "max_tokens", "provider_params"}
    if unknown:
        raise ChatInputError(f"default_params cannot hold {sorted(unknown)[0]!r}.", field="default_params")
    cleaned = _clean_parameters(params, field="default_params")
    per_provider = params.get("provider_params") or {}
    if not isinstance(per_provider, dict):
        raise ChatInputError("default_params.provider_params must be an object.", field="default_params")
    if per_provider:
        cleaned["provider_params"] = {
            str(name)[:100]: _clean_parameters(values, field=f"default_params.provider_params.{name}",
                                               per_column=True)
            for name, values in per_provider.items()
        }
    return cleaned


def _clean_defaults(fields: dict) -> dict:
    if "default_providers" in fields:
        fields["default_providers"] = _clean_default_providers(fields["default_providers"])
    if "default_params" in fields:
        fields["default_params"] = _clean_default_params(fields["default_params"])
    return fields


def conversation_create(*, owner, title: str = "", system_prompt: str = "", default_providers=None,
                        default_models=None, default_params=None, context_mode: str = ContextMode.OWN,
                        archived: bool = False) -> Conversation:
    defaults = _clean_defaults({"default_providers": default_providers or [], "default_params": default_params or {}})
    clean_text(title, field="title")
    clean_text(system_prompt, field="system_prompt")
    return Conversation.objects.create(
        owner=owner, title=title.strip()[:200], system_prompt=system_prompt, default_models=default_models or {},
        context_mode=context_mode, archived=archived, **defaults,
    )


def conversation_update(*, conversation: Conversation, **fields) -> Conversation:
    allowed = {"title", "system_prompt", "archived", "default_providers", "default_models", "default_params",
               "context_mode", "metadata"}
    unknown = set(fields) - allowed
    if unknown:
        raise ChatInputError(f"Cannot change {', '.join(sorted(unknown))}.")
    _clean_defaults(fields)
    for name in ("title", "system_prompt"):
        if isinstance(fields.get(name), str):
            clean_text(fields[name], field=name)
    for name, value in fields.items():
        setattr(conversation, name, value.strip()[:200] if name == "title" else value)
    with transaction.atomic():
        conversation.save(update_fields=[*fields, "updated_at"])
        data = conversation_data(conversation)
        _after_commit_publish(conversation.pk, [dispatch.events.conversation_updated(data)])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete it, stopping every reply still generating in it."""
    _stop_streaming(conversation.messages.all(), f"conversation {conversation.pk}")
    conversation_id = conversation.pk
    with transaction.atomic():
        conversation.delete()
        _after_commit_publish(conversation_id, [dispatch.events.conversation_deleted(conversation_id)])


def message_send(*, user, conversation: Conversation | None, message: str, selected_providers,
                 selected_models=None, temperature=None, max_tokens=None, system_prompt: str | None = None,
                 provider_params=None) -> SendResult:
    """Store the user's message and one pending reply per provider, then start generating them."""
    try:
        limits.check_send_rate(user)
    except limits.LimitReached as exc:
        raise ChatInputError.from_limit(exc) from None
    if not isinstance(message, str) or not message.strip():
        raise ChatInputError("Write a message first.", field="message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatInputError(f"A message holds at most {MAX_MESSAGE_CHARS} characters.", field="message")
    clean_text(message, field="message")
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise ChatInputError("system_prompt must be text.", field="system_prompt")
    if system_prompt is not None:
        clean_text(system_prompt, field="system_prompt")
    targets = _resolve_targets(selected_providers, selected_models)
    shared = _clean_parameters({"temperature": temperature, "max_tokens": max_tokens}, field="parameters")
    if provider_params is not None and not isinstance(provider_params, dict):
        raise ChatInputError("provider_params must be an object.", field="provider_params")
    per_provider = {
        name: {**shared, **_clean_parameters((provider_params or {}).get(name), field=f"provider_params.{name}",
                                             per_column=True)}
        for name, _ in targets
    }

    with transaction.atomic():
        _check_limits(user, len(targets))
        created = conversation is None
        if created:
            conversation = conversation_create(owner=user, title=title_from_message(message))
        changed = []
        if system_prompt is not None and system_prompt != conversation.system_prompt:
            conversation.system_prompt = system_prompt
            changed.append("system_prompt")
        if not conversation.title:
            conversation.title = title_from_message(message)
            changed.append("title")
        if not created or changed:  # a conversation made just now has its updated_at already
            conversation.save(update_fields=[*changed, "updated_at"])
        user_message = Message.objects.create(conversation=conversation, role=Role.USER, content=message)
        replies = [
            Message.objects.create(
                conversation=conversation, role=Role.ASSISTANT, provider=name, model=model, reply_to=user_message,
                status=ReplyStatus.PENDING, parameters=per_provider[name],
            )
            for name, model in targets
        ]
        event_list = []
        if created or changed:
            event_list.append(dispatch.events.conversation_updated(conversation_data(conversation)))
        event_list += [dispatch.events.message_created(message_data(m)) for m in [user_message, *replies]]
        reply_ids = [reply.pk for reply in replies]
        # The replies start first: their provider calls need not wait for this publish. A socket that
        # gets a reply's text before its message.created fetches the reply (chat/static/chat/main.js).
        transaction.on_commit(lambda: dispatch.start_replies(reply_ids))
        _after_commit_publish(conversation.pk, event_list)
    return SendResult(conversation, user_message, replies, created)


def reply_regenerate(*, reply: Message) -> Message:
    """A new reply from the same provider and model to the same user message."""
    if reply.role != Role.ASSISTANT:
        raise ChatInputError("Only an assistant reply can be regenerated.")
    owner = reply.conversation.owner
    try:
        limits.check_send_rate(owner)
    except limits.LimitReached as exc:
        raise ChatInputError.from_limit(exc) from None
    with transaction.atomic():
        _check_limits(owner, 1)
        new_reply = Message.objects.create(
            conversation=reply.conversation, role=Role.ASSISTANT, provider=reply.provider, model=reply.model,
            reply_to=reply.reply_to, status=ReplyStatus.PENDING, parameters=reply.parameters,
        )
        _touch(reply.conversation)
        transaction.on_commit(lambda: dispatch.start_replies([new_reply.pk]))
        _after_commit_publish(reply.conversation_id, [dispatch.events.message_created(message_data(new_reply))])
    return new_reply


def reply_cancel(*, reply: Message) -> Message:
    """Stop a reply. A pending one ends here; a streaming one is stopped by whichever worker runs it."""
    if reply.role != Role.ASSISTANT or reply.status not in ACTIVE_STATUSES:
        raise ChatInputError("This reply is not generating.", status=409)
    with transaction.atomic():
        stopped_before_start = Message.objects.filter(pk=reply.pk, status=ReplyStatus.PENDING).update(
            status=ReplyStatus.CANCELLED, completed_at=timezone.now(), updated_at=timezone.now()
        )
        reply.refresh_from_db()
        if stopped_before_start:
            _after_commit_publish(reply.conversation_id, [dispatch.events.message_ended(message_data(reply))])
    if not stopped_before_start and reply.stream_key:
        # Not pending any more, so claimed: the flag is named by this claim's stream key.
        try:
            dispatch.stream_store().request_cancel([reply.stream_key])
        except dispatch.StreamStoreUnavailable:
            raise ChatInputError("The reply cannot be stopped right now: the stream service is unreachable.",
                                 status=503) from None
    return reply


def reply_choose(*, reply: Message) -> Message:
    """Mark this reply as the chosen answer of its turn (and no other)."""
    if reply.role != Role.ASSISTANT or reply.status != ReplyStatus.COMPLETE:
        raise ChatInputError("Only a completed reply can be chosen.", status=409)
    with transaction.atomic():
        siblings = list(Message.objects.select_for_update().filter(reply_to_id=reply.reply_to_id, role=Role.ASSISTANT))
        changed = []
        for sibling in siblings:
            should = sibling.pk == reply.pk
            if sibling.chosen != should:
                sibling.chosen = should
                sibling.save(update_fields=["chosen", "updated_at"])
                changed.append(sibling)
        _after_commit_publish(reply.conversation_id,
                              [dispatch.events.message_updated(message_data(m)) for m in changed])
    reply.refresh_from_db()
    return reply


# --- The engine's writes (chat/engine.py calls these through sync_to_async) -------------------

def reply_start(*, reply_id: int) -> Message | None:
    """Claim a pending reply for generation. Only one caller can ever win, so no reply runs twice."""
    now = timezone.now()
    # A burst that keeps the database busy delays the claim; it must not drop the reply.
    claimed = retry_while_busy(lambda: Message.objects.filter(pk=reply_id, status=ReplyStatus.PENDING).update(
        status=ReplyStatus.STREAMING, started_at=now, updated_at=now, stream_id=uuid.uuid4().hex
    ))
    if not claimed:
        return None
    # Still on the claim's connection: this read meets neither a pool timeout nor (WAL) the write lock.
    return Message.objects.select_related("conversation", "reply_to").get(pk=reply_id)


def replies_checkpoint(*, checkpoints: list[tuple[int, str, int]]) -> None:
    """Store the text so far of streaming replies; also the heartbeat the orphan sweep reads."""
    if not checkpoints:
        return
    # One statement for all of them; replies that have ended meanwhile are left alone.
    Message.objects.filter(pk__in=[reply_id for reply_id, _, _ in checkpoints], status=ReplyStatus.STREAMING).update(
        content=Case(*(When(pk=reply_id, then=Value(content)) for reply_id, content, _ in checkpoints),
                     output_field=TextField()),
        seq=Case(*(When(pk=reply_id, then=Value(seq)) for reply_id, _, seq in checkpoints),
                 output_field=PositiveIntegerField()),
        updated_at=timezone.now(),
    )


def _finish(reply_id: int, status: str, *, asked: bool, prompt_tokens: int | None = None,
            completion_tokens: int | None = None, config=False, **fields) -> Message | None:
    # Every reply that asked its provider records usage and cost, however it ended. They are
    # worked out before the one conditional UPDATE, so no row lock is held across statements.
    # Each statement waits out a busy database on its own (webox.database.retry_while_busy): a
    # reply's end is not lost to a burst, and none of them is applied twice.
    reply = retry_while_busy(lambda: Message.objects.select_related("conversation", "reply_to").filter(
        pk=reply_id, status__in=ACTIVE_STATUSES).first())
    if reply is None:
        return None
    for name, value in fields.items():
        setattr(reply, name, value)
    usage = usage_fields(reply=reply, asked=asked, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                         config=config)
    now = timezone.now()
    ended = retry_while_busy(lambda: Message.objects.filter(pk=reply_id, status__in=ACTIVE_STATUSES).update(
        status=status, completed_at=now, updated_at=now, **fields, **usage
    ))
    if not ended:
        return None
    # The row now holds exactly what was just written (``fields`` are set above): no need to read it back.
    for name, value in {"status": status, "completed_at": now, "updated_at": now, **usage}.items():
        setattr(reply, name, value)
    # Counted once, by the one caller whose UPDATE ended the reply; kept if the conversation goes.
    retry_while_busy(lambda: limits.record_usage(reply=reply))
    return reply


# ``config``: the reply's provider, when the caller has it already (the engine); else it is looked up.
def reply_complete(*, reply_id: int, content: str, seq: int, result: StreamResult, config=False) -> Message | None:
    return _finish(
        reply_id, ReplyStatus.COMPLETE, asked=True, config=config, content=content, seq=seq,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens, ttft_ms=result.ttft_ms, duration_ms=result.duration_ms,
        finish_reason=result.finish_reason or "",
    )


def reply_fail(*, reply_id: int, content: str, seq: int, code: str, detail: str, ttft_ms: int | None,
               duration_ms: int | None, prompt_tokens: int | None = None, completion_tokens: int | None = None,
               config=False) -> Message | None:
    # No duration: the provider was never asked (unknown provider, a failure before the request).
    return _finish(reply_id, ReplyStatus.ERROR, asked=duration_ms is not None, config=config, content=content,
                   seq=seq,
                   error_code=str(code), error_detail=detail[:2000], ttft_ms=ttft_ms, duration_ms=duration_ms,
                   prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def reply_stop(*, reply_id: int, content: str, seq: int, ttft_ms: int | None, duration_ms: int | None,
               prompt_tokens: int | None = None, completion_tokens: int | None = None, config=False
               ) -> Message | None:
    return _finish(reply_id, ReplyStatus.CANCELLED, asked=duration_ms is not None, config=config, content=content,
                   seq=seq,
                   ttft_ms=ttft_ms, duration_ms=duration_ms, finish_reason="cancelled",
                   prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def replies_sweep_orphans(*, stale_seconds: int | None = None) -> list[Message]:
    """End every reply whose stream stopped checkpointing: its worker died or lost its way.

    The partial text is kept (the stream state's, when it is newer than the last checkpoint).
    A reply the user asked to stop ends as cancelled; any other as an ``orphaned`` error.
    """
    cutoff = _stale_cutoff(stale_seconds)
    candidates = list(Message.objects.filter(Q(status__in=ACTIVE_STATUSES), updated_at__lt=cutoff))
    return _end_orphans(candidates, cutoff)


def reply_end_stuck(*, reply_id: int, stale_seconds: int | None = None) -> Message:
    """End one stuck reply now, as the sweep would (an operator's button on the ops page).

    Only a reply that has not checkpointed for ``WEBOX_REPLY_STALE_SECONDS`` counts as stuck: a
    live stream is stopped with ``reply_cancel`` instead, which its worker honours.
    """
    cutoff = _stale_cutoff(stale_seconds)
    reply = Message.objects.filter(pk=reply_id, role=Role.ASSISTANT).first()
    if reply is None:
        raise ChatInputError("No such reply.", status=404)
    if reply.status not in ACTIVE_STATUSES or reply.updated_at >= cutoff:
        raise ChatInputError("This reply is not stuck.", status=409)
    ended = _end_orphans([reply], cutoff)
    if not ended:
        raise ChatInputError("This reply is not stuck.", status=409)
    return ended[0]


def _stale_cutoff(stale_seconds: int | None):
    stale = stale_seconds if stale_seconds is not None else settings.WEBOX_REPLY_STALE_SECONDS
    return timezone.now() - timedelta(seconds=stale)


def _end_orphans(candidates: list[Message], cutoff) -> list[Message]:
    if not candidates:
        return []
    store = dispatch.stream_store()
    keys = [m.stream_key for m in candidates if m.stream_key]
    states = store.read_sync(keys)
    cancelled = store.cancel_requested(keys)
    ended = []
    for message in candidates:
        state = states.get(message.stream_key) if message.stream_key else None
        content, seq = (state.text, state.seq) if state and state.seq >= message.seq else (message.content, message.seq)
        message.content = content
        # A claimed reply had asked its provider: its usage is estimated from what streamed.
        usage = usage_fields(reply=message, asked=message.started_at is not None)
        with transaction.atomic():
            updated = Message.objects.filter(pk=message.pk, status__in=ACTIVE_STATUSES, updated_at__lt=cutoff)
            fields = {"content": content, "seq": seq, "completed_at": timezone.now(), "updated_at": timezone.now(),
                      **usage}
            if message.stream_key in cancelled:
                count = updated.update(status=ReplyStatus.CANCELLED, finish_reason="cancelled", **fields)
            else:
                count = updated.update(
                    status=ReplyStatus.ERROR, error_code=ErrorCode.ORPHANED,
                    error_detail="The reply stopped making progress (its worker stopped or lost its connection).",
                    **fields,
                )
            if count:
                message.refresh_from_db()
                # An orphan's (estimated) usage counts against its owner's budget like any ended reply's.
                limits.record_usage(reply=message)
                _after_commit_publish(message.conversation_id, [dispatch.events.message_ended(message_data(message))])
                ended.append(message)
    return ended


# --- Operators' writes (the Django admin calls these) -------------------------------------------

def conversation_archive(*, conversation: Conversation, archived: bool = True) -> Conversation:
    """Archive (or, with ``archived=False``, bring back) a conversation; its sockets are told."""
    if conversation.archived == archived:
        return conversation
    return conversation_update(conversation=conversation, archived=archived)


def conversation_cancel_replies(*, conversation: Conversation) -> list[Message]:
    """Stop every reply still generating in the conversation; the replies asked to stop.

    A reply that ended meanwhile is skipped. Raises ``ChatInputError`` (503) when the stream
    service cannot be reached to stop a streaming one.
    """
    return _cancel_each(conversation.messages.filter(role=Role.ASSISTANT, status__in=ACTIVE_STATUSES))


def user_replies_cancel(*, user_id: int) -> list[Message]:
    """Stop every reply still generating in the user's conversations (an account being deactivated).

    Each is tried; a reply that ended meanwhile is skipped. Raises ``ChatInputError`` (503) after
    the others when the stream service cannot be reached to stop a streaming one.
    """
    return _cancel_each(Message.objects.filter(conversation__owner_id=user_id, role=Role.ASSISTANT,
                                               status__in=ACTIVE_STATUSES))


def user_streaming_replies_stop(*, user_id: int) -> None:
    """Ask the user's streaming replies to stop: the user and their rows are about to be deleted."""
    _stop_streaming(Message.objects.filter(conversation__owner_id=user_id), f"user {user_id}")


def _stop_streaming(messages, whose: str) -> None:
    """Raise the stop flag of every streaming reply among ``messages``, whose rows are about to go.

    Pending replies need no flag: their rows go, so no worker can claim them. Without the stream
    service the deletion still goes ahead: the replies' final writes then find no row.
    """
    keys = [m.stream_key for m in messages.filter(status=ReplyStatus.STREAMING).only("pk", "stream_id")
            if m.stream_key]
    try:
        dispatch.stream_store().request_cancel(keys)
    except dispatch.StreamStoreUnavailable:
        logger.warning("could not signal %d replies of %s to stop", len(keys), whose)


def _cancel_each(replies) -> list[Message]:
    stopped, unreachable = [], None
    for reply in replies.order_by("id"):
        try:
            stopped.append(reply_cancel(reply=reply))
        except ChatInputError as exc:
            if exc.status != 409:
                unreachable = unreachable or exc
    if unreachable is not None:
        raise unreachable
    return stopped


# --- Users' chat preferences -------------------------------------------------------------------

def user_chat_preferences_update(*, user, providers=None, models=None, params=None, context_mode=None) -> dict:
    """The user's default picks for a new chat, kept on the server so every browser gets them."""
    current = dict((user.preferences or {}).get("chat") or {})
    if providers is not None:
        current["providers"] = _clean_default_providers(providers)
    if models is not None:
        if not isinstance(models, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and len(v) <= 200 for k, v in models.items()):
            raise ChatInputError("models must be an object of provider names to model names.", field="models")
        current["models"] = {k[:100]: v.strip() for k, v in models.items() if v.strip()}
    if params is not None:
        current["params"] = _clean_default_params(params)
    if context_mode is not None:
        if context_mode not in ContextMode.values:
            raise ChatInputError("context_mode must be own or chosen.", field="context_mode")
        current["context_mode"] = context_mode
    user.preferences = {**(user.preferences or {}), "chat": current}
    user.save(update_fields=["preferences"])
    return current
