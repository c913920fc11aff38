"""Which models can see images: the built-in table, the operator's environment, the admin.

The last word wins, most specific first: an admin ``VisionModel`` row (which may also say "no"),
then ``WEBOX_VISION_MODELS``, then ``BUILTIN_VISION_MODELS``. Patterns are fnmatch globs on the
model name, case-insensitive; providers are matched by their webox name (``*`` for any).
"""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .models import VisionModel

# Model families that accept images, whatever provider serves them (docs/attachments.md).
BUILTIN_VISION_MODELS: tuple[str, ...] = (
    "gpt-4o*", "chatgpt-4o*", "gpt-4.1*", "gpt-4-turbo*", "gpt-4-vision*", "gpt-5*", "o1", "o1-20*", "o3*", "o4*",
    "claude-3*", "claude-opus-4*", "claude-sonnet-4*", "claude-haiku-4*", "claude-*-4-*",
    "gemini-*", "pixtral*", "mistral-medium*", "mistral-small-3*", "llava*", "bakllava*", "llama3.2-vision*",
    "llama-3.2-*-vision*", "llama-4*", "qwen2-vl*", "qwen2.5-vl*", "qwen2.5vl*", "gemma3*", "minicpm-v*",
    "moondream*", "grok-*vision*", "grok-4*",
)


@lru_cache(maxsize=8)
def environment_table(raw: str) -> dict[str, tuple[str, ...]]:
    """``WEBOX_VISION_MODELS`` parsed: ``{"provider or *": ["glob", ...]}``."""
    if not raw.strip():
        return {}
    try:
        table = json.loads(raw)
    except ValueError:
        table = None
    if not isinstance(table, dict) or not all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in table.values()):
        raise ImproperlyConfigured('WEBOX_VISION_MODELS must be JSON like {"ollama": ["llava*"], "*": ["my-vl-*"]}.')
    return {str(provider): tuple(patterns) for provider, patterns in table.items()}


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def sees_images(provider: str, model: str, *, rows: list[VisionModel] | None = None) -> bool:
    """Whether ``provider``'s ``model`` is sent images. ``rows``: the admin table, if already read."""
    if rows is None:
        rows = list(VisionModel.objects.all())
    for row in rows:
        if _matches(row.provider, provider) and _matches(row.model_pattern, model):
            return row.sees_images
    for scope, patterns in environment_table(settings.WEBOX_VISION_MODELS).items():
        if _matches(scope, provider) and any(_matches(p, model) for p in patterns):
            return True
    # A name like "openai/gpt-4o" (OpenRouter) is matched by its last part too.
    names = {model, model.rsplit("/", 1)[-1]}
    return any(_matches(p, name) for p in BUILTIN_VISION_MODELS for name in names)
