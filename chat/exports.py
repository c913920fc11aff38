"""Conversations out: a lossless JSON format and a readable Markdown one (the import is chat/imports/).

The JSON format (``"format": "webox.conversations", "version": 1``) holds every conversation field
a user can see and every message of it: each turn's user message and every reply to it, including
regenerated versions, with provider, model, column (the key of its thread, docs/compare.md),
parameters, status, usage, its cost estimate, timings, ``chosen``, ``imported`` and a fused reply's
provenance (``fuse``: its sources, as ids of the file, and its prompt); a conversation
carries its ``default_columns``. The tree (chat/tree.py) is kept whole: each user message names the
turn it follows (``parent``, an id of the file; null for a first turn) and the conversation names the
branch on screen (``active_leaf``), so every branch goes out, not only the one on screen.
A user message carries the ``vote`` on its turn (winners and judged replies by their ids in the
file). A blind reply not yet revealed goes out as the page shows it: no provider, model, column,
estimate, figures or parameters, and its text with names masked (chat/blinding.py).

The Markdown export is for reading: the branch on screen only, saying at each turn that has
branches which one it is (the JSON export holds them all).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from . import blinding
from .models import Attachment, Conversation, Message, ReplyStatus, Role, Vote
from .tree import active_path, load_tree

FORMAT = "webox.conversations"
VERSION = 1
# Rows fetched per query while exporting: memory holds one batch of conversations and one
# conversation's messages, however many there are.
EXPORT_BATCH_ROWS = 200

CONVERSATION_FIELDS = ("title", "system_prompt", "default_columns", "default_providers", "default_models",
                       "default_params", "context_mode", "archived", "metadata", "created_at", "updated_at",
                       "blind")
MESSAGE_FIELDS = ("role", "content", "provider", "model", "column", "status", "error_code", "error_detail",
                  "prompt_tokens", "completion_tokens", "ttft_ms", "duration_ms", "finish_reason",
                  "parameters", "chosen", "seq", "created_at", "updated_at", "started_at", "completed_at",
                  "cost", "cost_currency", "cost_estimated", "usage_estimated", "tokens_per_second", "imported",
                  "estimate", "blind_label", "blind_revealed_at", "fuse")
TIME_FIELDS = {"created_at", "updated_at", "started_at", "completed_at", "blind_revealed_at"}


# --- Export ----------------------------------------------------------------------------------

def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _messages(conversation: Conversation) -> Iterator[Message]:
    # In id order: a turn's row is always older than the turns that follow it and the replies to it
    # (an import inserts in file order), so a file names only ids it has already listed.
    return (conversation.messages.order_by("id").prefetch_related("attachments")
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
    data["active_leaf"] = conversation.active_leaf_id
    votes = {vote.turn_id: vote for vote in Vote.objects.filter(conversation=conversation)}
    messages = []
    for message in _messages(conversation):
        item = {"id": message.pk, "reply_to": message.reply_to_id}
        if message.role == Role.USER:
            item["parent"] = message.parent_id
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
    tree = load_tree(conversation.pk)
    on_path = set(active_path(conversation, tree))
    branches = sum(1 for turn in tree.parent if not tree.children.get(turn))
    if branches > 1:
        lines.append(f"- Branch: the one on screen, of {branches} (the JSON export holds them all)")
    messages = [message for message in _messages(conversation)
                if message.pk in on_path or message.reply_to_id in on_path]
    replies: dict[int, list[Message]] = {}
    for message in messages:
        if message.role == Role.ASSISTANT and message.reply_to_id:
            replies.setdefault(message.reply_to_id, []).append(message)
    turn = 0
    for message in messages:
        if message.role != Role.USER or message.pk not in on_path:
            continue
        turn += 1
        heading = f"## Turn {turn}"
        siblings = tree.siblings(message.pk)
        if len(siblings) > 1:
            heading += f" (branch {siblings.index(message.pk) + 1} of {len(siblings)})"
        lines += ["", heading, "", f"*{_time(message.created_at)}*", "", message.content]
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
