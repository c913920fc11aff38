"""Readiness probes share one worker ping and hold no database connection while they wait.

The same against a real daphne, with 200 probes at once, is in test_readiness_load.py.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from dashboard.ops import health

BROKER_UP = health.Component(health.OK, True, 0.1, "redis")


class CountingPing:
    """Stands in for the broker round trip: counts the pings, each taking ``seconds``."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.calls = 0

    def __call__(self) -> list[str]:
        self.calls += 1
        time.sleep(self.seconds)
        return ["w1@host"]


def probes_at_once(count: int) -> list[health.Component]:
    start = threading.Barrier(count)

    def probe(_):
        start.wait()
        return health.workers_component(broker=BROKER_UP)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(probe, range(count)))


def test_concurrent_probes_share_one_worker_ping(settings, monkeypatch):
    settings.WEBOX_RUNNER = "celery"
    ping = CountingPing(0.3)
    monkeypatch.setattr(health, "_ping_workers_on_own_connection", ping)
    components = probes_at_once(50)
    assert ping.calls == 1
    assert {(c.state, c.detail) for c in components} == {(health.OK, "1 answering")}
    started = time.perf_counter()
    assert health.workers_component(broker=BROKER_UP).state == health.OK
    assert time.perf_counter() - started < 0.05 and ping.calls == 1  # within the window: no ping at all


def test_past_the_window_one_probe_pings_while_the_others_answer_at_once(settings, monkeypatch):
    settings.WEBOX_RUNNER = "celery"
    ping = CountingPing(0.5)
    monkeypatch.setattr(health, "_ping_workers_on_own_connection", ping)
    health.answering_workers()
    monkeypatch.setattr(health, "_last_ping", health._Ping(["w1@host"], time.monotonic() - health.WORKER_PING_MAX_AGE))
    components = probes_at_once(20)
    assert ping.calls == 2  # one refresh for all twenty
    assert all(c.state == health.OK for c in components)
    # Nineteen answered with the previous ping instead of waiting the half second of the new one.
    assert sorted(c.latency_ms for c in components)[-2] < 100, [c.latency_ms for c in components]


def test_a_failed_ping_counts_as_no_worker_and_is_shared_too(settings, monkeypatch):
    settings.WEBOX_RUNNER = "celery"
    calls = []

    def broken():
        calls.append(1)
        raise ConnectionError("broker went away")

    monkeypatch.setattr(health, "_ping_workers_on_own_connection", broken)
    components = probes_at_once(10)
    assert len(calls) == 1
    assert {(c.state, c.detail) for c in components} == {(health.ERROR, "no worker answered")}


@pytest.mark.django_db(transaction=True)
def test_the_database_check_hands_its_connection_back_at_once():
    if not connection.settings_dict.get("OPTIONS", {}).get("pool"):
        pytest.skip("needs a pooled PostgreSQL connection (DATABASE_URL)")
    assert health.database_component().state == health.OK
    assert connection.connection is None  # back in the pool before the probe goes on to Redis
