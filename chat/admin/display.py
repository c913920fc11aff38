"""What the chat admin pages show about a reply or a conversation, as short plain text or links."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse
from django.utils.html import format_html

from ..models import Message

ADMIN_CSS = {"all": ("chat/admin/admin.css", "/chat/code.css")}
LIST_TEXT_CHARS = 80
FILTER_CHOICES_LIMIT = 100
EMPTY = "—"


def cost_summary(totals: dict[str, Decimal], unpriced: int) -> str:
    """Ended replies' cost per currency, and how many had no known price ("unknown", never 0)."""
    parts = [f"{amount.normalize():f} {currency}" for currency, amount in sorted(totals.items())]
    if unpriced:
        parts.append(f"{unpriced} unknown")
    return "; ".join(parts) or EMPTY


def figures_text(*pairs: tuple[str, object, str]) -> str:
    """``label value unit`` pairs with a known value, joined; the empty mark when none is known."""
    known = [f"{label} " * bool(label) + (f"{value:,}" if isinstance(value, int) else str(value)) + unit
             for label, value, unit in pairs if value not in (None, "")]
    return " · ".join(known) or EMPTY


def usage_text(reply: Message) -> str:
    return figures_text(("prompt", reply.prompt_tokens, " tokens"), ("completion", reply.completion_tokens, " tokens"))


def timings_text(reply: Message) -> str:
    return figures_text(("first token", reply.ttft_ms, " ms"), ("total", reply.duration_ms, " ms"))


def parameters_text(parameters: dict | None) -> str:
    if not parameters:
        return "provider defaults"
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in sorted(parameters.items())
                     if not isinstance(value, dict))


def admin_link(obj, label: str | None = None) -> str:
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))
