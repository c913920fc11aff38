"""A user's chat preferences: the default picks for a new chat, kept on the server."""

from __future__ import annotations

from chat.errors import ChatInputError
from chat.models import ContextMode

from .inputs import (
    MAX_MODEL_CHARS,
    MAX_PROVIDER_NAME_CHARS,
    clean_default_columns,
    clean_default_params,
    clean_default_providers,
)


def user_chat_preferences_update(*, user, providers=None, models=None, params=None, context_mode=None,
                                 columns=None) -> dict:
    """The user's default picks for a new chat, kept on the server so every browser gets them."""
    current = dict((user.preferences or {}).get("chat") or {})
    if columns is not None:
        current["columns"] = clean_default_columns(columns)
    if providers is not None:
        current["providers"] = clean_default_providers(providers)
    if models is not None:
        if not isinstance(models, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_MODEL_CHARS for k, v in models.items()):
            raise ChatInputError("models must be an object of provider names to model names.", field="models")
        current["models"] = {k[:MAX_PROVIDER_NAME_CHARS]: v.strip() for k, v in models.items() if v.strip()}
    if params is not None:
        current["params"] = clean_default_params(params)
    if context_mode is not None:
        if context_mode not in ContextMode.values:
            raise ChatInputError("context_mode must be own or chosen.", field="context_mode")
        current["context_mode"] = context_mode
    user.preferences = {**(user.preferences or {}), "chat": current}
    user.save(update_fields=["preferences"])
    return current
