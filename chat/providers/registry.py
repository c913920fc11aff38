"""Which providers exist and how to build them: a plain mapping, no import side effects."""

from __future__ import annotations

from django.conf import settings

from .base import ChatProvider, ProviderConfig
from .demo import DEMO_MODELS, DemoProvider

PROVIDER_CLASSES: dict[str, type[ChatProvider]] = {
    "demo": DemoProvider,
}


def builtin_provider_configs() -> list[ProviderConfig]:
    if not settings.WEBOX_DEMO_PROVIDER:
        return []
    return [ProviderConfig(name="demo", kind="demo", models=DEMO_MODELS, default_model=DEMO_MODELS[0],
                           source="builtin")]


def provider_configs() -> list[ProviderConfig]:
    """Every enabled provider, by name. Database access: call from sync code."""
    return builtin_provider_configs()


def get_provider_config(name: str) -> ProviderConfig | None:
    return next((config for config in provider_configs() if config.name == name), None)


def build_provider(config: ProviderConfig) -> ChatProvider:
    return PROVIDER_CLASSES[config.kind](config)
