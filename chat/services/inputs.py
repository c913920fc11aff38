"""What a send and a conversation's defaults may hold: the limits, defined once, and the cleaning.

The REST serializers (chat/api.py) take their ranges from here for the schema; the socket sends
its frame's fields straight to ``send_input_clean``; both get the same ``SendInput``. Refusals are
``ChatInputError`` (400), with the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.attachments.services import clean_attachment_ids
from chat.errors import ChatInputError
from chat.providers import provider_configs

MAX_MESSAGE_CHARS = 100_000
MAX_COLUMNS_PER_TURN = 8
MAX_SYSTEM_PROMPT_CHARS = 20_000
MAX_MODEL_CHARS = 200
MAX_PROVIDER_NAME_CHARS = 100
TEMPERATURE_MIN, TEMPERATURE_MAX = 0, 2
MAX_TOKENS_MIN, MAX_TOKENS_MAX = 1, 200_000


@dataclass(frozen=True)
class Column:
    """One reply of a turn: the provider and model that write it, and its own parameters."""

    provider: str
    model: str
    parameters: dict


@dataclass(frozen=True)
class SendInput:
    """A send as ``message_send`` takes it: every field checked, every column resolved."""

    message: str
    columns: list[Column]
    system_prompt: str | None = None  # None: the conversation's stays as it is
    attachments: tuple[int, ...] = ()  # ids of the sender's pending uploads (chat/attachments)


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


def clean_system_prompt(value, *, field: str = "system_prompt") -> str:
    """A conversation's system prompt (or a send's new one): text of at most MAX_SYSTEM_PROMPT_CHARS."""
    if not isinstance(value, str):
        raise ChatInputError(f"{field} must be text.", field=field)
    if len(value) > MAX_SYSTEM_PROMPT_CHARS:
        raise ChatInputError(f"{field} holds at most {MAX_SYSTEM_PROMPT_CHARS} characters.", field=field)
    return clean_text(value, field=field)


def send_input_clean(*, message, selected_providers, selected_models=None, temperature=None, max_tokens=None,
                     system_prompt=None, provider_params=None, attachments=None) -> SendInput:
    """The send of the REST API and of the socket's ``send`` frame, checked and resolved.

    A missing ``message`` or ``selected_providers``, or a field not named here, is a ``TypeError``
    (the socket answers it as unexpected fields; the REST serializer catches it first).
    """
    if not isinstance(message, str) or not message.strip():
        raise ChatInputError("Write a message first.", field="message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatInputError(f"A message holds at most {MAX_MESSAGE_CHARS} characters.", field="message")
    clean_text(message, field="message")
    if system_prompt is not None:
        clean_system_prompt(system_prompt)
    targets = _resolve_targets(selected_providers, selected_models)
    shared = clean_parameters({"temperature": temperature, "max_tokens": max_tokens}, field="parameters")
    if provider_params is not None and not isinstance(provider_params, dict):
        raise ChatInputError("provider_params must be an object.", field="provider_params")
    columns = [
        Column(name, model, {**shared, **clean_parameters((provider_params or {}).get(name),
                                                          field=f"provider_params.{name}", per_column=True)})
        for name, model in targets
    ]
    return SendInput(message=message, columns=columns, system_prompt=system_prompt,
                     attachments=clean_attachment_ids(attachments))


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


def clean_parameters(params: dict | None, *, field: str, per_column: bool = False) -> dict:
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
                                     low=float(TEMPERATURE_MIN), high=float(TEMPERATURE_MAX)),
        "max_tokens": _clean_number(params.get("max_tokens"), field=f"{field}.max_tokens", kind=int,
                                    low=MAX_TOKENS_MIN, high=MAX_TOKENS_MAX),
        "system_prompt": prompt.strip() if prompt else None,
    }
    return {key: value for key, value in cleaned.items() if value not in (None, "")}


def _resolve_targets(selected_providers, selected_models) -> list[tuple[str, str]]:
    if not isinstance(selected_providers, list) or not selected_providers:
        raise ChatInputError("Pick at least one provider.", field="selected_providers")
    if len(selected_providers) > MAX_COLUMNS_PER_TURN:
        raise ChatInputError(f"Pick at most {MAX_COLUMNS_PER_TURN} providers.", field="selected_providers")
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
            raise ChatInputError(f"Unknown provider {str(name)[:MAX_PROVIDER_NAME_CHARS]!r}.",
                                 field="selected_providers")
        model = selected_models.get(name) or config.default_model or (config.models[0] if config.models else "")
        if not isinstance(model, str) or not model.strip() or len(model) > MAX_MODEL_CHARS:
            raise ChatInputError(f"Pick a model for {name}.", field="selected_models")
        if not config.allows(model.strip()):
            raise ChatInputError(f"The model {model.strip()!r} is not allowed for {name}; "
                                 f"allowed: {', '.join(config.allowed_models)}.", field="selected_models")
        targets.append((name, model.strip()))
    return targets


def clean_default_providers(names) -> list[str]:
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ChatInputError("default_providers must be a list of provider names.", field="default_providers")
    known = {config.name for config in provider_configs()}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ChatInputError(f"Unknown provider {unknown[0][:MAX_PROVIDER_NAME_CHARS]!r}.", field="default_providers")
    return list(dict.fromkeys(names))


def clean_default_params(params) -> dict:
    """``{temperature, max_tokens, provider_params: {provider: {temperature, max_tokens, system_prompt}}}``."""
    if not isinstance(params, dict):
        raise ChatInputError("default_params must be an object.", field="default_params")
    unknown = set(params) - {"temperature", "max_tokens", "provider_params"}
    if unknown:
        raise ChatInputError(f"default_params cannot hold {sorted(unknown)[0]!r}.", field="default_params")
    cleaned = clean_parameters(params, field="default_params")
    per_provider = params.get("provider_params") or {}
    if not isinstance(per_provider, dict):
        raise ChatInputError("default_params.provider_params must be an object.", field="default_params")
    if per_provider:
        cleaned["provider_params"] = {
            str(name)[:MAX_PROVIDER_NAME_CHARS]: clean_parameters(
                values, field=f"default_params.provider_params.{name}", per_column=True)
            for name, values in per_provider.items()
        }
    return cleaned


def clean_conversation_defaults(fields: dict) -> dict:
    """``default_providers`` and ``default_params`` of a conversation's fields, cleaned in place."""
    if "default_providers" in fields:
        fields["default_providers"] = clean_default_providers(fields["default_providers"])
    if "default_params" in fields:
        fields["default_params"] = clean_default_params(fields["default_params"])
    return fields
