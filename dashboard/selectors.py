"""Dashboard figures: sums from the daily rollup, percentiles from the replies.

Counts, tokens, errors and costs are sums over the rows of the daily rollup (dashboard/models.py,
kept exact by triggers: dashboard/rollup.py) — per day, so a 90-day site view adds up a few
thousand rows instead of reading every reply. Percentiles cannot be added up: they are computed
from the replies of the period (dashboard/percentiles.py) and remembered in the cache under the
period's fingerprint: the number of its rollup rows and the sum of their versions. Any change to
a reply gives its rows a version above every earlier one, so a period whose replies changed can
never show a fingerprint it had before (rows kept unchanged add the same; the new ones add more
than the ones they replace, as many of them), and percentiles are recomputed only then.

Every function runs a fixed number of queries whatever the number of replies, models, users or
days (tests/dashboard/test_queries.py). Replies count once they have ended (complete, error or
cancelled); cost sums are kept per currency, since webox converts none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import BigIntegerField, Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from chat.models import ACTIVE_STATUSES, Message, ReplyStatus, Role

from .caching import remembered, remembered_many
from .filters import Filters
from .models import DailyUsage, UserDailyUsage
from .percentiles import native_percentiles, percentile_annotations, unpack, windowed_percentiles

ENDED = (ReplyStatus.COMPLETE, ReplyStatus.ERROR, ReplyStatus.CANCELLED)
MODEL = ["provider", "model"]
P50_P95 = {"p50": 0.5, "p95": 0.95}
TOP_ERROR_CODES = 3
EIGHT_PLACES = Decimal("0.00000001")
USER_SORTS = ("user", "replies", "tokens", "cost", "errors")
FIGURES = ("replies", "errors", "cancelled", "estimated", "priced", "prompt_tokens", "completion_tokens",
           "cost_units")
SUM_COLUMNS = [(name, f"t_{name}") for name in FIGURES]
DAILY_FIGURES = ("replies", "errors", "priced", "cost_units")  # what the daily series shows
USER_FIGURES = ("replies", "errors", "priced", "prompt_tokens", "completion_tokens", "cost_units")


def replies(filters: Filters) -> QuerySet:
    """Ended replies in scope (one user's, or all for the site view), in the period, filtered.
    Imported replies are history, not usage: left out, as the rollup leaves them out."""
    qs = Message.objects.filter(role=Role.ASSISTANT, status__in=ENDED, imported=False,
                                created_at__gte=filters.start, created_at__lt=filters.end)
    if filters.owner_id is not None:
        qs = qs.filter(conversation__owner_id=filters.owner_id)
    if filters.provider:
        qs = qs.filter(provider=filters.provider)
    if filters.model:
        qs = qs.filter(model=filters.model)
    return qs


def usage_rows(filters: Filters, *, first=None, site: bool | None = None) -> QuerySet:
    """Rollup rows in scope, in the period (from ``first`` when given), filtered."""
    site = filters.owner_id is None if site is None else site
    qs = DailyUsage.objects.all() if site else UserDailyUsage.objects.all()
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    qs = qs.filter(day__gte=first or filters.first, day__lte=filters.last)
    if filters.provider:
        qs = qs.filter(provider=filters.provider)
    if filters.model:
        qs = qs.filter(model=filters.model)
    return qs


def _sums(prefix: str = "t_", when: Q | None = None, figures: tuple[str, ...] = FIGURES) -> dict:
    return {f"{prefix}{name}": Coalesce(Sum(name, filter=when), 0, output_field=BigIntegerField())
            for name in figures}


FINGERPRINT = {"_rows": Count("pk"), "_versions": Coalesce(Sum("version"), 0, output_field=BigIntegerField())}


def _fingerprint(rows: list[dict]) -> tuple[int, int]:
    """The rows and the sum of their versions: any change to one of their replies changes it."""
    return sum(row["_rows"] for row in rows), sum(int(row["_versions"]) for row in rows)


def _period_percentiles(filters: Filters, fingerprint: tuple[int, int]) -> dict[tuple, dict[str, float]]:
    """The per-model percentiles of the period, or what they were while its replies were the same."""
    if fingerprint[0] == 0:
        return {}  # no replies, no percentiles
    return remembered(("models", repr(MODEL_PERCENTILES), filters.owner_id, filters.provider, filters.model,
                       filters.first, filters.last, fingerprint),
                      lambda: dict(_percentiles(replies(filters), MODEL, MODEL_PERCENTILES)))


def units(value) -> Decimal:
    """A rollup cost (hundred-millionths) as an amount."""
    return Decimal(int(value)).scaleb(-8)


def money(amount: Decimal) -> str:
    return f"{Decimal(amount).quantize(EIGHT_PLACES):f}"


def cost_figures(costs: dict[str, tuple[Decimal, int]]) -> dict:
    """Cost and cost per priced reply, per currency, as decimal strings ({} means unknown)."""
    return {
        "cost": cost_only(costs),
        "cost_per_reply": {cur: money(total / priced) for cur, (total, priced) in sorted(costs.items()) if priced},
    }


def cost_only(costs: dict[str, tuple[Decimal, int]]) -> dict[str, str]:
    return {cur: money(total) for cur, (total, _) in sorted(costs.items())}


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
    current_q = Q(day__gte=filters.first)
    previous_q = Q(day__lt=filters.first)
    priced = Q(priced__gt=0)
    rows = list(
        usage_rows(filters, first=previous.first).values("cost_currency")
        .annotate(**_sums("cur_", current_q), **_sums("prev_", previous_q),
                  cur_cost=Sum("cost_units", filter=current_q & priced),
                  prev_cost=Sum("cost_units", filter=previous_q & priced))
        .order_by("cost_currency")
    )
    totals = {f"{when}_{name}": sum(int(row[f"{when}_{name}"]) for row in rows)
              for name in FIGURES for when in ("cur", "prev")}
    for when in ("cur", "prev"):
        totals[f"{when}_unpriced"] = totals[f"{when}_replies"] - totals[f"{when}_priced"]
    costs: dict[str, dict[str, Decimal]] = {"cur": {}, "prev": {}}
    for row in rows:
        for when in ("cur", "prev"):
            if row[f"{when}_cost"] is not None:
                costs[when][row["cost_currency"]] = units(row[f"{when}_cost"])
    figures = {}
    for name in ("replies", "prompt_tokens", "completion_tokens", "errors", "cancelled", "unpriced"):
        cur, prev = totals[f"cur_{name}"], totals[f"prev_{name}"]
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


class _Group:
    """The rollup rows of one group (a model, a day and model, a user) added up."""

    def __init__(self, key: tuple):
        self.key = key
        self.sums = dict.fromkeys(FIGURES, 0)
        self.costs: dict[str, tuple[Decimal, int]] = {}
        self.error_codes: dict[str, int] = {}

    def add(self, row: dict) -> None:
        sums = self.sums
        for name, column in SUM_COLUMNS:
            value = row.get(column)
            if value:
                sums[name] += int(value)  # int(): PostgreSQL sums big integers as numeric
        priced = row["t_priced"]
        if priced:
            total, count = self.costs.get(row["cost_currency"], (Decimal(0), 0))
            self.costs[row["cost_currency"]] = (total + units(row["t_cost_units"]), count + priced)
        errors = row["t_errors"]
        if errors and "error_code" in row:
            self.error_codes[row["error_code"]] = self.error_codes.get(row["error_code"], 0) + errors

    def top_error_codes(self) -> list[dict]:
        # Most frequent first; equal counts keep the database's order of the codes (the rows came sorted).
        ranked = sorted(self.error_codes.items(), key=lambda item: -item[1])[:TOP_ERROR_CODES]
        return [{"code": code, "count": count} for code, count in ranked]


def _groups(rows: list[dict], key: Callable[[dict], tuple]) -> list[_Group]:
    """Rows sorted by the database, folded into groups in that order."""
    groups: dict[tuple, _Group] = {}
    for row in rows:
        k = key(row)
        if k not in groups:
            groups[k] = _Group(k)
        groups[k].add(row)
    return list(groups.values())


def _percentiles(qs: QuerySet, group: list[str], specs: dict[str, tuple[str, dict[str, float]]]
                 ) -> dict[tuple, dict[str, float]]:
    """``{group values: {name_key: value}}``: one query on PostgreSQL, one per measured field elsewhere."""
    out: dict[tuple, dict[str, float]] = defaultdict(dict)
    if native_percentiles():
        annotations = {}
        for name, (field, ps) in specs.items():
            annotations |= percentile_annotations({name: field}, ps)
        # Grouped in the order of the timings index (dashboard/rollup.py): read sorted, no sort.
        for row in qs.values(*group).annotate(**annotations).order_by():
            key = tuple(row[g] for g in group)
            for name, (_, ps) in specs.items():
                out[key] |= unpack(row, name, ps)
        return out
    for name, (field, ps) in specs.items():
        for key, values in windowed_percentiles(qs, group=group, field=field, ps=ps).items():
            out[key] |= {f"{name}_{k}": v for k, v in values.items()}
    return out


MODEL_PERCENTILES = {"ttft_ms": ("ttft_ms", P50_P95), "duration_ms": ("duration_ms", P50_P95),
                     "tokens_per_second": ("tokens_per_second", {"p50": 0.5})}
DAILY_PERCENTILES = {"ttft_ms": ("ttft_ms", {"p50": 0.5})}


def dashboard_models(*, filters: Filters) -> list[dict]:
    """Per provider and model: counts, tokens, cost, percentiles, rates and the top error codes."""
    rows = list(usage_rows(filters).values(*MODEL, "error_code", "cost_currency")
                .annotate(**_sums(), **FINGERPRINT).order_by(*MODEL, "error_code", "cost_currency"))
    pct = _period_percentiles(filters, _fingerprint(rows))
    out = []
    for group in _groups(rows, lambda row: (row["provider"], row["model"])):
        sums, values = group.sums, pct.get(group.key, {})
        out.append({
            "provider": group.key[0], "model": group.key[1], "replies": sums["replies"],
            "prompt_tokens": sums["prompt_tokens"], "completion_tokens": sums["completion_tokens"],
            "estimated_replies": sums["estimated"], "unpriced_replies": sums["replies"] - sums["priced"],
            **cost_figures(group.costs),
            **{f"{name}_{k}": values.get(f"{name}_{k}") for name, (_, ps) in MODEL_PERCENTILES.items() for k in ps},
            "errors": sums["errors"], "error_rate": _rate(sums["errors"], sums["replies"]),
            "cancelled": sums["cancelled"], "cancel_rate": _rate(sums["cancelled"], sums["replies"]),
            "top_error_codes": group.top_error_codes(),
        })
    return out


def dashboard_daily(*, filters: Filters) -> list[dict]:
    """Per day and provider/model: replies, errors, error rate, cost per currency, TTFT p50.

    A day's TTFT medians are remembered under that day's fingerprint: when a reply ends today,
    only today's are computed again."""
    rows = list(usage_rows(filters).values("day", *MODEL, "cost_currency")
                .annotate(**_sums(figures=DAILY_FIGURES), **FINGERPRINT).order_by("day", *MODEL, "cost_currency"))
    by_day: dict[date, list[dict]] = defaultdict(list)
    for row in rows:
        by_day[row["day"]].append(row)
    names = {day: ("daily", repr(DAILY_PERCENTILES), filters.owner_id, filters.provider, filters.model, day,
                   _fingerprint(day_rows)) for day, day_rows in by_day.items()}
    medians = remembered_many(names, lambda days: _daily_ttft(filters, days), empty={})
    out = []
    for group in _groups(rows, lambda row: (row["day"], row["provider"], row["model"])):
        day, provider, model = group.key
        sums = group.sums
        out.append({
            "day": day.isoformat(), "provider": provider, "model": model,
            "replies": sums["replies"], "errors": sums["errors"], "error_rate": _rate(sums["errors"], sums["replies"]),
            "cost": cost_only(group.costs),
            "ttft_ms_p50": medians[day].get((provider, model), {}).get("ttft_ms_p50"),
        })
    return out


def _daily_ttft(filters: Filters, days: list[date]) -> dict[date, dict[tuple, dict[str, float]]]:
    """``{day: {(provider, model): {"ttft_ms_p50": value}}}`` for these days, in one query."""
    spans = Q()
    for first, last in _runs(sorted(days)):
        spans |= Q(created_at__gte=_midnight(first), created_at__lt=_midnight(last + timedelta(days=1)))
    qs = replies(filters).filter(spans).annotate(day=TruncDate("created_at"))
    out: dict[date, dict[tuple, dict[str, float]]] = defaultdict(dict)
    for (provider, model, day), values in _percentiles(qs, [*MODEL, "day"], DAILY_PERCENTILES).items():
        out[day][(provider, model)] = values
    return dict(out)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days: ``[(first, last), ...]``."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def dashboard_users(*, filters: Filters, sort: str = "-cost") -> list[dict]:
    """Staff: per user replies, tokens, errors and cost, sorted by ``sort`` (a USER_SORTS key, ``-`` first
    for descending; ties by username). One query."""
    rows = list(usage_rows(filters, site=False).values("owner_id", "owner__username", "cost_currency")
                .annotate(**_sums(figures=USER_FIGURES)).order_by("owner__username", "owner_id", "cost_currency"))
    users = []
    for group in _groups(rows, lambda row: (row["owner_id"], row["owner__username"])):
        sums = group.sums
        users.append({
            "user_id": group.key[0], "username": group.key[1],
            "replies": sums["replies"], "prompt_tokens": sums["prompt_tokens"],
            "completion_tokens": sums["completion_tokens"],
            "tokens": sums["prompt_tokens"] + sums["completion_tokens"], "errors": sums["errors"],
            "unpriced_replies": sums["replies"] - sums["priced"],
            "cost": cost_only(group.costs),
            # Sorting adds every currency's amounts, as the sort always did; None (nothing priced) goes last.
            "_cost": sum(total for total, _ in group.costs.values()) if group.costs else None,
        })
    return _sorted_users(users, sort)


def _sorted_users(users: list[dict], sort: str) -> list[dict]:
    """``users`` came in the database's order of usernames; sorting keeps it for ties."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in USER_SORTS:
        field = "cost"
    if field == "user":
        ordered = users[::-1] if descending else users
    else:
        name = "_cost" if field == "cost" else field
        ordered = sorted(users, key=lambda u: (u[name] is None, 0 if u[name] is None
                                               else -u[name] if descending else u[name]))
    return [{k: v for k, v in user.items() if k != "_cost"} for user in ordered]


def dashboard_filter_options(*, owner_id: int | None) -> list[dict]:
    """Every provider/model the scope ever used, for the filter: ended replies from the rollup, and
    the replies still generating. One query."""
    ended = DailyUsage.objects.all() if owner_id is None else UserDailyUsage.objects.filter(owner_id=owner_id)
    active = Message.objects.filter(role=Role.ASSISTANT, status__in=ACTIVE_STATUSES)
    if owner_id is not None:
        active = active.filter(conversation__owner_id=owner_id)
    return list(ended.exclude(provider="").values(*MODEL).order_by()
                .union(active.exclude(provider="").values(*MODEL).order_by()).order_by(*MODEL))


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
