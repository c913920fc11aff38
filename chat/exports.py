"""Conversations as files: lossless JSON and readable Markdown (the user's export and the admin's).

JSON keeps everything needed to rebuild a conversation: every turn, every reply of it including
regenerated versions (in the order they were asked for), with provider, model, parameters,
status, usage, timings and the chosen mark. Markdown is for reading: one section per turn, one
subsection per provider, its versions in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db.models import Prefetch
from django.utils import timezone

from .models import Conversation, Message, ReplyStatus, Role

EXPORT_FORMAT = "webox.conversations"
EXPORT_VERSION = 1


def _time(value) -> str | None:
    return value.isoformat() if value else None


def _reply_data(reply: Message) -> dict:
    return {
        "id": reply.pk,
        "provider": reply.provider,
        "model": reply.model,
        "parameters": reply.parameters,
        "status": reply.status,
        "content": reply.content,
        "error_code": reply.error_code,
        "error_detail": reply.error_detail,
        "finish_reason": reply.finish_reason,
        "chosen": reply.chosen,
        "seq": reply.seq,
        "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens},
        "timings": {
            "ttft_ms": reply.ttft_ms, "duration_ms": reply.duration_ms, "created_at": _time(reply.created_at),
            "started_at": _time(reply.started_at), "completed_at": _time(reply.completed_at),
        },
    }


def conversation_turns(conversation: Conversation) -> list[tuple[Message | None, list[Message]]]:
    """Each turn as (its message, its replies in the order they were asked for).

    A reply that answers no message (possible only through a hand-made row) gets a turn of its
    own with no message, so that nothing is left out.
    """
    messages = sorted(conversation.messages.all(), key=lambda m: (m.created_at, m.pk))
    turns: dict[int | tuple, tuple[Message | None, list[Message]]] = {}
    for message in messages:
        if message.role != Role.ASSISTANT:
            turns[message.pk] = (message, [])
    for message in messages:
        if message.role != Role.ASSISTANT:
            continue
        if message.reply_to_id in turns:
            turns[message.reply_to_id][1].append(message)
        else:
            turns[("loose", message.pk)] = (None, [message])
    return sorted(turns.values(), key=lambda turn: ((turn[0] or turn[1][0]).created_at, (turn[0] or turn[1][0]).pk))


def conversation_export_data(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "system_prompt": conversation.system_prompt,
        "context_mode": conversation.context_mode,
        "archived": conversation.archived,
        "default_providers": conversation.default_providers,
        "default_models": conversation.default_models,
        "default_params": conversation.default_params,
        "metadata": conversation.metadata,
        "created_at": _time(conversation.created_at),
        "updated_at": _time(conversation.updated_at),
        "turns": [
            {
                "message": None if message is None else {
                    "id": message.pk, "role": message.role, "content": message.content,
                    "created_at": _time(message.created_at),
                },
                "replies": [_reply_data(reply) for reply in replies],
            }
            for message, replies in conversation_turns(conversation)
        ],
    }


def _with_messages(conversations: Iterable[Conversation]) -> list[Conversation]:
    if hasattr(conversations, "prefetch_related"):
        ordered = Message.objects.order_by("created_at", "id")
        conversations = conversations.prefetch_related(Prefetch("messages", ordered))
    return list(conversations)


def conversations_export_json(conversations: Iterable[Conversation]) -> str:
    """Every given conversation, lossless, as one JSON document."""
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "conversations": [conversation_export_data(c) for c in _with_messages(conversations)],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _reply_heading(reply: Message, version: int, versions: int) -> str:
    heading = f"### {reply.provider or 'assistant'}"
    if reply.model:
        heading += f" · {reply.model}"
    if versions > 1:
        heading += f" (version {version} of {versions})"
    if reply.chosen:
        heading += " ✓ chosen"
    return heading


def _reply_markdown(reply: Message) -> list[str]:
    lines = []
    if reply.status != ReplyStatus.COMPLETE:
        note = f"*{reply.get_status_display()}"
        if reply.error_code:
            note += f": {reply.error_code}"
        lines += [note + "*", ""]
    lines += [reply.content.strip() or "*(no text)*", ""]
    return lines


def conversation_markdown(conversation: Conversation) -> str:
    lines = [f"# {conversation.title or f'Conversation {conversation.pk}'}", ""]
    lines += [f"Started {conversation.created_at:%Y-%m-%d %H:%M} UTC, last activity "
              f"{conversation.updated_at:%Y-%m-%d %H:%M} UTC.", ""]
    if conversation.system_prompt:
        lines += ["System prompt:", "", *(f"> {line}" for line in conversation.system_prompt.splitlines()), ""]
    for number, (message, replies) in enumerate(conversation_turns(conversation), start=1):
        lines += [f"## Turn {number}", ""]
        if message is not None:
            lines += [message.content.strip(), ""]
        by_provider: dict[str, list[Message]] = {}
        for reply in replies:
            by_provider.setdefault(reply.provider, []).append(reply)
        for versions in by_provider.values():
            for version, reply in enumerate(versions, start=1):
                lines += [_reply_heading(reply, version, len(versions)), "", *_reply_markdown(reply)]
    return "\n".join(lines).rstrip() + "\n"


def conversations_export_markdown(conversations: Iterable[Conversation]) -> str:
    """Every given conversation as readable Markdown, separated by rules."""
    return "\n---\n\n".join(conversation_markdown(c) for c in _with_messages(conversations))
