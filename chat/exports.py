"""Conversations out and back in: a lossless JSON format, a readable Markdown one, and the import.

The JSON format (``"format": "webox.conversations", "version": 1``) holds every conversation field
a user can see and every message of it: each turn's user message and every reply to it, including
regenerated versions, with provider, model, column (the key of its thread, docs/compare.md),
parameters, status, usage, its cost estimate, timings, ``chosen``, ``imported`` and a fused reply's
provenance (``fuse``: its sources, as ids of the file, and its prompt); a conversation
carries its ``default_columns``. Files from before columns import with each reply's provider as its
column and default columns from the short-form defaults. Imported messages are history: shown in
their conversation, marked ``imported``, and never counted in any usage figure (the dashboard's
rollup, ``/metrics``, budgets), since webox did not measure them; a file cannot forge the site's
usage, and exporting then importing does not double anyone's.
Files without ``imported`` (older exports) import the same way.
A user message carries the ``vote`` on its turn (winners and judged replies by their ids in the
file). A blind reply not yet revealed goes out as the page shows it: no provider, model, column,
estimate, figures or parameters, and its text with names masked (chat/blinding.py); it comes back
in as it went out.
Message ids in a file are references inside that file only: an import creates new rows owned by
the importing user and never looks an id up in the database, so ids from another account are
harmless. An import is one transaction: a file is taken whole or refused whole. The file is read
and checked in full before the transaction opens; inside it, the owner's row is locked and their
storage quota (``chat.limits.check_storage``) checked before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import blinding, limits
from .models import (
    ACTIVE_STATUSES,
    Attachment,
    ContextMode,
    Conversation,
    Message,
    ReplyStatus,
    Role,
    Vote,
    VoteOutcome,
)
from .services.fuse import MAX_FUSE_SOURCES
from .services.inputs import default_columns_from_short_form
from .usage.services import REPLY_MAX_COST, REPLY_MAX_TOKENS

FORMAT = "webox.conversations"
VERSION = 1
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_CONVERSATIONS = 5_000
MAX_MESSAGES = 100_000
MAX_CONTENT_CHARS = 1_000_000
# Rows fetched per query while exporting: memory holds one batch of conversations and one
# conversation's messages, however many there are.
EXPORT_BATCH_ROWS = 200
# JSON kept as it is (parameters, defaults, metadata) may nest this deep at most.
MAX_NESTING = 6
# A reply's figures at most, as for a reply webox ends itself. Imported replies count in no usage
# figure, but they are stored and shown.
MAX_TOKENS = REPLY_MAX_TOKENS
MAX_COST = REPLY_MAX_COST

CONVERSATION_FIELDS = ("title", "system_prompt", "default_columns", "default_providers", "default_models",
                       "default_params", "context_mode", "archived", "metadata", "created_at", "updated_at",
                       "blind")
MESSAGE_FIELDS = ("role", "content", "provider", "model", "column", "status", "error_code", "error_detail",
                  "prompt_tokens", "completion_tokens", "ttft_ms", "duration_ms", "finish_reason",
                  "parameters", "chosen", "seq", "created_at", "updated_at", "started_at", "completed_at",
                  "cost", "cost_currency", "cost_estimated", "usage_estimated", "tokens_per_second", "imported",
                  "estimate", "blind_label", "blind_revealed_at", "fuse")
STAMPS = {"created_at", "updated_at"}
TIME_FIELDS = {"created_at", "updated_at", "started_at", "completed_at", "blind_revealed_at"}
INT_FIELDS = {"prompt_tokens": MAX_TOKENS, "completion_tokens": MAX_TOKENS, "ttft_ms": 2**31 - 1,
              "duration_ms": 2**31 - 1, "seq": 2**31 - 1}
TEXT_LIMITS = {"provider": 100, "model": 200, "column": 120, "error_code": 40, "error_detail": 2000,
               "finish_reason": 40, "cost_currency": 3, "blind_label": 2}
# ``imported`` is written out but never read back: every message an import creates is imported.
BOOL_FIELDS = {"chosen", "cost_estimated", "usage_estimated"}


class ExportFileError(Exception):
    """A file that cannot be imported; ``detail`` says why, in words a user can act on."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


# --- Export ----------------------------------------------------------------------------------

def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _messages(conversation: Conversation) -> Iterator[Message]:
    return (conversation.messages.order_by("created_at", "id").prefetch_related("attachments")
            .iterator(chunk_size=EXPORT_BATCH_ROWS))


def attachment_to_dict(attachment: Attachment) -> dict:
    """An attachment in an export: what it is, and its file's name in a zip export (``files/<sha256>``)."""
    return {"name": attachment.name, "kind": attachment.kind, "media_type": attachment.media_type,
            "size": attachment.size, "sha256": attachment.sha256}


def _each(conversations: Iterable[Conversation]) -> Iterator[Conversation]:
    if isinstance(conversations, QuerySet):
        return conversations.iterator(chunk_size=EXPORT_BATCH_ROWS)
    return iter(conversations)


# What a blind reply not yet revealed is exported without (chat/blinding.py): who wrote it and its figures
# (its column's key defaults to its provider's name; its estimate names the price of its model).
HIDDEN_FIELDS = {"provider": "", "model": "", "column": "", "estimate": None, "parameters": {},
                 "prompt_tokens": None, "completion_tokens": None,
                 "ttft_ms": None, "duration_ms": None, "cost": None, "cost_currency": "", "cost_estimated": False,
                 "usage_estimated": False, "tokens_per_second": None}


def _vote_to_dict(vote: Vote) -> dict:
    # Reply ids are the file's own message ids, as reply_to is.
    return {"outcome": vote.outcome, "winners": vote.winners, "replies": vote.replies, "blind": vote.blind,
            "revealed_before": vote.revealed_before, "created_at": _time(vote.created_at),
            "updated_at": _time(vote.updated_at)}


def conversation_to_dict(conversation: Conversation) -> dict:
    data = {name: getattr(conversation, name) for name in CONVERSATION_FIELDS}
    data["created_at"] = _time(conversation.created_at)
    data["updated_at"] = _time(conversation.updated_at)
    data["id"] = conversation.pk
    votes = {vote.turn_id: vote for vote in Vote.objects.filter(conversation=conversation)}
    messages = []
    for message in _messages(conversation):
        item = {"id": message.pk, "reply_to": message.reply_to_id}
        for name in MESSAGE_FIELDS:
            value = getattr(message, name)
            if name in TIME_FIELDS:
                value = _time(value)
            elif name == "cost" and value is not None:
                value = str(value)  # a decimal amount, exactly (JSON numbers are floats)
            item[name] = value
        attachments = list(message.attachments.all())
        if attachments:  # only then: a conversation without files exports as it always has
            item["attachments"] = [attachment_to_dict(a) for a in attachments]
        if blinding.hidden(message):
            item.update(HIDDEN_FIELDS)
            item["content"] = blinding.mask_names(message.content, provider=message.provider, model=message.model)
            item["error_detail"] = blinding.mask_names(message.error_detail, provider=message.provider,
                                                       model=message.model)
        if message.pk in votes:
            item["vote"] = _vote_to_dict(votes[message.pk])
        messages.append(item)
    data["messages"] = messages
    return data


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


def conversations_export_json_chunks(conversations: Iterable[Conversation]) -> Iterator[str]:
    """The lossless JSON export of these conversations, one conversation at a time.

    The pieces join into exactly ``json.dumps`` of the whole document with ``indent=1``: each
    conversation is dumped alone and indented to its depth (JSON strings hold no raw newline).
    """
    head = _dumps({"format": FORMAT, "version": VERSION, "exported_at": timezone.now().isoformat()})
    yield head.removesuffix("\n}") + ',\n "conversations": ['
    empty = True
    for conversation in _each(conversations):
        yield ("\n  " if empty else ",\n  ") + _dumps(conversation_to_dict(conversation)).replace("\n", "\n  ")
        empty = False
    yield "]\n}" if empty else "\n ]\n}"


def conversations_export_json(conversations: Iterable[Conversation]) -> str:
    """The lossless JSON export of these conversations, as text."""
    return "".join(conversations_export_json_chunks(conversations))


def _stats(reply: Message) -> str:
    parts = [reply.status]
    if reply.finish_reason == "length":
        parts.append("cut by max tokens")
    if reply.prompt_tokens is not None or reply.completion_tokens is not None:
        parts.append(f"{reply.prompt_tokens or 0} → {reply.completion_tokens or 0} tokens")
    if reply.ttft_ms is not None:
        parts.append(f"first token {reply.ttft_ms} ms")
    if reply.duration_ms is not None:
        parts.append(f"{reply.duration_ms / 1000:.1f} s")
    if reply.parameters:
        parts.append(", ".join(f"{k} {v}" for k, v in sorted(reply.parameters.items()) if k != "system_prompt"))
    return " · ".join(p for p in parts if p)


def conversation_to_markdown(conversation: Conversation) -> str:
    lines = [f"# {conversation.title or f'Conversation {conversation.pk}'}", ""]
    lines.append(f"- Started: {_time(conversation.created_at)}")
    lines.append(f"- Context: {conversation.get_context_mode_display()}")
    if conversation.archived:
        lines.append("- Archived")
    if conversation.system_prompt:
        lines += ["", "System prompt:", "", *(f"> {line}" for line in conversation.system_prompt.splitlines())]
    messages = list(_messages(conversation))
    replies: dict[int, list[Message]] = {}
    for message in messages:
        if message.role == Role.ASSISTANT and message.reply_to_id:
            replies.setdefault(message.reply_to_id, []).append(message)
    turn = 0
    for message in messages:
        if message.role != Role.USER:
            continue
        turn += 1
        lines += ["", f"## Turn {turn}", "", f"*{_time(message.created_at)}*", "", message.content]
        by_column: dict[str, list[Message]] = {}
        for reply in replies.get(message.pk, []):
            by_column.setdefault(reply.column or reply.provider, []).append(reply)
        for versions in by_column.values():
            for number, reply in enumerate(versions, start=1):
                if blinding.hidden(reply):
                    reply.content = blinding.mask_names(reply.content, provider=reply.provider, model=reply.model)
                    reply.parameters, reply.ttft_ms, reply.duration_ms = {}, None, None
                    reply.prompt_tokens = reply.completion_tokens = None
                    heading = f"### {blinding.label_name(reply.blind_label)}"
                else:
                    heading = f"### {reply.provider} · {reply.model}"
                if len(versions) > 1:
                    heading += f" (version {number} of {len(versions)})"
                if reply.fuse:
                    heading += f" (fused from {len(reply.fuse.get('sources', []))} replies)"
                if reply.chosen:
                    heading += " ✓ chosen"
                lines += ["", heading, "", reply.content or "*(no text)*"]
                if reply.status == ReplyStatus.ERROR:
                    lines += ["", f"> Error {reply.error_code}: {reply.error_detail}"]
                lines += ["", f"*{_stats(reply)}*"]
    return "\n".join(lines) + "\n"


def conversations_export_markdown_chunks(conversations: Iterable[Conversation]) -> Iterator[str]:
    """A readable Markdown export, one conversation at a time: a section per turn, a subsection
    per column's reply."""
    for number, conversation in enumerate(_each(conversations)):
        yield ("\n---\n\n" if number else "") + conversation_to_markdown(conversation)


def conversations_export_markdown(conversations: Iterable[Conversation]) -> str:
    return "".join(conversations_export_markdown_chunks(conversations))


# --- Import ----------------------------------------------------------------------------------

def _depth(value, limit: int) -> bool:
    """Whether ``value`` nests no deeper than ``limit`` (iterative: a hostile file cannot recurse us)."""
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return True


def parse_export(raw: bytes | str) -> dict:
    if len(raw) > MAX_IMPORT_BYTES:
        raise ExportFileError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ExportFileError("The file nests too deeply to be a webox export.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportFileError(f"The file is not valid JSON ({str(exc)[:120]}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExportFileError(f'Not a webox export: expected an object with "format": "{FORMAT}".')
    if data.get("version") != VERSION:
        version = str(data.get("version"))[:20]
        raise ExportFileError(f"Unsupported export version {version!r}; this webox reads {VERSION}.")
    if not isinstance(data.get("conversations"), list):
        raise ExportFileError('"conversations" must be a list.')
    return data


class _Checker:
    def __init__(self, where: str):
        self.where = where

    def fail(self, detail: str):
        raise ExportFileError(f"{self.where}: {detail}")

    def text(self, data: dict, name: str, *, limit: int = MAX_CONTENT_CHARS) -> str:
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(f"{name} must be text.")
        if len(value) > limit:
            self.fail(f"{name} is longer than {limit} characters.")
        return value

    def integer(self, data: dict, name: str, *, limit: int) -> int | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(f"{name} must be a whole number from 0.")
        if value > limit:
            self.fail(f"{name} must be at most {limit}.")
        return value

    def amount(self, data: dict, name: str) -> Decimal | None:
        value = data.get(name)
        if value is None:
            return None
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            self.fail(f"{name} must be an amount written as text, such as \"0.0012\".")
        if amount > MAX_COST:
            self.fail(f"{name} must be at most {MAX_COST}.")
        return amount.quantize(Decimal("1e-8"))

    def rate(self, data: dict, name: str) -> float | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not (0 <= value < 1e9):
            self.fail(f"{name} must be a number from 0.")
        return float(value)

    def boolean(self, data: dict, name: str) -> bool:
        value = data.get(name, False)
        if not isinstance(value, bool):
            self.fail(f"{name} must be true or false.")
        return value

    def json_object(self, data: dict, name: str, *, kind: type = dict):
        value = data.get(name)
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.fail(f"{name} must be {'an object' if kind is dict else 'a list'}.")
        if not _depth(value, MAX_NESTING):
            self.fail(f"{name} nests too deeply.")
        if len(json.dumps(value)) > 100_000:
            self.fail(f"{name} is too large.")
        return value

    def time(self, data: dict, name: str, *, required: bool = False) -> datetime | None:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(f"{name} is missing.")
            return None
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            self.fail(f"{name} must be an ISO 8601 date and time.")
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)

    def choice(self, data: dict, name: str, choices, default: str) -> str:
        value = data.get(name, default)
        if value not in choices:
            self.fail(f"{name} must be one of {', '.join(choices)}.")
        return value


def _check_conversation(item, number: int) -> tuple[dict, list[tuple[object, object, dict]]]:
    check = _Checker(f"Conversation {number}")
    if not isinstance(item, dict):
        check.fail("must be an object.")
    fields = {
        "title": check.text(item, "title", limit=200),
        "system_prompt": check.text(item, "system_prompt"),
        "default_providers": check.json_object(item, "default_providers", kind=list),
        "default_models": check.json_object(item, "default_models"),
        "default_params": check.json_object(item, "default_params"),
        "default_columns": check.json_object(item, "default_columns", kind=list),
        "context_mode": check.choice(item, "context_mode", ContextMode.values, ContextMode.OWN),
        "archived": check.boolean(item, "archived"),
        "metadata": check.json_object(item, "metadata"),
        "blind": check.boolean(item, "blind"),
        "created_at": check.time(item, "created_at"),
        "updated_at": check.time(item, "updated_at"),
    }
    if not all(isinstance(name, str) and len(name) <= 100 for name in fields["default_providers"]):
        check.fail("default_providers must be a list of names.")
    if not all(isinstance(column, dict) and isinstance(column.get("provider"), str)
               for column in fields["default_columns"]):
        check.fail("default_columns must be a list of columns, each naming its provider.")
    if "default_columns" not in item:  # a file from before columns: its short form says the same
        fields["default_columns"] = default_columns_from_short_form(
            fields["default_providers"], fields["default_models"], fields["default_params"])
    raw_messages = item.get("messages", [])
    if not isinstance(raw_messages, list):
        check.fail("messages must be a list.")
    messages = []
    roles: dict[object, str] = {}
    for index, raw in enumerate(raw_messages, start=1):
        mcheck = _Checker(f"Conversation {number}, message {index}")
        if not isinstance(raw, dict):
            mcheck.fail("must be an object.")
        ref, reply_to = raw.get("id"), raw.get("reply_to")
        for name, value in (("id", ref), ("reply_to", reply_to)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
                mcheck.fail(f"{name} must be a number or text.")
        if ref is not None and ref in roles:
            mcheck.fail("its id is used twice.")
        message = {
            "role": mcheck.choice(raw, "role", Role.values, Role.USER),
            "content": mcheck.text(raw, "content"),
            "status": mcheck.choice(raw, "status", ReplyStatus.values, ReplyStatus.COMPLETE),
            "parameters": mcheck.json_object(raw, "parameters"),
            "estimate": mcheck.json_object(raw, "estimate") if raw.get("estimate") is not None else None,
            "fuse": _fuse_provenance(mcheck, raw.get("fuse")),
            "cost": mcheck.amount(raw, "cost"),
            "tokens_per_second": mcheck.rate(raw, "tokens_per_second"),
        }
        for name in BOOL_FIELDS:
            message[name] = mcheck.boolean(raw, name)
        for name, limit in TEXT_LIMITS.items():
            message[name] = mcheck.text(raw, name, limit=limit)
        for name, limit in INT_FIELDS.items():
            message[name] = mcheck.integer(raw, name, limit=limit)
        if message["seq"] is None:
            message["seq"] = 0
        if message["role"] == Role.ASSISTANT and "column" not in raw:
            message["column"] = message["provider"]  # a file from before columns: the provider was the thread
        for name in TIME_FIELDS:
            message[name] = mcheck.time(raw, name)
        if reply_to is not None and roles.get(reply_to) != Role.USER:
            mcheck.fail("reply_to must name an earlier user message of the same conversation.")
        if reply_to is None and message["role"] == Role.ASSISTANT:
            mcheck.fail("an assistant reply needs reply_to: the user message it answers.")
        if message["status"] in ACTIVE_STATUSES:
            # Nothing will ever generate an imported reply: it keeps its text, marked as stopped.
            message["status"] = ReplyStatus.CANCELLED
            message["finish_reason"] = message["finish_reason"] or "cancelled"
        if raw.get("vote") is not None:
            if message["role"] != Role.USER:
                mcheck.fail("only a user message holds a vote.")
            message["vote"] = _check_vote(mcheck, raw["vote"])
        if ref is not None:
            roles[ref] = message["role"]
        messages.append((ref, reply_to, message))
    _check_vote_refs(check, messages)
    return fields, messages


def _check_vote(check: _Checker, raw) -> dict:
    if not isinstance(raw, dict):
        check.fail("vote must be an object.")
    vote = {
        "outcome": check.choice(raw, "outcome", VoteOutcome.values, ""),
        "winners": check.json_object(raw, "winners", kind=list),
        "replies": check.json_object(raw, "replies", kind=list),
        "blind": check.boolean(raw, "blind"),
        "revealed_before": check.boolean(raw, "revealed_before"),
        "created_at": check.time(raw, "created_at"),
        "updated_at": check.time(raw, "updated_at"),
    }
    if not all(isinstance(ref, int | str) and not isinstance(ref, bool) for ref in vote["winners"]):
        check.fail("vote.winners must be a list of message ids.")
    if not all(isinstance(item, dict) and isinstance(item.get("provider", ""), str)
               and isinstance(item.get("model", ""), str) for item in vote["replies"]):
        check.fail("vote.replies must be a list of {id, provider, model}.")
    return vote


def _check_vote_refs(check: _Checker, messages: list) -> None:
    """A vote's winners must be replies to its own turn (as the file names them)."""
    replies_to: dict[object, set] = {}
    for ref, reply_to, _ in messages:
        if reply_to is not None and ref is not None:
            replies_to.setdefault(reply_to, set()).add(ref)
    for ref, _, message in messages:
        vote = message.get("vote")
        if vote and not set(vote["winners"]) <= replies_to.get(ref, set()):
            check.fail("a vote's winners must be replies to its turn.")


def _import_votes(*, owner, conversation: Conversation, messages: list, by_ref: dict, rows: list) -> None:
    for (_, _, message), row in zip(messages, rows, strict=True):
        vote = message.get("vote")
        if not vote:
            continue
        judged = [{"id": by_ref[item.get("id")].pk, "provider": str(item.get("provider", ""))[:100],
                   "model": str(item.get("model", ""))[:200]}
                  for item in vote["replies"] if item.get("id") in by_ref]
        stored = Vote.objects.create(
            user=owner, conversation=conversation, turn=row, outcome=vote["outcome"],
            winners=[by_ref[ref].pk for ref in vote["winners"]], replies=judged, blind=vote["blind"],
            revealed_before=vote["revealed_before"])
        Vote.objects.filter(pk=stored.pk).update(created_at=vote["created_at"] or stored.created_at,
                                                 updated_at=vote["updated_at"] or stored.updated_at)


def _fuse_provenance(check: _Checker, value) -> dict | None:
    """A fused reply's provenance: its sources are ids of this file, turned into the new rows' ids on import."""
    if value is None:
        return None
    if not isinstance(value, dict):
        check.fail("fuse must be an object.")
    sources = value.get("sources")
    if (not isinstance(sources, list) or len(sources) > MAX_FUSE_SOURCES
            or not all(isinstance(ref, int | str) and not isinstance(ref, bool) for ref in sources)):
        check.fail(f"fuse.sources must be a list of at most {MAX_FUSE_SOURCES} message ids.")
    texts = {name: check.text(value, name) for name in ("prompt", "template")}
    if any("\x00" in text for text in texts.values()):
        check.fail("fuse cannot hold NUL characters.")
    return {"sources": sources, **texts}


def conversations_import(*, owner, raw: bytes | str) -> list[Conversation]:
    """Create the conversations of an export file for ``owner``, all of them or none.

    Raises ``ExportFileError`` (nothing written) for a file that is not a valid export, and
    ``chat.errors.StorageFull`` for one that would take ``owner`` over their storage quota.
    """
    data = parse_export(raw)
    items = data["conversations"]
    if len(items) > MAX_CONVERSATIONS:
        raise ExportFileError(f"A file holds at most {MAX_CONVERSATIONS} conversations.")
    checked = [_check_conversation(item, number) for number, item in enumerate(items, start=1)]
    if sum(len(messages) for _, messages in checked) > MAX_MESSAGES:
        raise ExportFileError(f"A file holds at most {MAX_MESSAGES} messages.")
    adding = sum(len(message["content"]) for _, messages in checked for _, _, message in messages)
    created = []
    with transaction.atomic():
        limits.lock_user_and_read_limits(owner)
        limits.check_storage(owner, adding)
        for fields, messages in checked:
            times = {name: fields.pop(name) for name in ("created_at", "updated_at")}
            conversation = Conversation.objects.create(owner=owner, **fields)
            rows = [
                Message(conversation=conversation, imported=True,
                        **{k: v for k, v in message.items() if k not in STAMPS and k != "vote"})
                for _, _, message in messages
            ]
            # One insert in file order, so ids keep the order of turns (chat/context.py relies on it).
            Message.objects.bulk_create(rows, batch_size=500)
            by_ref = {ref: row for (ref, _, _), row in zip(messages, rows, strict=True) if ref is not None}
            previous_turn = None
            for (_, reply_to, message), row in zip(messages, rows, strict=True):
                row.reply_to = by_ref.get(reply_to)
                if row.role == Role.USER and row.reply_to is None:
                    # The file holds one line of turns (chat/tree.py): each follows the one before.
                    row.parent, previous_turn = previous_turn, row
                if row.fuse:  # a source the file does not hold is left out
                    row.fuse["sources"] = [by_ref[ref].pk for ref in row.fuse["sources"] if ref in by_ref]
                # auto_now(_add) set the times on insert; the file's are put back here.
                row.created_at = message["created_at"] or row.created_at
                row.updated_at = message["updated_at"] or row.updated_at
            Message.objects.bulk_update(rows, ["reply_to", "parent", "created_at", "updated_at", "fuse"],
                                        batch_size=500)
            _import_votes(owner=owner, conversation=conversation, messages=messages, by_ref=by_ref, rows=rows)
            Conversation.objects.filter(pk=conversation.pk).update(
                created_at=times["created_at"] or conversation.created_at,
                updated_at=times["updated_at"] or conversation.updated_at,
            )
            conversation.refresh_from_db()
            created.append(conversation)
    return created
