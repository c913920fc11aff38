"""The dashboard page and its CSV downloads: thin views over dashboard/selectors.py."""

from __future__ import annotations

import csv
import re

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from . import leaderboard, selectors
from .charts import chart_html, daily_charts
from .filters import PERIOD_DAYS, DashboardInputError
from .percentiles import room_to_sort
from .presentation import costs, model_rows_display, summary_display
from .scope import DashboardForbidden, dashboard_scope


def _scope_or_error(request):
    try:
        return dashboard_scope(user=request.user, params=request.GET), None
    except DashboardInputError as exc:
        return None, (str(exc), 400)
    except DashboardForbidden as exc:
        return None, (str(exc), 403)


@login_required
def home(request):
    scope, error = _scope_or_error(request)
    if error:
        return render(request, "dashboard/error.html", {"detail": error[0]}, status=error[1])
    with room_to_sort():
        return _home(request, scope)


@login_required
def leaderboard_page(request):
    try:
        query = leaderboard.leaderboard_query(user=request.user, params=request.GET)
    except leaderboard.LeaderboardInputError as exc:
        return render(request, "dashboard/error.html", {"detail": str(exc)}, status=400)
    except leaderboard.LeaderboardForbidden as exc:
        return render(request, "dashboard/error.html", {"detail": str(exc)}, status=403)
    return render(request, "dashboard/leaderboard.html", {
        "board": leaderboard.leaderboard(query), "query": query, "site": query.owner_id is None})


def _home(request, scope):
    filters = scope.filters
    models = selectors.dashboard_models(filters=filters)
    daily = selectors.dashboard_daily(filters=filters)
    days = [d.isoformat() for d in filters.dates()]
    charts = [chart_html(chart) for chart in daily_charts(daily, days, currency=selectors.main_currency(models))]
    scope_params = {"scope": "site"} if scope.site else (
        {"user": scope.viewed_user.pk} if scope.viewed_user != request.user else {})
    comparison = selectors.comparison(models)
    if comparison["most_reliable"]:
        comparison["most_reliable"]["error_rate_percent"] = comparison["most_reliable"]["error_rate"] * 100
    sort = request.GET.get("sort") or "-cost"
    users = None
    if scope.site:
        users = [{**u, "cost_display": costs(u["cost"]), "link": urlencode(filters.query(user=u["user_id"]))}
                 for u in selectors.dashboard_users(filters=filters, sort=sort)]
    return render(request, "dashboard/home.html", {
        "scope": scope, "filters": filters, "scope_params": scope_params,
        "summary": summary_display(selectors.dashboard_summary(filters=filters)),
        "models": model_rows_display(models), "comparison": comparison, "charts": charts,
        "users": users, "query": urlencode(filters.query(**scope_params)),
        "links": _links(filters, scope_params, sort),
        "options": selectors.dashboard_filter_options(owner_id=filters.owner_id),
    })


USER_COLUMNS = (("user", "User"), ("replies", "Replies"), ("tokens", "Tokens"), ("errors", "Errors"),
                ("cost", "Cost"))


def _links(filters, scope_params: dict, sort: str) -> dict:
    """Query strings of the page's links: presets, whose figures, sorting the users."""
    period_free = {k: v for k, v in filters.query().items() if k not in ("days", "from", "to")}
    columns = []
    for key, label in USER_COLUMNS:
        # A click sorts descending first (biggest users on top), a second click ascending.
        target = key if sort == f"-{key}" else f"-{key}"
        sorted_as = "descending" if sort == f"-{key}" else "ascending" if sort == key else ""
        columns.append({"label": label, "sorted": sorted_as,
                        "link": urlencode(filters.query(scope="site", sort=target))})
    return {
        "periods": [(days, urlencode({"days": days, **period_free, **scope_params})) for days in PERIOD_DAYS],
        "mine": urlencode(filters.query()),
        "site": urlencode(filters.query(scope="site")),
        "user_columns": columns,
    }


# A cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def csv_safe(value):
    """``value`` as a spreadsheet shows it but never runs it: text that would start a formula
    gets a leading ``'``. Numbers, negative ones too, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    return response


def _csv_error(error):
    return HttpResponse(error[0], status=error[1], content_type="text/plain; charset=utf-8")


MODEL_COLUMNS = ["provider", "model", "replies", "prompt_tokens", "completion_tokens", "estimated_replies",
                 "unpriced_replies", "ttft_ms_p50", "ttft_ms_p95", "duration_ms_p50", "duration_ms_p95",
                 "tokens_per_second_p50", "errors", "error_rate", "cancelled", "cancel_rate"]


def _cell(value):
    return "" if value is None else value


@login_required
def models_csv(request):
    scope, error = _scope_or_error(request)
    if error:
        return _csv_error(error)
    with room_to_sort():
        rows = selectors.dashboard_models(filters=scope.filters)
    currencies = sorted({c for row in rows for c in row["cost"]})
    header = [*MODEL_COLUMNS, *(f"cost_{c}" for c in currencies), *(f"cost_per_reply_{c}" for c in currencies),
              "top_error_codes"]
    body = ([*(_cell(row[col]) for col in MODEL_COLUMNS), *(row["cost"].get(c, "") for c in currencies),
             *(row["cost_per_reply"].get(c, "") for c in currencies),
             " ".join(f"{e['code']}:{e['count']}" for e in row["top_error_codes"])] for row in rows)
    return _csv(f"webox-models-{scope.filters.first}-{scope.filters.last}.csv", header, body)


@login_required
def daily_csv(request):
    scope, error = _scope_or_error(request)
    if error:
        return _csv_error(error)
    with room_to_sort():
        rows = selectors.dashboard_daily(filters=scope.filters)
    currencies = sorted({c for row in rows for c in row["cost"]})
    header = ["day", "provider", "model", "replies", "errors", "error_rate", "ttft_ms_p50",
              *(f"cost_{c}" for c in currencies)]
    body = ([row["day"], row["provider"], row["model"], row["replies"], row["errors"], _cell(row["error_rate"]),
             _cell(row["ttft_ms_p50"]), *(row["cost"].get(c, "") for c in currencies)] for row in rows)
    return _csv(f"webox-daily-{scope.filters.first}-{scope.filters.last}.csv", header, body)
