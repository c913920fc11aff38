"""A conversation as the admin's change page shows it: turns, each message with its replies by provider."""

from __future__ import annotations

from django.urls import reverse
from django.utils.safestring import mark_safe

from ..models import Conversation, Message, Role
from ..rendering import render_markdown
from .display import parameters_text, timings_text, usage_text


def conversation_turns(conversation: Conversation) -> list[tuple[Message | None, list[Message]]]:
    """Each turn as (its message, its replies in the order they were asked for).

    A reply that answers no message (possible only through a hand-made row) gets a turn of its
    own with no message, so that the page leaves nothing out.
    """
    messages = list(conversation.messages.order_by("created_at", "id"))
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


def thread_view(conversation: Conversation) -> list[dict]:
    """The conversation's turns for the change page: each message, its replies by provider."""
    turns = []
    for number, (message, replies) in enumerate(conversation_turns(conversation), start=1):
        columns: dict[str, list[dict]] = {}
        for reply in replies:
            columns.setdefault(reply.provider, []).append({
                "reply": reply,
                # Active replies are shown as plain text while they grow, as on the chat page.
                "html": None if reply.is_active else mark_safe(render_markdown(reply.content)),  # noqa: S308 - sanitised
                "usage": usage_text(reply),
                "timings": timings_text(reply),
                "parameters": parameters_text(reply.parameters),
                "url": reverse("admin:chat_message_change", args=[reply.pk]),
            })
        turns.append({
            "number": number, "message": message,
            "columns": [{"provider": name or "assistant", "versions": versions} for name, versions in columns.items()],
        })
    return turns
