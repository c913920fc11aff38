"""CSV downloads of the per-model table and of the daily series, with the page's filters."""

import csv
import io

import pytest

from chat.usage.services import replies_usage_backfill
from dashboard.views import csv_safe

from .conftest import client_for, reply

pytestmark = pytest.mark.django_db


def rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_per_model_csv_holds_the_table(seeded, user):
    table = {r["model"]: r for r in rows(client_for(user).get("/dashboard/models.csv", {"days": 7}))}
    assert set(table) == {"m-a", "m-b", "llama"}
    gpt = table["m-a"]
    assert (gpt["replies"], gpt["prompt_tokens"], gpt["completion_tokens"]) == ("3", "3100", "1550")
    assert (gpt["cost_USD"], gpt["cost_per_reply_USD"], gpt["top_error_codes"]) == (
        "0.00620000", "0.00206667", "timeout:1")
    assert float(gpt["ttft_ms_p95"]) == pytest.approx(290) and float(gpt["error_rate"]) == pytest.approx(1 / 3)
    assert table["llama"]["cost_USD"] == "" and table["llama"]["unpriced_replies"] == "1"


def test_the_daily_csv_follows_the_filters(seeded, user):
    series = rows(client_for(user).get("/dashboard/daily.csv", {"days": 7, "provider": "gpt"}))
    assert [(r["replies"], r["errors"], r["cost_USD"]) for r in series] == [("2", "1", "0.00420000"),
                                                                           ("1", "0", "0.00200000")]
    assert float(series[0]["ttft_ms_p50"]) == pytest.approx(250)


def test_staff_download_the_site(seeded, staff):
    table = rows(client_for(staff).get("/dashboard/models.csv", {"days": 7, "scope": "site"}))
    assert {r["model"]: r["replies"] for r in table}["m-a"] == "5"


def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped(user):
    formula = '=HYPERLINK("http://evil.example","click")'
    reply(user, "+cmd", formula, "complete", 0, ttft=100, dur=1000, p=10, c=10, code="@SUM(A1)")
    reply(user, "gpt", "\tm-tab", "error", 0, ttft=100, dur=1000, p=10, c=10, code="-2+3")
    replies_usage_backfill()
    table = {r["model"]: r for r in rows(client_for(user).get("/dashboard/models.csv", {"days": 7}))}
    assert set(table) == {"'" + formula, "'\tm-tab"}
    assert table["'" + formula]["provider"] == "'+cmd"
    assert table["'\tm-tab"]["top_error_codes"] == "'-2+3:1"
    assert float(table["'\tm-tab"]["ttft_ms_p50"]) == 100
    daily = rows(client_for(user).get("/dashboard/daily.csv", {"days": 7}))
    assert {r["model"] for r in daily} == {"'" + formula, "'\tm-tab"}


@pytest.mark.parametrize(("cell", "shown"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("@x", "'@x"), ("\rx", "'\rx"), ("-x", "'-x"),
    ("-3", "-3"), ("-0.25", "-0.25"), ("m-a", "m-a"), (-3, -3), (None, None),
])
def test_csv_safe_escapes_formulas_and_keeps_numbers(cell, shown):
    assert csv_safe(cell) == shown
