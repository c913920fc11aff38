"""Every dashboard figure, in the API and on the page, against the values worked out in conftest.py."""

import pytest

from .conftest import client_for, day

pytestmark = pytest.mark.django_db


def get(client, path, **params):
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def by_model(rows):
    return {(r["provider"], r["model"]): r for r in rows}


def test_summary_totals_and_the_change_against_the_previous_week(seeded, user):
    body = get(client_for(user), "/api/dashboard/summary", days=7)
    totals = body["totals"]
    assert body["period"]["days"] == 7 and body["previous_period"]["days"] == 7
    assert totals["replies"] == {"value": 5, "previous": 1, "change": 4.0}
    assert totals["prompt_tokens"] == {"value": 3210, "previous": 100, "change": pytest.approx(31.1)}
    assert totals["completion_tokens"] == {"value": 1580, "previous": 100, "change": pytest.approx(14.8)}
    assert totals["errors"] == {"value": 1, "previous": 0, "change": None}
    assert totals["cancelled"]["value"] == 1 and totals["unpriced"]["value"] == 1
    assert totals["error_rate"]["value"] == pytest.approx(0.2) and totals["error_rate"]["previous"] == 0
    assert totals["error_rate"]["change"] == pytest.approx(0.2)
    # 0.002 + 0.004 + 0.0002 + 0.0006 (r5 has no price: not 0, left out and counted as unpriced)
    assert totals["cost"] == {"USD": {"value": "0.00680000", "previous": "0.00030000",
                                      "change": pytest.approx((0.0068 - 0.0003) / 0.0003)}}


def test_per_model_figures_with_percentiles_rates_and_error_codes(seeded, user):
    rows = by_model(get(client_for(user), "/api/dashboard/models", days=7)["models"])
    assert list(rows) == [("claude", "m-b"), ("gpt", "m-a"), ("local", "llama")]
    gpt = rows[("gpt", "m-a")]
    assert (gpt["replies"], gpt["prompt_tokens"], gpt["completion_tokens"]) == (3, 3100, 1550)
    assert gpt["estimated_replies"] == 1 and gpt["unpriced_replies"] == 0
    assert gpt["cost"] == {"USD": "0.00620000"} and gpt["cost_per_reply"] == {"USD": "0.00206667"}
    # ttft 100, 200, 300: p50 200, p95 200 + 0.9 * 100; durations 1100, 2300, 5200; tokens/s 500, 500, 10
    assert gpt["ttft_ms_p50"] == pytest.approx(200) and gpt["ttft_ms_p95"] == pytest.approx(290)
    assert gpt["duration_ms_p50"] == pytest.approx(2300) and gpt["duration_ms_p95"] == pytest.approx(4910)
    assert gpt["tokens_per_second_p50"] == pytest.approx(500)
    assert gpt["errors"] == 1 and gpt["error_rate"] == pytest.approx(1 / 3)
    assert gpt["cancelled"] == 0 and gpt["cancel_rate"] == 0
    assert gpt["top_error_codes"] == [{"code": "timeout", "count": 1}]
    claude = rows[("claude", "m-b")]
    assert claude["cost"] == {"USD": "0.00060000"} and claude["cancel_rate"] == 1.0
    assert claude["ttft_ms_p50"] == claude["ttft_ms_p95"] == pytest.approx(50)
    assert claude["tokens_per_second_p50"] == pytest.approx(40)
    local = rows[("local", "llama")]
    assert local["cost"] == {} and local["cost_per_reply"] == {} and local["unpriced_replies"] == 1
    assert local["tokens_per_second_p50"] == pytest.approx(5)


def test_the_comparison_names_each_winner_with_its_numbers(seeded, user):
    comparison = get(client_for(user), "/api/dashboard/models", days=7)["comparison"]
    assert comparison["fastest_first_token"] == {"provider": "claude", "model": "m-b", "replies": 1,
                                                 "ttft_ms_p50": 50.0, "ttft_ms_p95": 50.0}
    assert comparison["fastest_overall"] == {"provider": "gpt", "model": "m-a", "replies": 3,
                                             "tokens_per_second_p50": 500.0, "duration_ms_p50": 2300.0}
    assert comparison["cheapest_per_reply"] == {"provider": "claude", "model": "m-b", "replies": 1,
                                                "cost_per_reply": "0.00060000", "currency": "USD"}
    assert comparison["most_reliable"]["error_rate"] == 0 and comparison["most_reliable"]["model"] == "m-b"


def test_daily_series_per_day_and_model(seeded, user):
    days = get(client_for(user), "/api/dashboard/daily", days=7)["days"]
    rows = {(d["day"], d["provider"], d["model"]): d for d in days}
    assert len(rows) == 4
    yesterday = next(r for (day, p, _), r in sorted(rows.items()) if p == "gpt")
    assert (yesterday["replies"], yesterday["errors"], yesterday["error_rate"]) == (2, 1, 0.5)
    assert yesterday["cost"] == {"USD": "0.00420000"} and yesterday["ttft_ms_p50"] == pytest.approx(250)
    today = [r for (day, p, _), r in rows.items() if day != yesterday["day"]]
    assert sorted((r["model"], r["replies"], r["ttft_ms_p50"]) for r in today) == [
        ("llama", 1, 400), ("m-a", 1, 100), ("m-b", 1, 50)]
    assert next(r for r in today if r["model"] == "llama")["cost"] == {}


def test_a_longer_period_and_a_provider_filter_change_the_figures(seeded, user):
    client = client_for(user)
    month = get(client, "/api/dashboard/summary", days=30)["totals"]
    assert month["replies"]["value"] == 7 and month["cost"]["USD"]["value"] == "0.01010000"
    yesterday = str(day(1).date())
    custom = get(client, "/api/dashboard/summary", **{"from": yesterday, "to": yesterday})
    assert custom["totals"]["replies"]["value"] == 2 and custom["period"]["days"] == 1
    only_gpt = get(client, "/api/dashboard/models", days=7, provider="gpt")["models"]
    assert [(r["provider"], r["replies"]) for r in only_gpt] == [("gpt", 3)]
    only_llama = get(client, "/api/dashboard/summary", days=7, model="llama")["totals"]
    assert only_llama["replies"]["value"] == 1 and only_llama["cost"] == {}


def test_staff_see_the_site_and_per_user_totals_sorted(seeded, staff, user, bob):
    client = client_for(staff)
    site = by_model(get(client, "/api/dashboard/models", days=7, scope="site")["models"])
    gpt = site[("gpt", "m-a")]
    assert (gpt["replies"], gpt["errors"], gpt["cost"]) == (5, 2, {"USD": "0.00681000"})
    assert gpt["top_error_codes"] == [{"code": "rate_limited", "count": 1}, {"code": "timeout", "count": 1}]
    users = get(client, "/api/dashboard/users", days=7)["users"]
    assert [(u["username"], u["replies"], u["tokens"], u["errors"], u["cost"]) for u in users] == [
        ("alice", 5, 4790, 1, {"USD": "0.00680000"}), ("bob", 2, 510, 1, {"USD": "0.00061000"})]
    ascending = get(client, "/api/dashboard/users", days=7, sort="replies")["users"]
    assert [u["username"] for u in ascending] == ["bob", "alice"]
    alice_seen_by_staff = get(client, "/api/dashboard/summary", days=7, user=user.pk)["totals"]
    assert alice_seen_by_staff["replies"]["value"] == 5
    assert get(client, "/api/dashboard/summary", days=7)["totals"]["replies"]["value"] == 0  # staff's own


def test_the_page_shows_the_same_figures(seeded, user):
    page = client_for(user).get("/dashboard/", {"days": "7"}).content.decode()
    for text in ("Your usage", "0.0068 USD", "+400.0 %", "20.0 %", "+20.0 pp",
                 "gpt · m-a", "0.0062 USD", "0.002067 USD", "200 ms", "290 ms", "2,300 ms", "4,910 ms", "500.0",
                 "33.3 %", "<code>timeout</code> ×1", "unknown", "1 replies have no known price",
                 "Fastest to first token:</strong> claude · m-b — 50 ms median",
                 "Cheapest per reply:</strong> claude · m-b — 0.00060000 USD per reply",
                 "Fastest overall:</strong> gpt · m-a — 500.0 tokens/s median, 2300 ms median per reply",
                 "Most reliable:</strong> claude · m-b — 0 errors in 1 replies (0.0 %)",
                 "Cost per day (USD)", "Time to first token per day (p50, ms)"):
        assert text in page, text
    assert "By user" not in page


def test_the_staff_page_lists_users_and_opens_one(seeded, staff, user):
    client = client_for(staff)
    page = client.get("/dashboard/", {"days": "7", "scope": "site"}).content.decode()
    assert "Site-wide usage" in page and "By user" in page
    assert page.index('data-user="alice"') < page.index('data-user="bob"')
    assert f"user={user.pk}" in page
    one = client.get("/dashboard/", {"days": "7", "user": user.pk}).content.decode()
    assert "Usage of alice" in one and "0.0068 USD" in one
