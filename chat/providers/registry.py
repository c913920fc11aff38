"""Which providers exist and how to build them: a plain mapping, no import side effects.

Three sources, by name: the built-in ``demo`` provider, providers from the environment
(``openai``, ``anthropic``, ``ollama``) and Provider records from the admin. A record wins over an
environment or built-in provider of the same name, even a disabled record (which hides it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import socket
import threading
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection

from webox.collector import freeze_long_lived

from . import sdks
from .anthropic_messages import ANTHROPIC_DEFAULT_BASE_URL, AnthropicProvider
from .base import ChatMessage, ChatProvider, ChatRequest, ProviderConfig, ProviderError
from .crypto import SecretDecryptError, decrypt_secret
from .demo import DEMO_MODELS, DemoProvider
from .models import Provider
from .openai_compat import OPENAI_DEFAULT_BASE_URL, OpenAIProvider
from .policy import PolicyProvider, StreamPolicy, close_clients

logger = logging.getLogger("chat.providers")

PROVIDER_CLASSES: dict[str, type[ChatProvider]] = {
    "demo": DemoProvider,
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
}

OLLAMA_DEFAULT_BASE_URL = "http://localhost:11434/v1"


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _with_v1(url: str) -> str:
    """Ollama is usually given as ``http://host:11434``; its OpenAI endpoint is under ``/v1``."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit(parts._replace(path=path))


def restricted(config: ProviderConfig) -> ProviderConfig:
    """``config`` with only its allowed models listed, and a default among them."""
    if not config.allowed_models:
        return config
    models = config.only_allowed(config.models)
    default = config.default_model if config.allows(config.default_model) else (models[0] if models else "")
    return dataclasses.replace(config, models=models, default_model=default)


def _env_config(name: str, kind: str, prefix: str, *, key_var: str | None, base_url: str) -> ProviderConfig:
    models = _env_list(f"{prefix}_MODELS")
    default = os.environ.get(f"{prefix}_DEFAULT_MODEL", "").strip() or (models[0] if models else "")
    if default and default not in models:
        models = (default, *models)
    return restricted(ProviderConfig(
        name=name,
        kind=kind,
        base_url=base_url,
        api_key=os.environ.get(key_var, "") if key_var else "",
        models=models,
        default_model=default,
        source="env",
        allowed_models=_env_list(f"{prefix}_ALLOWED_MODELS"),
    ))


def env_provider_configs() -> list[ProviderConfig]:
    """``openai``, ``anthropic`` and ``ollama``, each when its key or base URL is set."""
    configs = []
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        configs.append(_env_config(
            "openai", "openai", "OPENAI", key_var="OPENAI_API_KEY",
            base_url=os.environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL,
        ))
    if os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_BASE_URL"):
        configs.append(_env_config(
            "anthropic", "anthropic", "ANTHROPIC", key_var="ANTHROPIC_API_KEY",
            base_url=os.environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_DEFAULT_BASE_URL,
        ))
    if os.environ.get("OLLAMA_BASE_URL"):
        configs.append(_env_config(
            "ollama", "openai", "OLLAMA", key_var=None, base_url=_with_v1(os.environ["OLLAMA_BASE_URL"]),
        ))
    return configs


def builtin_provider_configs() -> list[ProviderConfig]:
    if not settings.WEBOX_DEMO_PROVIDER:
        return []
    return [ProviderConfig(name="demo", kind="demo", models=DEMO_MODELS, default_model=DEMO_MODELS[0],
                           source="builtin")]


def db_provider_config(provider: Provider) -> ProviderConfig:
    """The config of a ``chat.models.Provider`` record, its key decrypted."""
    try:
        api_key = decrypt_secret(provider.api_key_encrypted)
    except SecretDecryptError:
        logger.error("provider %s: the stored API key cannot be decrypted with the configured keys", provider.name)
        api_key = ""
    models = tuple(provider.model_names or ())
    default = provider.default_model or (models[0] if models else "")
    if provider.kind == "demo" and not models:
        models, default = DEMO_MODELS, default or DEMO_MODELS[0]
    return restricted(ProviderConfig(
        name=provider.name,
        kind=provider.kind,
        base_url=provider.base_url,
        api_key=api_key,
        models=models,
        default_model=default,
        context_tokens=provider.context_tokens,
        source="db",
        allowed_models=tuple(provider.allowed_models or ()),
    ))


def all_provider_configs() -> list[tuple[ProviderConfig, bool]]:
    """Every provider from every source with whether it is enabled (one query: the records' version)."""
    by_name: dict[str, tuple[ProviderConfig, bool]] = {}
    for config in builtin_provider_configs() + env_provider_configs():
        by_name[config.name] = (config, True)
    for name, config, enabled in _record_configs_at(_records_version()):
        by_name[name] = (config, enabled)
    return list(by_name.values())


def _records_version() -> tuple:
    """How many Provider records there are and when the last was saved: an addition, a deletion or a
    save changes it. One aggregate, not the rows: every send lists the providers."""
    table, updated = Provider._meta.db_table, Provider._meta.get_field("updated_at").column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), MAX({quote(updated)}) FROM {quote(table)}")
        return tuple(cursor.fetchone())


@functools.lru_cache(maxsize=4)
def _record_configs_at(version: tuple) -> tuple[tuple[str, ProviderConfig, bool], ...]:
    # Read now, so at least as new as ``version``: each record's key decrypted once per version and process.
    return tuple((record.name, db_provider_config(record), record.enabled) for record in Provider.objects.all())


def provider_configs() -> list[ProviderConfig]:
    """Every enabled provider, by name. Database access: call from sync code."""
    return [config for config, enabled in all_provider_configs() if enabled]


def get_provider_config(name: str) -> ProviderConfig | None:
    """The enabled provider called ``name``: one query, and only its key decrypted (once per reply)."""
    record = Provider.objects.filter(name=name).first()
    if record is not None:  # a record wins over a built-in or environment provider, even disabled
        return db_provider_config(record) if record.enabled else None
    return next((config for config in builtin_provider_configs() + env_provider_configs() if config.name == name),
                None)


def provider_config_at(name: str, version: datetime | None) -> ProviderConfig | None:
    """``get_provider_config(name)``, its record read as of ``version`` (its ``updated_at``), without a query.

    Each reply's claim reads the version in its own statement; a record is read and its key
    decrypted once per version and process, not once per reply. No record: a built-in or
    environment provider, from the process's settings and environment.
    """
    if version is None:
        return next((config for config in builtin_provider_configs() + env_provider_configs()
                     if config.name == name), None)
    return _record_config(name, version)


@functools.lru_cache(maxsize=256)
def _record_config(name: str, version: datetime) -> ProviderConfig | None:
    # Read now, so at least as new as ``version``; a later change of the record is a new version.
    return get_provider_config(name)


# The keys that decrypt a record's API key are settings: a test that changes them starts afresh.
setting_changed.connect(lambda **kwargs: (_record_config.cache_clear(), _record_configs_at.cache_clear()),
                        weak=False, dispatch_uid="chat.providers.registry._record_config")


def sdk_names(configs) -> list[str]:
    """The SDK modules the providers ``configs`` call (chat/providers/sdks.py), each once."""
    names = (getattr(PROVIDER_CLASSES.get(config.kind), "sdk_name", None) for config in configs)
    return sorted({name for name in names if name})


def load_sdks(configs) -> None:
    """Import now the SDKs that the providers ``configs`` call (chat/providers/sdks.py)."""
    for name in sdk_names(configs):
        sdks.load(name)


def warm_sdks() -> None:
    """Make the first call of each loaded SDK now, to a loopback port that refuses it, so that a
    process's first reply does not pay its imports and TLS context (chat/providers/sdks.py).

    On a thread of its own with its own event loop: callable from any start hook, running loop or
    not. Never raises: a failed warm-up only leaves that cost to the first reply.
    """
    kinds = {}
    for kind, cls in PROVIDER_CLASSES.items():
        name = getattr(cls, "sdk_name", None)
        if name and sdks.loaded(name):
            kinds.setdefault(name, kind)
    if kinds:
        thread = threading.Thread(target=asyncio.run, args=(_warm(list(kinds.values())),), name="webox-warm-sdks")
        thread.start()
        thread.join(timeout=10)
        freeze_long_lived()  # what the first calls imported stays (webox/collector.py)


async def _warm(kinds: list[str]) -> None:
    policy = StreamPolicy(connect_timeout=2, first_token_timeout=2, idle_timeout=2, retry_budget=0, max_retries=0)
    request = ChatRequest(model="warm-up", messages=(ChatMessage("user", "warm-up"),))
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused at once
        port = refusing.getsockname()[1]
        for kind in kinds:
            config = ProviderConfig(name="warm-up", kind=kind, base_url=f"http://127.0.0.1:{port}/v1", api_key="-")
            try:
                async for _ in build_provider(config, policy=policy).stream(request):
                    pass
            except ProviderError:
                pass  # the refusal expected
            except Exception:
                logger.warning("the %s SDK could not be warmed up; its first reply will load what it needs",
                               kind, exc_info=True)
    await close_clients()


def build_provider(config: ProviderConfig, *, policy: StreamPolicy | None = None) -> ChatProvider:
    """The provider for ``config``; ``policy`` overrides the timeouts and retries from settings."""
    cls = PROVIDER_CLASSES[config.kind]
    if policy is not None and issubclass(cls, PolicyProvider):
        return cls(config, policy=policy)
    return cls(config)
