"""What a send and a conversation's defaults may hold: the limits, defined once, and the cleaning.

The REST serializers (chat/api/send.py) take their ranges from here for the schema; the socket sends
its frame's fields straight to ``send_input_clean``; both get the same ``SendInput``. Refusals are
``ChatInputError`` (400), with the field at fault.

A turn is a list of columns (docs/compare.md). A send names them either in full (``columns``:
provider, model and own parameters each, a provider as often as wanted) or in the short form
(``selected_providers`` with ``selected_models`` and ``provider_params``: one column per provider).
Each column has a key, stored on its reply, by which the next turn's column continues its thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chat.attachments.services import clean_attachment_ids
from chat.errors import ChatInputError
from chat.providers import ProviderConfig, provider_configs

MAX_MESSAGE_CHARS = 100_000
MAX_COLUMNS_PER_TURN = 8
MAX_SYSTEM_PROMPT_CHARS = 20_000
MAX_MODEL_CHARS = 200
MAX_PROVIDER_NAME_CHARS = 100
TEMPERATURE_MIN, TEMPERATURE_MAX = 0, 2
MAX_TOKENS_MIN, MAX_TOKENS_MAX = 1, 200_000
MAX_COLUMN_KEY_CHARS = 40
COLUMN_FIELDS = {"key", "provider", "model", "temperature", "max_tokens", "system_prompt", "history"}
# What a send may name: ``send_input_clean``'s fields, taken from a JSON body or a socket's frame (others are ignored).
SEND_FIELDS = ("message", "columns", "selected_providers", "selected_models", "temperature", "max_tokens",
               "system_prompt", "provider_params", "attachments")
# What a column joining mid-conversation is sent of the turns before it joined (chat/context.py).
HISTORIES = ("chosen", "empty")
COLUMN_KEY = re.compile(rf"[A-Za-z0-9_.:#@/+-]{{1,{MAX_COLUMN_KEY_CHARS}}}")


@dataclass(frozen=True)
class Column:
    """One reply of a turn: the provider and model that write it, and its own parameters."""

    provider: str
    model: str
    parameters: dict
    key: str
    # The provider as the column was checked against it: the send's estimate reads the providers no second time.
    config: ProviderConfig | None = field(default=None, compare=False, repr=False)

    def as_default(self) -> dict:
        """The column as a conversation's ``default_columns`` holds it."""
        return {"key": self.key, "provider": self.provider, "model": self.model, **self.parameters}


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


def send_input_clean(*, message, columns=None, selected_providers=None, selected_models=None, temperature=None,
                     max_tokens=None, system_prompt=None, provider_params=None, attachments=None,
                     message_required: bool = True) -> SendInput:
    """The send of the REST API and of the socket's ``send`` frame, checked and resolved.

    ``columns`` is the full form; ``selected_providers`` (with ``selected_models`` and
    ``provider_params``) the short one. ``temperature`` and ``max_tokens`` apply to every column
    that sets none of its own. A field not named here is a ``TypeError`` (the socket answers it as
    unexpected fields; the REST serializer catches it first). Without ``message_required`` (a cost
    estimate while the user is still typing) the message may be empty.
    """
    if message_required or message:
        message_clean(message)
    elif not isinstance(message, str):
        raise ChatInputError("message must be text.", field="message")
    if system_prompt is not None:
        clean_system_prompt(system_prompt)
    shared = clean_parameters({"temperature": temperature, "max_tokens": max_tokens}, field="")
    attachment_ids = clean_attachment_ids(attachments)
    if columns is not None:
        if selected_providers is not None or selected_models is not None or provider_params is not None:
            raise ChatInputError("Send either columns or selected_providers (the short form), not both.",
                                 field="columns")
        cleaned = clean_columns(columns, shared=shared)
    else:
        cleaned = columns_from_short_form(selected_providers, selected_models, provider_params, shared)
    return SendInput(message=message, columns=cleaned, system_prompt=system_prompt, attachments=attachment_ids)


def message_clean(message) -> str:
    if not isinstance(message, str) or not message.strip():
        raise ChatInputError("Write a message first.", field="message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatInputError(f"A message holds at most {MAX_MESSAGE_CHARS} characters.", field="message")
    return clean_text(message, field="message")


def columns_from_short_form(selected_providers, selected_models, provider_params, shared: dict) -> list[Column]:
    """One column per picked provider, keyed by the provider's name (the thread it always had)."""
    targets = _resolve_targets(selected_providers, selected_models)
    if provider_params is not None and not isinstance(provider_params, dict):
        raise ChatInputError("provider_params must be an object.", field="provider_params")
    return [
        Column(config.name, model, {**shared, **clean_parameters((provider_params or {}).get(config.name),
                                                                 field=f"provider_params.{config.name}",
                                                                 per_column=True)}, config.name, config)
        for config, model in targets
    ]


def clean_columns(columns, *, shared: dict | None = None, field: str = "columns") -> list[Column]:
    """1 to MAX_COLUMNS_PER_TURN columns, each resolved to a configured provider and an allowed model.

    A column without a ``key`` gets one from its provider: the provider's name for its first column
    in the list, ``name#2``, ``name#3``… for the next ones. So a send in the short form and the same
    columns in the full form continue the same threads. Keys are unique within a turn.
    """
    if not isinstance(columns, list) or not columns:
        raise ChatInputError("Pick at least one column.", field=field)
    if len(columns) > MAX_COLUMNS_PER_TURN:
        raise ChatInputError(f"A turn has at most {MAX_COLUMNS_PER_TURN} columns.", field=field)
    configs = {config.name: config for config in provider_configs()}
    seen: dict[str, int] = {}
    cleaned: list[Column] = []
    for index, raw in enumerate(columns):
        where = f"{field}[{index}]"
        if not isinstance(raw, dict):
            raise ChatInputError(f"{where} must be an object.", field=field)
        unknown = set(raw) - COLUMN_FIELDS
        if unknown:
            raise ChatInputError(f"{where} cannot hold {sorted(map(str, unknown))[0][:40]!r}.", field=field)
        name = raw.get("provider")
        config = configs.get(name) if isinstance(name, str) else None
        if config is None:
            raise ChatInputError(f"{where}: unknown provider {str(name)[:MAX_PROVIDER_NAME_CHARS]!r}.", field=field)
        model = _allowed_model(config, raw.get("model"), field=field)
        seen[name] = seen.get(name, 0) + 1
        key = raw.get("key")
        if key is None:
            key = name if seen[name] == 1 else f"{name}#{seen[name]}"
        elif not isinstance(key, str) or not COLUMN_KEY.fullmatch(key):
            raise ChatInputError(f"{where}.key must be 1 to {MAX_COLUMN_KEY_CHARS} letters, digits or _.:#@/+-.",
                                 field=field)
        if any(column.key == key for column in cleaned):
            raise ChatInputError(f"Two columns have the key {key[:MAX_COLUMN_KEY_CHARS]!r}.", field=field)
        parameters = clean_parameters({k: v for k, v in raw.items() if k not in ("key", "provider", "model")},
                                      field=where, per_column=True)
        history = raw.get("history")
        if history is not None:
            if history not in HISTORIES:
                raise ChatInputError(f"{where}.history must be chosen or empty.", field=field)
            # Stored on the reply, so the column's later turns keep its rule.
            parameters["history"] = history
        cleaned.append(Column(name, model, {**(shared or {}), **parameters}, key, config))
    return cleaned


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
    """temperature and max_tokens; with ``per_column``, also a column's own ``system_prompt``. ``field``: where
    they are in the body, which an error names ("": at its top level)."""
    params = params or {}
    if not isinstance(params, dict):
        raise ChatInputError(f"{field} must be an object.", field=field)
    prompt = params.get("system_prompt") if per_column else None
    if prompt is not None and (not isinstance(prompt, str) or len(prompt) > MAX_SYSTEM_PROMPT_CHARS):
        raise ChatInputError(f"{field}.system_prompt must be text of at most {MAX_SYSTEM_PROMPT_CHARS} characters.",
                             field=field)
    within = f"{field}." if field else ""
    cleaned = {
        "temperature": _clean_number(params.get("temperature"), field=f"{within}temperature", kind=float,
                                     low=float(TEMPERATURE_MIN), high=float(TEMPERATURE_MAX)),
        "max_tokens": _clean_number(params.get("max_tokens"), field=f"{within}max_tokens", kind=int,
                                    low=MAX_TOKENS_MIN, high=MAX_TOKENS_MAX),
        "system_prompt": prompt.strip() if prompt else None,
    }
    return {key: value for key, value in cleaned.items() if value not in (None, "")}


def _resolve_targets(selected_providers, selected_models) -> list[tuple[ProviderConfig, str]]:
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
        targets.append((config, _allowed_model(config, selected_models.get(name), field="selected_models")))
    return targets


def _allowed_model(config, model, *, field: str) -> str:
    """The model asked for, else the provider's default; refused when the provider does not allow it."""
    model = model or config.default_model or (config.models[0] if config.models else "")
    if not isinstance(model, str) or not model.strip() or len(model) > MAX_MODEL_CHARS:
        raise ChatInputError(f"Pick a model for {config.name}.", field=field)
    if not config.allows(model.strip()):
        raise ChatInputError(f"The model {model.strip()!r} is not allowed for {config.name}; "
                             f"allowed: {', '.join(config.allowed_models)}.", field=field)
    return model.strip()


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


def clean_default_columns(columns) -> list[dict]:
    """A conversation's default column list: like a send's ``columns``, or empty."""
    if columns == []:
        return []
    return [column.as_default() for column in clean_columns(columns, field="default_columns")]


SHORT_FORM_DEFAULTS = ("default_providers", "default_models", "default_params")


def default_columns_from_short_form(providers: list, models: dict, params: dict) -> list[dict]:
    """The default columns that the short-form defaults describe: one per provider, keyed by its name."""
    shared = {k: params[k] for k in ("temperature", "max_tokens") if k in params}
    own = params.get("provider_params") or {}
    return [{"key": name, "provider": name, **({"model": models[name]} if models.get(name) else {}), **shared,
             **own.get(name, {})} for name in providers]


def short_form_from_default_columns(columns: list[dict]) -> dict:
    """The short-form defaults of a column list: each provider once, with its first column's model and settings."""
    first: dict[str, dict] = {}
    for column in columns:
        first.setdefault(column["provider"], column)
    own = {name: {k: v for k, v in column.items() if k not in ("key", "provider", "model")}
           for name, column in first.items()}
    own = {name: values for name, values in own.items() if values}
    return {"default_providers": list(first), "default_models": {n: c["model"] for n, c in first.items()},
            "default_params": {"provider_params": own} if own else {}}


def clean_conversation_defaults(fields: dict, *, current: dict | None = None) -> dict:
    """A conversation's default fields, cleaned in place, the column list and the short form kept in step.

    ``default_columns`` is what the page uses; the short-form fields (``default_providers``,
    ``default_models``, ``default_params``) stay for older clients. Changing one side alone
    rewrites the other from it; ``current`` holds the conversation's short-form fields as they are.
    """
    if "default_providers" in fields:
        fields["default_providers"] = clean_default_providers(fields["default_providers"])
    if "default_params" in fields:
        fields["default_params"] = clean_default_params(fields["default_params"])
    if "default_columns" in fields:
        fields["default_columns"] = clean_default_columns(fields["default_columns"])
    short_given = any(name in fields for name in SHORT_FORM_DEFAULTS)
    if "default_columns" in fields and not short_given:
        fields.update(short_form_from_default_columns(fields["default_columns"]))
    elif short_given and "default_columns" not in fields:
        merged = {**{"default_providers": [], "default_models": {}, "default_params": {}}, **(current or {}), **fields}
        fields["default_columns"] = default_columns_from_short_form(
            merged["default_providers"], merged["default_models"] or {}, merged["default_params"] or {})
    return fields
