"""The blind arena's "Pick N random models": a blind turn to N models drawn from the user's catalog.

The send goes through the one send path (``send_input_clean``, then ``message_send``); only
``_arena_send_input`` knows the shape of a send's request, so a change of that shape is one change here.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from chat.errors import ChatInputError
from chat.models import Conversation
from chat.providers import provider_configs

from .conversations import conversation_create
from .inputs import SendInput, send_input_clean
from .turns import SendResult, message_send

ARENA_MIN_MODELS, ARENA_MAX_MODELS = 2, 8


def arena_candidates() -> list[tuple[str, str]]:
    """Every (provider, model) the user may pick: each enabled provider's allowed models."""
    candidates = []
    for config in provider_configs():
        models = list(config.models) or ([config.default_model] if config.default_model else [])
        candidates += [(config.name, model) for model in dict.fromkeys(models) if model and config.allows(model)]
    return candidates


def arena_models_pick(count: int, *, rng: secrets.SystemRandom | None = None) -> list[tuple[str, str]]:
    """``count`` distinct (provider, model) pairs drawn at random (2–8), several of one provider if so drawn;
    400 when fewer are available."""
    if isinstance(count, bool) or not isinstance(count, int) or not ARENA_MIN_MODELS <= count <= ARENA_MAX_MODELS:
        raise ChatInputError(f"Pick between {ARENA_MIN_MODELS} and {ARENA_MAX_MODELS} models.", field="count")
    candidates = arena_candidates()
    if len(candidates) < count:
        raise ChatInputError(f"Only {len(candidates)} models can be picked on this server; ask for fewer.",
                             field="count")
    return (rng or secrets.SystemRandom()).sample(candidates, count)


def _arena_send_input(message, picks: list[tuple[str, str]]) -> SendInput:
    # One column per pick; a provider drawn twice gets keys ``name``, ``name#2`` (the default keys).
    return send_input_clean(message=message, columns=[{"provider": p, "model": m} for p, m in picks])


def arena_send(*, user, conversation: Conversation | None, message, count: int) -> SendResult:
    """A blind turn to ``count`` random models; a new blind conversation, or a blind one of the user's."""
    if conversation is not None and not conversation.blind:
        raise ChatInputError("Random models are for blind conversations.", field="conversation_id")
    send = _arena_send_input(message, arena_models_pick(count))
    with transaction.atomic():  # a refused send leaves no empty conversation behind
        if conversation is None:
            conversation = conversation_create(owner=user, blind=True)
        return message_send(user=user, conversation=conversation, send=send)
