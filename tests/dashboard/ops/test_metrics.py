import random
import string

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from chat.models import ReplyStatus
from chat.providers import provider_create

pytestmark = pytest.mark.django_db


def samples(response):
    """``value(name, **labels)`` over the scraped text."""
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value

    def value(name: str, **labels):
        return found[(name, tuple(sorted(labels.items())))]

    return value


def series(response, name: str) -> set[tuple[str, str]]:
    """The (provider, model) label pairs of one metric family's samples."""
    return {(sample.labels["provider"], sample.labels["model"])
            for family in text_string_to_metric_families(response.content.decode()) if family.name == name
            for sample in family.samples}


@pytest.fixture
def configured(db):
    """gpt lists m1 and m2 (default m1); claude lists c."""
    provider_create(name="gpt", kind="openai", api_key="test-key", model_names=["m1", "m2"], default_model="m1",
                    base_url="http://127.0.0.1:9/v1")
    provider_create(name="claude", kind="anthropic", api_key="test-key", model_names=["c"], default_model="c",
                    base_url="http://127.0.0.1:9")


@pytest.fixture
def known_replies(make_reply, configured):
    now = timezone.now()
    done = {"started_at": now, "completed_at": now}
    make_reply(ReplyStatus.COMPLETE, provider="gpt", model="m1", ttft_ms=150, duration_ms=800,
               prompt_tokens=10, completion_tokens=20, **done)
    make_reply(ReplyStatus.COMPLETE, provider="gpt", model="m1", ttft_ms=600, duration_ms=3000,
               prompt_tokens=5, completion_tokens=7, **done)
    make_reply(ReplyStatus.ERROR, provider="gpt", model="m1", error_code="rate_limited", **done)
    make_reply(ReplyStatus.CANCELLED, provider="claude", model="c", ttft_ms=90, duration_ms=400, **done)
    make_reply(ReplyStatus.STREAMING, provider="claude", model="c", started_at=now)
    make_reply(ReplyStatus.PENDING, provider="gpt", model="m1")


def test_metrics_count_the_stored_replies(client, settings, known_replies):
    settings.WEBOX_RUNNER = "embedded"
    settings.DEBUG = True  # open without a token
    value = samples(client.get("/metrics"))
    gpt = {"provider": "gpt", "model": "m1"}
    claude = {"provider": "claude", "model": "c"}
    assert value("webox_replies_started_total", **gpt) == 3
    assert value("webox_replies_started_total", **claude) == 2
    assert value("webox_replies_completed_total", error_code="", **gpt) == 2
    assert value("webox_replies_failed_total", error_code="rate_limited", **gpt) == 1
    assert value("webox_replies_cancelled_total", error_code="", **claude) == 1
    assert value("webox_tokens_in_total", **gpt) == 15 and value("webox_tokens_out_total", **gpt) == 27
    assert value("webox_reply_ttft_seconds_bucket", le="0.25", **gpt) == 1
    assert value("webox_reply_ttft_seconds_bucket", le="1.0", **gpt) == 2
    assert value("webox_reply_ttft_seconds_count", **gpt) == 2
    assert value("webox_reply_ttft_seconds_sum", **gpt) == pytest.approx(0.75)
    assert value("webox_reply_duration_seconds_bucket", le="1.0", **gpt) == 1
    assert value("webox_reply_duration_seconds_sum", **gpt) == pytest.approx(3.8)
    assert value("webox_streams_active") == 1
    assert value("webox_replies_active", provider="gpt", status="pending") == 1


def test_metrics_report_the_queue_length_with_celery(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (the broker)")
    settings.WEBOX_RUNNER = "celery"
    settings.DEBUG = True
    from webox.celery import app

    value = samples(client.get("/metrics"))
    assert value("webox_broker_up") == 1
    assert value("webox_queue_length", queue=app.conf.task_default_queue) == 0


def test_metrics_need_the_token_or_an_allowed_address_outside_debug(client, settings):
    settings.DEBUG = False
    settings.WEBOX_METRICS_TOKEN = "s3cret-scrape-token"
    settings.WEBOX_METRICS_ALLOW = []
    refused = client.get("/metrics")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"}).status_code == 200
    settings.WEBOX_METRICS_ALLOW = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 403


def test_metrics_are_closed_outside_debug_when_nothing_is_configured(client, settings):
    settings.DEBUG = False
    settings.WEBOX_METRICS_TOKEN = ""
    settings.WEBOX_METRICS_ALLOW = []
    assert client.get("/metrics").status_code == 403


def test_model_and_provider_labels_are_bounded_to_the_configured_ones(client, settings, configured, make_reply):
    settings.DEBUG = True
    settings.WEBOX_RUNNER = "embedded"
    now = timezone.now()
    rng = random.Random(22)
    for _ in range(50):
        model = "".join(rng.choices(string.ascii_lowercase, k=12))
        make_reply(ReplyStatus.COMPLETE, provider="gpt", model=model, ttft_ms=100, duration_ms=500,
                   prompt_tokens=1, completion_tokens=2, started_at=now, completed_at=now)
    make_reply(ReplyStatus.COMPLETE, provider="gpt", model="m2", ttft_ms=100, duration_ms=500,
               started_at=now, completed_at=now)
    make_reply(ReplyStatus.ERROR, provider="gone", model="x", error_code="timeout", started_at=now, completed_at=now)
    make_reply(ReplyStatus.STREAMING, provider="gone", model="y", started_at=now)
    response = client.get("/metrics")
    for name in ("webox_replies_started", "webox_tokens_in", "webox_reply_ttft_seconds"):
        assert series(response, name) <= {("gpt", "m1"), ("gpt", "m2"), ("gpt", "other"), ("claude", "c"),
                                          ("other", "other")}, name
    value = samples(response)
    assert value("webox_replies_started_total", provider="gpt", model="other") == 50
    assert value("webox_replies_completed_total", provider="gpt", model="other", error_code="") == 50
    assert value("webox_tokens_out_total", provider="gpt", model="other") == 100
    assert value("webox_reply_ttft_seconds_count", provider="gpt", model="other") == 50
    assert value("webox_reply_ttft_seconds_sum", provider="gpt", model="other") == pytest.approx(5.0)
    assert value("webox_replies_completed_total", provider="gpt", model="m2", error_code="") == 1
    assert value("webox_replies_failed_total", provider="other", model="other", error_code="timeout") == 1
    assert value("webox_replies_active", provider="other", status="streaming") == 1
