"""What a reply stores about its usage when it ends, and the backfill of older replies."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.db import transaction

from chat.models import Message, ReplyStatus, Role
from chat.providers import ErrorCode, ProviderConfig, get_provider_config

from .models import ModelPrice
from .pricing import LOOK_UP, reply_cost
from .tokens import estimate_completion_tokens, estimate_prompt_tokens

# A reply's figures at most, whatever a provider reports or a price works out to: they fit the
# columns (and the usage sums) with room to spare, and 15 significant digits of cost are what SQLite
# keeps exactly. Imports are held to the same bounds (chat/imports/checks.py).
REPLY_MAX_TOKENS = 10**9
REPLY_MAX_COST = Decimal("9999999.99999999")


def tokens_per_second(*, completion_tokens: int | None, ttft_ms: int | None, duration_ms: int | None) -> float | None:
    """Completion tokens over the streaming time after the first token; None when there is none."""
    if not completion_tokens or ttft_ms is None or duration_ms is None or duration_ms <= ttft_ms:
        return None
    return completion_tokens / ((duration_ms - ttft_ms) / 1000)


def usage_fields(*, reply: Message, asked: bool, prompt_tokens: int | None = None,
                 completion_tokens: int | None = None, estimated: bool = False,
                 config: ProviderConfig | None, override: ModelPrice | None | object = LOOK_UP) -> dict:
    """The usage and cost fields of an ended reply, ``reply`` holding its final text and timings.

    The provider's counts are used where it sent them; a reply that asked its provider but got no
    count (stopped, failed, dropped, or a provider that never reports usage) is counted from the
    text streamed and the context sent, and marked estimated. A reply that never asked its
    provider records no usage. ``estimated`` says the counts passed in were estimated already;
    ``config`` is the reply's provider (None: not configured, so no price); ``override`` the operator's
    price for it when already looked up (``pricing.override_at``).
    """
    if not asked:
        return {"usage_estimated": False, "cost": None, "cost_currency": "", "cost_estimated": False,
                "tokens_per_second": None}
    if completion_tokens is None:
        completion_tokens = estimate_completion_tokens(reply.content)
        estimated = True
    if prompt_tokens is None:
        prompt_tokens = estimate_prompt_tokens(reply, context_tokens=config.context_tokens if config else None)
        estimated = True
    prompt_tokens, completion_tokens = min(prompt_tokens, REPLY_MAX_TOKENS), min(completion_tokens, REPLY_MAX_TOKENS)
    cost = reply_cost(config=config, provider=reply.provider, model=reply.model, prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens, at=reply.started_at or reply.created_at,
                      override=override)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "usage_estimated": estimated,
        "cost": min(cost.amount, REPLY_MAX_COST) if cost else None,
        "cost_currency": cost.currency if cost else "",
        "cost_estimated": bool(cost) and estimated,
        "tokens_per_second": tokens_per_second(completion_tokens=completion_tokens, ttft_ms=reply.ttft_ms,
                                               duration_ms=reply.duration_ms),
    }


def replies_usage_backfill(*, batch_size: int = 500, recompute: bool = False,
                           progress: Callable[[int], None] | None = None) -> int:
    """Give every ended reply that asked its provider its usage and cost; returns how many changed.

    A reply asked its provider when it was claimed (``started_at``), unless its provider was not
    configured. Idempotent: token counts already stored are kept (with their estimated flag),
    missing ones are estimated, and a reply is written only when a figure changes, so a second run
    changes nothing. Replies with a price already stored are skipped unless ``recompute`` (after a
    price change). Works in batches of ``batch_size``, each in its own transaction, by id.
    """
    ended = (
        # Imported replies keep the figures of their file: webox measured none of them.
        Message.objects.filter(role=Role.ASSISTANT, started_at__isnull=False, imported=False)
        .exclude(status__in=[ReplyStatus.PENDING, ReplyStatus.STREAMING])
        .exclude(error_code=ErrorCode.PROVIDER_UNKNOWN)
    )
    if not recompute:
        ended = ended.filter(cost__isnull=True, cost_currency="")
    configs: dict[str, ProviderConfig | None] = {}
    changed, last_id = 0, 0
    while True:
        page = ended.filter(pk__gt=last_id).select_related("conversation", "reply_to").order_by("pk")
        batch = list(page[:batch_size])
        if not batch:
            return changed
        with transaction.atomic():
            for reply in batch:
                if reply.provider not in configs:
                    configs[reply.provider] = get_provider_config(reply.provider)
                fields = usage_fields(
                    reply=reply, asked=True, config=configs[reply.provider], prompt_tokens=reply.prompt_tokens,
                    completion_tokens=reply.completion_tokens, estimated=reply.usage_estimated,
                )
                if any(getattr(reply, name) != value for name, value in fields.items()):
                    Message.objects.filter(pk=reply.pk).update(**fields)
                    changed += 1
        last_id = batch[-1].pk
        if progress:
            progress(changed)
