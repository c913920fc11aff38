"""The component checks behind the health endpoints (views.py), the ops page (status.py) and
``manage.py webox_doctor``: database, channel layer, broker and Celery workers, each timed.

- ``check_database`` and ``check_redis``: the two strings of ``GET /healthz`` (the original probe).
- ``readiness``: every component with its state and latency, for ``GET /healthz/ready``. Celery
  workers are needed only when ``WEBOX_RUNNER`` is ``celery``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

from webox.celery import app as celery_app

# Seconds a probe waits on each component: a probe must answer well inside its own timeout.
PROBE_TIMEOUT = 2.0
WORKER_PING_TIMEOUT = 1.0

OK, ERROR, NOT_USED = "ok", "error", "not used"


@dataclass
class Component:
    state: str  # "ok", "error" or "not used"
    required: bool
    latency_ms: float | None = None
    detail: str = ""


def _timed(check) -> tuple[str, str, float]:
    started = time.perf_counter()
    try:
        detail = check() or ""
        state = OK
    except Exception as exc:  # any failure means "not usable" to a probe; the type says which
        state, detail = ERROR, type(exc).__name__
    return state, detail, round((time.perf_counter() - started) * 1000, 1)


def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)


def _ping_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.vendor


def uses_celery() -> bool:
    return settings.WEBOX_RUNNER == "celery"


def database_component() -> Component:
    state, detail, latency = _timed(_ping_database)
    return Component(state, True, latency, detail)


def channel_layer_component() -> Component:
    layer = settings.CHANNEL_LAYERS["default"]
    hosts = layer.get("CONFIG", {}).get("hosts")
    if not hosts:
        return Component(OK, True, 0.0, "in-memory (this process only)")
    host = hosts[0] if isinstance(hosts[0], str) else hosts[0].get("address", "")
    state, detail, latency = _timed(lambda: _redis_client(host).ping() and "redis")
    return Component(state, True, latency, detail)


def broker_component() -> Component:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return Component(NOT_USED, False, None, url.split(":", 1)[0])
    state, detail, latency = _timed(lambda: _redis_client(url).ping() and "redis")
    return Component(state, uses_celery(), latency, detail)


def ping_workers(timeout: float = WORKER_PING_TIMEOUT) -> list[str]:
    """Hostnames of the Celery workers that answer a ping within ``timeout`` seconds."""
    replies = celery_app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def workers_component(*, broker: Component | None = None) -> Component:
    if not uses_celery():
        return Component(NOT_USED, False, None, "replies run in-process")
    broker = broker or broker_component()
    if broker.state != OK:
        # A ping through a broker that is down would wait on kombu's reconnects.
        return Component(ERROR, True, None, "broker unreachable")
    names: list[str] = []

    def ping() -> str:
        names.extend(ping_workers())
        if not names:
            raise LookupError("no worker answered")
        return f"{len(names)} answering"

    state, detail, latency = _timed(ping)
    if state == ERROR and not names:
        detail = "no worker answered"
    return Component(state, True, latency, detail)


def readiness() -> dict[str, Component]:
    broker = broker_component()
    return {
        "database": database_component(),
        "channel_layer": channel_layer_component(),
        "broker": broker,
        "workers": workers_component(broker=broker),
    }


def check_database() -> str:
    try:
        _ping_database()
        return "ok"
    except Exception as exc:  # any driver error means "not reachable" to a probe
        return f"error: {type(exc).__name__}"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "not used"
    try:
        _redis_client(settings.REDIS_URL).ping()
        return "ok"
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"
