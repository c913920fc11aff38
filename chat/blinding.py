"""What a blind turn hides until it is revealed, and how: one place for every surface that shows replies.

A reply of a blind turn (``Message.blind_label`` set, ``blind_revealed_at`` unset) goes out as
"Model A", "Model B", …: no provider, no model, no column key, no estimate, no parameters, no usage,
cost or timings, and its text with every name of a model family or provider masked (each character
by ``MASK``, so lengths and offsets in the text stay what the stream's are). The REST serializers, socket events and
snapshots (chat/serializers.py), search (chat/search.py's results, in chat/api/search.py) and the export
(chat/exports.py) all hide through here. A low-level module: it imports nothing of chat but models.
"""

from __future__ import annotations

import re
import string

from .models import Message

MASK = "█"
# Letters in turn order: a turn holds at most 8 columns, regenerated versions keep their column's letter.
LABELS = string.ascii_uppercase

# Names by which a reply may give away who wrote it: providers, vendors and model families. Matched
# case-insensitively as whole words (with their version suffixes, "gpt-4o-mini", "claude-3.5").
_KNOWN_NAMES = (
    "openai", "chatgpt", "gpt", "o1", "o3", "o4", "anthropic", "claude", "sonnet", "opus", "haiku", "google",
    "gemini", "gemma", "bard", "deepmind", "meta", "llama", "mistral", "mixtral", "codestral", "qwen", "alibaba",
    "deepseek", "grok", "xai", "cohere", "command-r", "phi", "microsoft", "ollama", "perplexity", "yi", "falcon",
)


def hidden(message: Message) -> bool:
    """True while a blind turn's reply must not say who wrote it."""
    return bool(message.blind_label) and message.blind_revealed_at is None


def label_name(label: str) -> str:
    return f"Model {label}"


def _names_pattern(extra: tuple[str, ...]) -> re.Pattern:
    names = sorted({n.lower() for n in (*_KNOWN_NAMES, *extra) if n}, key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    # A name, digits glued to it ("llama3"), then version parts ("-4o-mini", ".1", ":8b"); a longer word
    # that merely starts with a name ("philosophy", "metaphor") is not one.
    return re.compile(rf"(?<!\w)(?:{alternatives})(?:\d\w*)?(?:[-_.:/]\w+)*(?!\w)", re.IGNORECASE)


def own_names(provider: str, model: str) -> tuple[str, ...]:
    """The reply's own provider and model, and the model's parts ("llama3.1:8b" → "llama3.1")."""
    parts = re.split(r"[/:]", model)
    return tuple(n for n in (provider, model, *parts) if len(n) >= 2)


def mask_names(text: str, *, provider: str = "", model: str = "") -> str:
    """``text`` with every name of a provider or model masked, character for character."""
    if not text:
        return text
    pattern = _names_pattern(own_names(provider, model))
    return pattern.sub(lambda match: MASK * len(match.group(0)), text)


def mask_delta_event(event: dict, names: tuple[str, str] | None) -> dict:
    """A ``message.delta`` with a hidden reply's names (provider, model) masked in its text; as it is for None."""
    if names is None:
        return event
    return {**event, "text": mask_names(event["text"], provider=names[0], model=names[1])}


def mask_blocks_event(event: dict, names: tuple[str, str] | None) -> dict:
    """A ``message.blocks`` with a hidden reply's names masked in its HTML and its open block's."""
    if names is None:
        return event
    masked = {**event, "html": mask_names(event["html"], provider=names[0], model=names[1])}
    if "open" in event:
        masked["open"] = {**event["open"], "html": mask_names(event["open"]["html"], provider=names[0], model=names[1])}
    return masked


def hide_message_data(data: dict, message: Message) -> dict:
    """A serialized reply as a blind turn shows it before its reveal (``data`` is changed and returned)."""
    data["provider"] = ""
    data["model"] = ""
    # A column's key defaults to its provider's name (or names a model); the estimate names its price.
    data["column"] = ""
    data["estimate"] = None
    data["parameters"] = {}
    data["ttft_ms"] = None
    data["duration_ms"] = None
    data["usage"] = {"prompt_tokens": None, "completion_tokens": None, "estimated": False, "cost": None,
                     "cost_currency": "", "cost_estimated": False, "tokens_per_second": None}
    return data
