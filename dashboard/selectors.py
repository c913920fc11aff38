"""Dashboard figures, aggregated by the database: sums and counts per group, percentiles per group.

Every function runs a fixed number of queries whatever the number of replies, models, users or
days (tests/dashboard/test_queries.py). Replies count once they have ended (complete, error or
cancelled); cost sums are kept per currency, since webox converts none.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from chat.models import Message, ReplyStatus, Role

from .filters import Filters
from .percentiles import native_percentiles, percentile_annotations, unpack, windowed_percentiles

ENDED = (ReplyStatus.COMPLETE, ReplyStatus.ERROR, ReplyStatus.CANCELLED)
MODEL = ["provider", "model"]
TIMINGS = {"ttft_ms": "ttft_ms", "duration_ms": "duration_ms"}
P50_P95 = {"p50": 0.5, "p95": 0.95}
TOP_ERROR_CODES = 3
EIGHT_PLACES = Decimal("0.00000001")
USER_SORTS = {"user": "conversation__owner__username", "replies": "t_replies", "tokens": "t_tokens",
              "cost": "t_cost", "errors": "t_errors"}


def replies(filters: Filters, *, start=None, end=None) -> QuerySet:
    """Ended replies in scope (one user's, or all for the site view), in the period, filtered."""
    qs = Message.objects.filter(role=Role.ASSISTANT, status__in=ENDED,
                                created_at__gte=start or filters.start, created_at__lt=end or filters.end)
    if filters.owner_id is not None:
        qs = qs.filter(conversation__owner_id=filters.owner_id)
    if filters.provider:
        qs = qs.filter(provider=filters.provider)
    if filters.model:
        qs = qs.filter(model=filters.model)
    return qs


def _counts(prefix: str = "t_", when: Q | None = None) -> dict:
    """Replies, tokens, errors and cancellations; ``when`` restricts them (conditional aggregation)."""
    def only(extra: Q | None = None) -> Q | None:
        parts = [q for q in (when, extra) if q is not None]
        if not parts:
            return None
        combined = parts[0]
        for q in parts[1:]:
            combined &= q
        return combined

    return {
        f"{prefix}replies": Count("pk", filter=only()),
        f"{prefix}prompt": Coalesce(Sum("prompt_tokens", filter=only()), 0),
        f"{prefix}completion": Coalesce(Sum("completion_tokens", filter=only()), 0),
        f"{prefix}estimated": Count("pk", filter=only(Q(usage_estimated=True))),
        f"{prefix}errors": Count("pk", filter=only(Q(status=ReplyStatus.ERROR))),
        f"{prefix}cancelled": Count("pk", filter=only(Q(status=ReplyStatus.CANCELLED))),
        f"{prefix}unpriced": Count("pk", filter=only(Q(cost__isnull=True))),
    }


def _costs(qs: QuerySet, group: list[str]) -> dict[tuple, dict[str, tuple[Decimal, int]]]:
    """``{group values: {currency: (sum, priced replies)}}``, one query."""
    out: dict[tuple, dict[str, tuple[Decimal, int]]] = defaultdict(dict)
    rows = (qs.filter(cost__isnull=False).values(*group, "cost_currency")
            .annotate(_sum=Sum("cost"), _priced=Count("pk")).order_by())
    for row in rows:
        out[tuple(row[g] for g in group)][row["cost_currency"]] = (Decimal(row["_sum"]), row["_priced"])
    return out


def money(amount: Decimal) -> str:
    return f"{Decimal(amount).quantize(EIGHT_PLACES):f}"


def cost_figures(costs: dict[str, tuple[Decimal, int]]) -> dict:
    """Cost and cost per priced reply, per currency, as decimal strings ({} means unknown)."""
    return {
        "cost": {cur: money(total) for cur, (total, _) in sorted(costs.items())},
        "cost_per_reply": {cur: money(total / priced) for cur, (total, priced) in sorted(costs.items()) if priced},
    }


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _change(current, previous) -> float | None:
    """Relative change against the previous period; None when there was nothing to compare with."""
    if not previous:
        return None
    return (float(current) - float(previous)) / float(previous)


def dashboard_summary(*, filters: Filters) -> dict:
    """Totals of the period and of the one before it, with the change. One query, grouped by
    currency (unpriced replies form the group without one); the counts are added up here."""
    previous = filters.previous()
    current_q = Q(created_at__gte=filters.start)
    previous_q = Q(created_at__lt=filters.start)
    rows = list(
        replies(filters, start=previous.start).values("cost_currency")
        .annotate(**_counts("cur_", current_q), **_counts("prev_", previous_q),
                  cur_cost=Sum("cost", filter=current_q), prev_cost=Sum("cost", filter=previous_q))
        .order_by("cost_currency")
    )
    keys = {"replies": "replies", "prompt_tokens": "prompt", "completion_tokens": "completion", "errors": "errors",
            "cancelled": "cancelled", "unpriced": "unpriced"}
    totals = {f"{when}_{key}": sum(row[f"{when}_{key}"] for row in rows)
              for key in keys.values() for when in ("cur", "prev")}
    costs: dict[str, dict[str, Decimal]] = {"cur": {}, "prev": {}}
    for row in rows:
        for when in ("cur", "prev"):
            if row[f"{when}_cost"] is not None:
                costs[when][row["cost_currency"]] = Decimal(row[f"{when}_cost"])
    figures = {}
    for name, key in keys.items():
        cur, prev = totals[f"cur_{key}"], totals[f"prev_{key}"]
        figures[name] = {"value": cur, "previous": prev, "change": _change(cur, prev)}
    cur_rate = _rate(totals["cur_errors"], totals["cur_replies"])
    prev_rate = _rate(totals["prev_errors"], totals["prev_replies"])
    figures["error_rate"] = {"value": cur_rate, "previous": prev_rate,
                             "change": None if cur_rate is None or prev_rate is None else cur_rate - prev_rate}
    figures["cost"] = {
        currency: {"value": money(costs["cur"].get(currency, 0)), "previous": money(costs["prev"].get(currency, 0)),
                   "change": _change(costs["cur"].get(currency, 0), costs["prev"].get(currency, 0))}
        for currency in sorted(set(costs["cur"]) | set(costs["prev"]))
    }
    return {"period": period_data(filters), "previous_period": period_data(previous), "totals": figures}


def period_data(filters: Filters) -> dict:
    return {"from": filters.first.isoformat(), "to": filters.last.isoformat(), "days": filters.days}


def _percentiles(qs: QuerySet, group: list[str], specs: dict[str, tuple[str, dict[str, float]]]
                 ) -> dict[tuple, dict[str, float]]:
    """SQLite path: one windowed query per measured field."""
    out: dict[tuple, dict[str, float]] = defaultdict(dict)
    for name, (field, ps) in specs.items():
        for key, values in windowed_percentiles(qs, group=group, field=field, ps=ps).items():
            out[key] |= {f"{name}_{k}": v for k, v in values.items()}
    return out


MODEL_PERCENTILES = {"ttft_ms": ("ttft_ms", P50_P95), "duration_ms": ("duration_ms", P50_P95),
                     "tokens_per_second": ("tokens_per_second", {"p50": 0.5})}


def dashboard_models(*, filters: Filters) -> list[dict]:
    """Per provider and model: counts, tokens, cost, percentiles, rates and the top error codes."""
    qs = replies(filters)
    annotations = _counts()
    native = native_percentiles()
    if native:
        for name, (field, ps) in MODEL_PERCENTILES.items():
            annotations |= percentile_annotations({name: field}, ps)
    rows = list(qs.values(*MODEL).annotate(**annotations).order_by(*MODEL))
    costs = _costs(qs, MODEL)
    pct = {} if native else _percentiles(qs, MODEL, MODEL_PERCENTILES)
    errors: dict[tuple, list[dict]] = defaultdict(list)
    for row in (qs.filter(status=ReplyStatus.ERROR).values(*MODEL, "error_code").annotate(n=Count("pk"))
                .order_by(*MODEL, "-n", "error_code")):
        key = (row["provider"], row["model"])
        if len(errors[key]) < TOP_ERROR_CODES:
            errors[key].append({"code": row["error_code"], "count": row["n"]})
    out = []
    for row in rows:
        key = (row["provider"], row["model"])
        if native:
            values = {}
            for name, (_, ps) in MODEL_PERCENTILES.items():
                values |= unpack(row, name, ps)
        else:
            values = pct.get(key, {})
        out.append({
            "provider": row["provider"], "model": row["model"], "replies": row["t_replies"],
            "prompt_tokens": row["t_prompt"], "completion_tokens": row["t_completion"],
            "estimated_replies": row["t_estimated"], "unpriced_replies": row["t_unpriced"],
            **cost_figures(costs.get(key, {})),
            **{f"{name}_{k}": values.get(f"{name}_{k}") for name, (_, ps) in MODEL_PERCENTILES.items() for k in ps},
            "errors": row["t_errors"], "error_rate": _rate(row["t_errors"], row["t_replies"]),
            "cancelled": row["t_cancelled"], "cancel_rate": _rate(row["t_cancelled"], row["t_replies"]),
            "top_error_codes": errors.get(key, []),
        })
    return out


def dashboard_daily(*, filters: Filters) -> list[dict]:
    """Per day and provider/model: replies, errors, error rate, cost per currency, TTFT p50."""
    qs = replies(filters).annotate(day=TruncDate("created_at"))
    group = ["day", *MODEL]
    annotations = {"t_replies": Count("pk"), "t_errors": Count("pk", filter=Q(status=ReplyStatus.ERROR))}
    native = native_percentiles()
    if native:
        annotations |= percentile_annotations({"ttft_ms": "ttft_ms"}, {"p50": 0.5})
    rows = list(qs.values(*group).annotate(**annotations).order_by(*group))
    costs = _costs(qs, group)
    pct = {} if native else _percentiles(qs, group, {"ttft_ms": ("ttft_ms", {"p50": 0.5})})
    out = []
    for row in rows:
        key = (row["day"], row["provider"], row["model"])
        ttft = (unpack(row, "ttft_ms", {"p50": 0.5}) if native else pct.get(key, {})).get("ttft_ms_p50")
        out.append({
            "day": row["day"].isoformat(), "provider": row["provider"], "model": row["model"],
            "replies": row["t_replies"], "errors": row["t_errors"],
            "error_rate": _rate(row["t_errors"], row["t_replies"]),
            "cost": cost_figures(costs.get(key, {}))["cost"], "ttft_ms_p50": ttft,
        })
    return out


def dashboard_users(*, filters: Filters, sort: str = "-cost") -> list[dict]:
    """Staff: per user replies, tokens, errors and cost, sorted by ``sort`` (a USER_SORTS key, ``-`` first
    for descending). Two queries."""
    descending = sort.startswith("-")
    field = USER_SORTS.get(sort.lstrip("-"), "t_cost")
    qs = replies(filters)
    group = ["conversation__owner_id", "conversation__owner__username"]
    order = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    rows = list(
        qs.values(*group).annotate(**_counts(), t_cost=Sum("cost"))
        .annotate(t_tokens=F("t_prompt") + F("t_completion"))
        .order_by(order, "conversation__owner__username")
    )
    costs = _costs(qs, ["conversation__owner_id"])
    return [{
        "user_id": row["conversation__owner_id"], "username": row["conversation__owner__username"],
        "replies": row["t_replies"], "prompt_tokens": row["t_prompt"], "completion_tokens": row["t_completion"],
        "tokens": row["t_tokens"], "errors": row["t_errors"], "unpriced_replies": row["t_unpriced"],
        "cost": cost_figures(costs.get((row["conversation__owner_id"],), {}))["cost"],
    } for row in rows]


def dashboard_filter_options(*, owner_id: int | None) -> list[dict]:
    """Every provider/model the scope ever used, for the filter. One query."""
    qs = Message.objects.filter(role=Role.ASSISTANT).exclude(provider="")
    if owner_id is not None:
        qs = qs.filter(conversation__owner_id=owner_id)
    return list(qs.values(*MODEL).distinct().order_by(*MODEL))


def comparison(models: list[dict]) -> dict:
    """The answer for the models of the period: fastest first token, fastest overall, cheapest per
    reply, most reliable — each with the figures behind it. Ties go to the model with more replies.

    "Fastest overall" is the highest median tokens per second (streaming speed after the first
    token): a reply's total duration depends on how long it is, and a quick failure is short.
    Cost is compared only in the currency most replies were priced in."""
    def best(rows, key, *, low=True):
        rows = [r for r in rows if key(r) is not None]
        if not rows:
            return None
        return min(rows, key=lambda r: ((key(r) if low else -key(r)), -r["replies"]))

    def label(row):
        return None if row is None else {"provider": row["provider"], "model": row["model"], "replies": row["replies"]}

    answer = {}
    row = best(models, lambda r: r["ttft_ms_p50"])
    answer["fastest_first_token"] = row and {**label(row), "ttft_ms_p50": row["ttft_ms_p50"],
                                            "ttft_ms_p95": row["ttft_ms_p95"]}
    row = best(models, lambda r: r["tokens_per_second_p50"], low=False)
    answer["fastest_overall"] = row and {**label(row), "tokens_per_second_p50": row["tokens_per_second_p50"],
                                        "duration_ms_p50": row["duration_ms_p50"]}
    currency = main_currency(models)
    row = best(models, lambda r: Decimal(r["cost_per_reply"][currency]) if currency in r["cost_per_reply"] else None)
    answer["cheapest_per_reply"] = row and {**label(row), "cost_per_reply": row["cost_per_reply"][currency],
                                           "currency": currency}
    row = best(models, lambda r: r["error_rate"])
    answer["most_reliable"] = row and {**label(row), "error_rate": row["error_rate"], "errors": row["errors"]}
    return answer


def main_currency(models: list[dict]) -> str | None:
    """The currency most priced replies are in (the cost chart's)."""
    priced: dict[str, int] = defaultdict(int)
    for row in models:
        for currency in row["cost"]:
            priced[currency] += row["replies"] - row["unpriced_replies"]
    return max(sorted(priced), key=lambda c: priced[c]) if priced else None
