"""The providers a user can pick, each with its models: for the chat page's picker and the API."""

from __future__ import annotations

import dataclasses
import hashlib
import logging

from asgiref.sync import async_to_sync
from django.core.cache import cache

from .base import ProviderConfig, ProviderError
from .policy import StreamPolicy
from .registry import build_provider, provider_configs

logger = logging.getLogger("chat.providers")

DISCOVERY_TTL = 600
DISCOVERY_FAILURE_TTL = 60
DISCOVERY_TIMEOUT = 5.0


def discovered_models(config: ProviderConfig) -> list[str]:
    """The endpoint's models listing, cached; empty when it cannot be fetched."""
    digest = hashlib.sha256(f"{config.name}\n{config.kind}\n{config.base_url}".encode()).hexdigest()[:32]
    key = f"webox:provider-models:{digest}"
    models = cache.get(key)
    if models is not None:
        return models
    policy = dataclasses.replace(
        StreamPolicy.from_settings().without_retries(),
        connect_timeout=DISCOVERY_TIMEOUT, first_token_timeout=DISCOVERY_TIMEOUT,
    )
    try:
        models = async_to_sync(build_provider(config, policy=policy).list_models)()
    except ProviderError as exc:
        logger.warning("provider %s: listing its models failed: %s: %s", config.name, exc.code, exc.detail)
        cache.set(key, [], DISCOVERY_FAILURE_TTL)
        return []
    cache.set(key, models, DISCOVERY_TTL)
    return models


def provider_catalog() -> list[ProviderConfig]:
    """Every enabled provider; one configured with no model list gets its endpoint's listing.

    Only the models users may ask for are listed (``ProviderConfig.allowed_models``).
    """
    catalog = []
    for config in provider_configs():
        if not config.models:
            models = config.only_allowed(discovered_models(config))
            config = dataclasses.replace(config, models=models, default_model=models[0] if models else "")
        catalog.append(config)
    return catalog
