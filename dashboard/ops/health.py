"""The component checks behind the health endpoints (views.py), the ops page (status.py) and
``manage.py webox_doctor``: database, channel layer, broker and Celery workers, each timed.

- ``check_database`` and ``check_redis``: the two strings of ``GET /healthz`` (the original probe).
- ``readiness``: every component with its state and latency, for ``GET /healthz/ready``. Celery
  workers are needed only when ``WEBOX_RUNNER`` is ``celery``.

A probe may come in hundreds at once, and none may take from ordinary requests what they need:
the database check hands its connection back to the pool at once, each Redis ping uses its own
short-lived connection, and the worker ping (a second of waiting for replies) is made by one probe
at a time on its own broker connection, never one of Celery's pooled ones; its answer is shared by
every probe for ``WORKER_PING_MAX_AGE`` seconds (``answering_workers``).
"""

from __future__ import annotations

import logging
import threading
import time
from copy import copy
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

from webox.celery import app as celery_app
from webox.database import release_pooled_connections

logger = logging.getLogger(__name__)

# Seconds a probe waits on each component: a probe must answer well inside its own timeout.
PROBE_TIMEOUT = 2.0
WORKER_PING_TIMEOUT = 1.0
# Seconds the readiness probes share one worker ping's answer.
WORKER_PING_MAX_AGE = 5.0

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


def _ping_redis(url: str) -> str:
    with _redis_client(url) as client:
        client.ping()
    return "redis"


def _ping_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        # Back to the pool now, not when the response is sent: the rest of a probe waits on Redis
        # and the workers, and must not hold a connection ordinary requests need meanwhile.
        release_pooled_connections()
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
    state, detail, latency = _timed(lambda: _ping_redis(host))
    return Component(state, True, latency, detail)


def broker_component() -> Component:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return Component(NOT_USED, False, None, url.split(":", 1)[0])
    state, detail, latency = _timed(lambda: _ping_redis(url))
    return Component(state, uses_celery(), latency, detail)


def ping_workers(timeout: float = WORKER_PING_TIMEOUT) -> list[str]:
    """Hostnames of the Celery workers that answer a ping within ``timeout`` seconds."""
    replies = celery_app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def _ping_workers_on_own_connection(timeout: float = WORKER_PING_TIMEOUT) -> list[str]:
    """``ping_workers`` on a broker connection of its own: ``control.ping`` takes a connection from
    Celery's pool and then a pooled producer (a second connection) while it holds the first, so ten
    pings at once held the whole pool, each waiting for a second connection, for good."""
    mailbox = copy(celery_app.control.mailbox)
    mailbox.producer_pool = None  # publish on the given connection's channel, not a pooled producer
    with celery_app.connection_for_write(connect_timeout=PROBE_TIMEOUT) as own:
        # What control.broadcast does, minus the pool (kombu's Mailbox has no public form of it).
        replies = mailbox(own)._broadcast("ping", reply=True, timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


@dataclass(frozen=True)
class _Ping:
    names: list[str]
    at: float  # time.monotonic() when it was answered


_last_ping: _Ping | None = None
_ping_lock = threading.Lock()


def answering_workers() -> list[str]:
    """The workers that answered a ping at most ``WORKER_PING_MAX_AGE`` seconds ago, for the probes.

    One probe at a time pings (on its own broker connection); the others answer with the last
    result meanwhile, and wait only when there is none yet. A ping that fails counts as no worker.
    """
    global _last_ping
    last = _last_ping
    if last is not None and time.monotonic() - last.at < WORKER_PING_MAX_AGE:
        return last.names
    if not _ping_lock.acquire(blocking=last is None):
        return last.names  # another probe is pinging: the previous answer will do until it is back
    try:
        last = _last_ping
        if last is None or time.monotonic() - last.at >= WORKER_PING_MAX_AGE:
            try:
                names = _ping_workers_on_own_connection()
            except Exception as exc:  # the broker went away meanwhile: no worker can be reached
                logger.warning("readiness: the worker ping failed (%s)", type(exc).__name__)
                names = []
            last = _last_ping = _Ping(names, time.monotonic())
        return last.names
    finally:
        _ping_lock.release()


def workers_component(*, broker: Component | None = None) -> Component:
    """At least one worker answers (``answering_workers``: shared by the probes for a few seconds)."""
    if not uses_celery():
        return Component(NOT_USED, False, None, "replies run in-process")
    broker = broker or broker_component()
    if broker.state != OK:
        # A ping through a broker that is down would wait on kombu's reconnects.
        return Component(ERROR, True, None, "broker unreachable")
    names: list[str] = []

    def ping() -> str:
        names.extend(answering_workers())
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
        _ping_redis(settings.REDIS_URL)
        return "ok"
    except redis.RedisError as exc:
        return f"error: {type(exc).__name__}"
