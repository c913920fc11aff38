"""Health endpoints for load balancers and probes.

- ``GET /healthz``: database and Redis reachability (the original probe, kept as it was).
- ``GET /healthz/live``: the process answers; touches nothing else, so a slow database never
  gets a healthy process restarted.
- ``GET /healthz/ready``: every component the configuration needs, each with its state and
  latency; 200 only when all the needed ones are up. Celery workers are needed only when
  ``WEBOX_RUNNER`` is ``celery``.

The component checks are shared with the ops page (dashboard/ops.py) and ``manage.py webox_doctor``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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


def _redis_client(url: str):
    import redis

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
    from webox.celery import app

    replies = app.control.ping(timeout=timeout) or []
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
    import redis

    try:
        _redis_client(settings.REDIS_URL).ping()
        return "ok"
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(not value.startswith("error") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    components = readiness()
    healthy = all(c.state == OK for c in components.values() if c.required)
    body = {"status": "ok" if healthy else "error", "runner": settings.WEBOX_RUNNER,
            "components": {name: asdict(c) for name, c in components.items()}}
    return JsonResponse(body, status=200 if healthy else 503)
