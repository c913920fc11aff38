"""Remembered percentiles and charts are never stale, and a cache that is down costs no figure."""

import re

import pytest

from chat.models import Message
from dashboard import charts

from .conftest import client_for, reply

pytestmark = pytest.mark.django_db


def models(client, **params):
    response = client.get("/api/dashboard/models", {"days": 7, **params})
    assert response.status_code == 200, response.content
    return {(m["provider"], m["model"]): m for m in response.json()["models"]}


def daily(client, **params):
    response = client.get("/api/dashboard/daily", {"days": 7, **params})
    assert response.status_code == 200, response.content
    return {(d["day"], d["model"]): d for d in response.json()["days"]}


def test_a_reply_that_ends_changes_the_percentiles_at_once(user, staff):
    for ttft in (100, 300):
        reply(user, "gpt", "m-a", "complete", 0, ttft=ttft, dur=ttft + 1000, p=1, c=1)
    reply(user, "gpt", "m-a", "complete", 2, ttft=1000, dur=2000, p=1, c=1)
    client, site = client_for(user), client_for(staff)
    assert models(client)[("gpt", "m-a")]["ttft_ms_p50"] == 300
    assert models(site, scope="site")[("gpt", "m-a")]["ttft_ms_p50"] == 300
    days = daily(client)
    assert [d["ttft_ms_p50"] for _, d in sorted(days.items())] == [1000, 200]
    reply(user, "gpt", "m-a", "complete", 0, ttft=500, dur=1500, p=1, c=1)
    assert models(client)[("gpt", "m-a")]["ttft_ms_p50"] == 400
    assert models(site, scope="site")[("gpt", "m-a")]["ttft_ms_p50"] == 400
    assert [d["ttft_ms_p50"] for _, d in sorted(daily(client).items())] == [1000, 300]


def test_an_edited_timing_or_a_deleted_reply_changes_the_percentiles_at_once(user):
    kept = reply(user, "gpt", "m-a", "complete", 0, ttft=100, dur=1100, p=1, c=1)
    gone = reply(user, "gpt", "m-a", "complete", 0, ttft=300, dur=1300, p=1, c=1)
    client = client_for(user)
    assert models(client)[("gpt", "m-a")]["duration_ms_p50"] == 1200
    Message.objects.filter(pk=kept.pk).update(duration_ms=2100)
    assert models(client)[("gpt", "m-a")]["duration_ms_p50"] == 1700
    gone.delete()
    assert models(client)[("gpt", "m-a")]["duration_ms_p50"] == 2100
    assert [d["ttft_ms_p50"] for d in daily(client).values()] == [100]


def test_figures_are_served_when_the_cache_cannot_be_reached(user, settings, caplog):
    reply(user, "gpt", "m-a", "complete", 0, ttft=100, dur=1100, p=1, c=1)
    reply(user, "gpt", "m-a", "complete", 1, ttft=300, dur=1300, p=1, c=1)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:9/0"}}  # nothing listens there
    client = client_for(user)
    assert models(client)[("gpt", "m-a")]["ttft_ms_p50"] == 200
    assert len(daily(client)) == 2
    page = client.get("/dashboard/", {"days": 7})
    assert page.status_code == 200 and page.content.decode().count("<svg ") == 4
    assert "dashboard cache unreachable" in caplog.text


def test_a_chart_is_drawn_again_only_when_its_numbers_change(user, monkeypatch):
    model = "m-a"
    reply(user, "gpt", model, "complete", 0, ttft=100, dur=1100, p=1, c=1)
    drawn = []
    draw = charts._svg
    monkeypatch.setattr(charts, "_svg", lambda chart: drawn.append(chart.key) or draw(chart))
    client = client_for(user)

    def replies_today(page: str) -> str:
        chart = page.split('data-chart="replies"', 1)[1].split("</figure>", 1)[0]
        return re.findall(r'<tr><th scope="row">[\d-]+</th><td>([^<]*)</td></tr>', chart)[-1]

    first = client.get("/dashboard/", {"days": 7}).content.decode()
    assert sorted(drawn) == ["cost", "errors", "replies", "ttft"] and replies_today(first) == "1"
    drawn.clear()
    again = client.get("/dashboard/", {"days": 7}).content.decode()
    assert drawn == [] and replies_today(again) == "1"
    reply(user, "gpt", model, "complete", 0, ttft=100, dur=1100, p=1, c=1)
    after = client.get("/dashboard/", {"days": 7}).content.decode()
    # The number of replies changed; the median TTFT (100) and the error rate (0 %) did not.
    assert sorted(drawn) == ["replies"] and replies_today(after) == "2"
