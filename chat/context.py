"""What each provider is sent: its own thread of the conversation.

The rule (docs/architecture.md, "Context"): for every earlier turn a provider sees the user's
message and at most one assistant answer —
- context mode ``own``: its own latest completed reply of that turn, else no answer at all:
  a provider is never sent another provider's words as its own (so a model that joins later,
  or whose reply failed, sees the user's messages only);
- context mode ``chosen``: the reply the user chose for that turn, else its own latest completed
  reply, else no answer.
A column's own system prompt (``parameters["system_prompt"]``) replaces the conversation's.
The oldest turns are dropped until the estimate fits the model's context budget.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q

from .models import ContextMode, Message, ReplyStatus, Role
from .providers import ChatMessage, ChatRequest

DEFAULT_RESERVED_OUTPUT_TOKENS = 1024


def estimate_tokens(text: str) -> int:
    # About four characters a token for English text; a few tokens of overhead per message.
    return len(text) // 4 + 4


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
    turns: list[list[ChatMessage]] = []
    for message in earlier:
        turn = [ChatMessage("user", message.content)]
        answer = pick_answer(replies_by_turn.get(message.pk, []), provider=reply.provider,
                             mode=conversation.context_mode)
        if answer is not None:
            turn.append(ChatMessage("assistant", answer.content))
        turns.append(turn)
    question = [ChatMessage("user", reply.reply_to.content)]

    max_tokens = reply.parameters.get("max_tokens")
    budget = (context_tokens or settings.WEBOX_CONTEXT_TOKENS) - (max_tokens or DEFAULT_RESERVED_OUTPUT_TOKENS)
    system_prompt = reply.parameters.get("system_prompt") or conversation.system_prompt
    used = estimate_tokens(system_prompt) + sum(estimate_tokens(m.content) for m in question)
    kept: list[list[ChatMessage]] = []
    for turn in reversed(turns):
        cost = sum(estimate_tokens(m.content) for m in turn)
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
