"""Every write to Provider records, and the operator actions on providers (check, refresh).

Keys go in through ``provider_set_api_key`` (or the ``api_key`` argument) and are stored
encrypted; nothing here returns, logs or puts a key in an error message.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.db import transaction

from .base import ChatMessage, ChatRequest, ErrorCode, ProviderConfig, ProviderError, StreamResult
from .crypto import encrypt_secret, reencrypt_secret
from .models import Provider
from .policy import StreamPolicy
from .registry import PROVIDER_CLASSES, build_provider, db_provider_config

logger = logging.getLogger("chat.providers")

EDITABLE_FIELDS = ("name", "kind", "base_url", "enabled", "model_names", "default_model", "context_tokens",
                   "allowed_models")


def validate_base_url(url: str) -> str:
    """An http(s) URL with a host and no credentials in it.

    Checked here rather than by ``URLField``, which refuses single-label hosts such as a Docker
    service name (``http://ollama:11434``).
    """
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError({"base_url": "Enter a valid URL."}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"base_url": "Enter an http:// or https:// URL with a host."})
    if parts.username or parts.password:
        raise ValidationError({"base_url": "Put credentials in the API key, not in the URL."})
    return url


def _validate(provider: Provider) -> None:
    provider.base_url = validate_base_url(provider.base_url)
    if provider.kind not in PROVIDER_CLASSES:
        raise ValidationError({"kind": f"Unknown provider kind {provider.kind!r}."})
    names = [str(name).strip() for name in provider.model_names or [] if str(name).strip()]
    provider.model_names = list(dict.fromkeys(names))
    patterns = [str(name).strip() for name in provider.allowed_models or [] if str(name).strip()]
    provider.allowed_models = list(dict.fromkeys(patterns))
    if provider.default_model and provider.model_names and provider.default_model not in provider.model_names:
        provider.model_names.insert(0, provider.default_model)
    provider.full_clean(exclude=["api_key_encrypted", "base_url"])


def provider_save(*, provider: Provider, api_key: str | None = None) -> Provider:
    """Validate and save a new or changed record. ``api_key``: ``None`` keeps it, ``""`` clears it."""
    _validate(provider)
    if api_key is not None:
        provider.api_key_encrypted = encrypt_secret(api_key.strip())
    provider.save()
    return provider


def provider_create(
    *,
    name: str,
    kind: str,
    base_url: str = "",
    api_key: str = "",
    enabled: bool = True,
    model_names: list[str] | tuple[str, ...] = (),
    default_model: str = "",
    context_tokens: int | None = None,
    allowed_models: list[str] | tuple[str, ...] = (),
) -> Provider:
    provider = Provider(
        name=name, kind=kind, base_url=base_url, enabled=enabled, model_names=list(model_names),
        default_model=default_model, context_tokens=context_tokens, allowed_models=list(allowed_models),
    )
    return provider_save(provider=provider, api_key=api_key)


def provider_update(*, provider: Provider, api_key: str | None = None, **fields: Any) -> Provider:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    for field, value in fields.items():
        setattr(provider, field, value)
    return provider_save(provider=provider, api_key=api_key)


def provider_set_api_key(*, provider: Provider, api_key: str) -> Provider:
    """Store ``api_key`` encrypted; an empty one clears it."""
    provider.api_key_encrypted = encrypt_secret(api_key.strip())
    provider.save(update_fields=["api_key_encrypted", "updated_at"])
    return provider


def provider_delete(*, provider: Provider) -> None:
    provider.delete()


def provider_refresh_models(*, provider: Provider) -> list[str]:
    """Replace the record's model list with the endpoint's models listing.

    The default model is kept when the endpoint still serves it, else the first listed one.
    Raises ``ProviderError`` when the listing fails.
    """
    models = async_to_sync(build_provider(db_provider_config(provider)).list_models)()
    provider.model_names = models
    if provider.default_model not in models:
        provider.default_model = models[0] if models else ""
    provider.save(update_fields=["model_names", "default_model", "updated_at"])
    return models


@transaction.atomic
def provider_rotate_keys() -> int:
    """Re-encrypt every stored key with the first of ``WEBOX_ENCRYPTION_KEYS``; the count done."""
    count = 0
    for provider in Provider.objects.select_for_update().exclude(api_key_encrypted=""):
        provider.api_key_encrypted = reencrypt_secret(provider.api_key_encrypted)
        provider.save(update_fields=["api_key_encrypted", "updated_at"])
        count += 1
    return count


# --- check -----------------------------------------------------------------------------------------

CHECK_OUTCOMES = {
    ErrorCode.AUTH: "bad key",
    ErrorCode.CONNECTION_LOST: "unreachable",
    ErrorCode.TIMEOUT: "unreachable",
    ErrorCode.MODEL_NOT_FOUND: "model unknown",
}


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: str  # "ok", "bad key", "unreachable", "model unknown" or "error"
    model: str = ""
    detail: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


async def provider_check(config: ProviderConfig, *, model: str = "") -> CheckResult:
    """A tiny real call (one token, no retries) that says whether the provider works."""
    provider = build_provider(config, policy=StreamPolicy.from_settings().without_retries())
    started = time.monotonic()
    model = model or config.default_model or (config.models[0] if config.models else "")
    try:
        if not model:
            models = await provider.list_models()
            if not models:
                return CheckResult(config.name, "model unknown", detail="The endpoint lists no models.")
            model = models[0]
        request = ChatRequest(model=model, messages=(ChatMessage("user", "Say OK."),), max_tokens=1)
        async for item in provider.stream(request):
            if isinstance(item, StreamResult):
                break
    except ProviderError as exc:
        return CheckResult(config.name, CHECK_OUTCOMES.get(exc.code, "error"), model, f"{exc.code}: {exc.detail}",
                           int((time.monotonic() - started) * 1000))
    return CheckResult(config.name, "ok", model, duration_ms=int((time.monotonic() - started) * 1000))
