"""What each provider is sent: its own thread of the conversation.

The rule (docs/architecture.md, "Context"): for every earlier turn a provider sees the user's
message and at most one assistant answer —
- context mode ``own``: its own latest completed reply of that turn, else no answer at all:
  a provider is never sent another provider's words as its own (so a model that joins later,
  or whose reply failed, sees the user's messages only);
- context mode ``chosen``: the reply the user chose for that turn, else its own latest completed
  reply, else no answer.
A column's own system prompt (``parameters["system_prompt"]``) replaces the conversation's.
Every user message carries its attachments, earlier turns' too: file text in the message, images
only to a model that can see them (docs/attachments.md).
The oldest turns are dropped until the estimate fits the model's context budget.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models import Q

from .attachments.content import message_with_attachments
from .attachments.models import Attachment
from .attachments.vision import sees_images
from .models import ContextMode, Message, ReplyStatus, Role
from .providers import ChatMessage, ChatRequest

DEFAULT_RESERVED_OUTPUT_TOKENS = 1024
# What an image counts for when trimming: providers charge roughly this for a screenshot.
IMAGE_TOKENS = 1000


def estimate_tokens(text: str) -> int:
    # About four characters a token for English text; a few tokens of overhead per message.
    return len(text) // 4 + 4


def message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.content) + IMAGE_TOKENS * len(message.images)


def _with_attachments(reply: Message, user_messages: list[Message]) -> Callable[[Message], ChatMessage]:
    """A function giving each user message as the reply's model is sent it, attachments included
    (images only if the model can see them; chat/attachments/content.py). One query for all."""
    by_message: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(message_id__in=[m.pk for m in user_messages]).order_by("id"):
        by_message.setdefault(attachment.message_id, []).append(attachment)
    sees = bool(by_message) and sees_images(reply.provider, reply.model)

    def user_message(message: Message) -> ChatMessage:
        attachments = by_message.get(message.pk)
        if not attachments:
            return ChatMessage("user", message.content)
        return ChatMessage("user", *message_with_attachments(message.content, attachments, sees_images=sees))

    return user_message


def pick_answer(replies: list[Message], *, provider: str, mode: str) -> Message | None:
    chosen = next((r for r in replies if r.chosen and r.content), None)
    if mode == ContextMode.CHOSEN and chosen:
        return chosen
    own = [r for r in replies if r.provider == provider and r.status == ReplyStatus.COMPLETE and r.content]
    return own[-1] if own else None


def build_chat_request(reply: Message, *, context_tokens: int | None = None) -> ChatRequest:
    conversation = reply.conversation
    # Turns before the one being answered (ids grow with time), with every reply to them,
    # including replies regenerated later: one query for both.
    earlier: list[Message] = []
    replies_by_turn: dict[int, list[Message]] = {}
    for message in Message.objects.filter(
        Q(role=Role.USER, reply_to__isnull=True, id__lt=reply.reply_to_id)
        | Q(role=Role.ASSISTANT, reply_to_id__lt=reply.reply_to_id),
        conversation=conversation,
    ).order_by("id"):
        if message.role == Role.USER:
            earlier.append(message)
        else:
            replies_by_turn.setdefault(message.reply_to_id, []).append(message)
    user_message = _with_attachments(reply, [*earlier, reply.reply_to])
    turns: list[list[ChatMessage]] = []
    for message in earlier:
        turn = [user_message(message)]
        answer = pick_answer(replies_by_turn.get(message.pk, []), provider=reply.provider,
                             mode=conversation.context_mode)
        if answer is not None:
            turn.append(ChatMessage("assistant", answer.content))
        turns.append(turn)
    question = [user_message(reply.reply_to)]

    max_tokens = reply.parameters.get("max_tokens")
    budget = (context_tokens or settings.WEBOX_CONTEXT_TOKENS) - (max_tokens or DEFAULT_RESERVED_OUTPUT_TOKENS)
    system_prompt = reply.parameters.get("system_prompt") or conversation.system_prompt
    used = estimate_tokens(system_prompt) + sum(message_tokens(m) for m in question)
    kept: list[list[ChatMessage]] = []
    for turn in reversed(turns):
        cost = sum(message_tokens(m) for m in turn)
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    history = [m for turn in reversed(kept) for m in turn] + question
    return ChatRequest(
        model=reply.model,
        messages=tuple(history),
        system_prompt=system_prompt,
        temperature=reply.parameters.get("temperature"),
        max_tokens=max_tokens,
    )
