"""The figures of the ops page and its JSON (views.py): Celery workers, queues, replies now, recent failures.

Reads only (the Celery control calls are broadcasts that change nothing, except ``worker_drain``
and ``worker_resume``, which stop and restart a worker's consumption of the webox queue).
"""

from __future__ import annotations

import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from chat.models import ACTIVE_STATUSES, Message, ReplyStatus, Role
from webox.celery import app as celery_app

from . import health

GENERATE_TASK = "chat.tasks.generate_reply"
STUCK_LIST_LIMIT = 50
# kombu's Redis transport keeps one list per priority step besides the plain one:
# "<queue>\x06\x16<priority>" (its default steps are 0, 3, 6, 9).
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


def queue_name() -> str:
    return celery_app.conf.task_default_queue


def workers(*, timeout: float = health.WORKER_PING_TIMEOUT) -> list[dict]:
    """Every worker that answers a ping within ``timeout``, with its pool, tasks and queues."""
    names = health.ping_workers(timeout)
    if not names:
        return []
    # Everyone who answers is known now, so each inspect call returns as soon as they all reply.
    inspect = celery_app.control.inspect(destination=names, timeout=timeout, limit=len(names))
    stats = inspect.stats() or {}
    active = inspect.active() or {}
    queues = inspect.active_queues() or {}
    rows = []
    for name in names:
        worker_stats = stats.get(name, {})
        pool = worker_stats.get("pool", {})
        tasks = active.get(name, [])
        consuming = [q.get("name") for q in queues.get(name, [])]
        rows.append({
            "hostname": name,
            "pid": worker_stats.get("pid"),
            "pool": _pool_kind(pool.get("implementation", "")),
            "concurrency": pool.get("max-concurrency"),
            "active_tasks": len(tasks),
            "streaming_reply_ids": sorted(_reply_id(task) for task in tasks if task.get("name") == GENERATE_TASK),
            "uptime_seconds": worker_stats.get("uptime"),
            "processed": sum((worker_stats.get("total") or {}).values()),
            "queues": consuming,
            "draining": queue_name() not in consuming,
        })
    return rows


def _pool_kind(implementation: str) -> str:
    # "celery.concurrency.thread:TaskPool" -> "thread"
    return implementation.split(":")[0].rsplit(".", 1)[-1] if implementation else ""


def _reply_id(task: dict):
    args = task.get("args") or []
    return args[0] if args else None


def queue_lengths() -> list[dict]:
    """The length of the broker's list for each queue webox uses (Redis brokers only)."""
    prefix = (celery_app.conf.broker_transport_options or {}).get("global_keyprefix", "")
    name = queue_name()
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=health.PROBE_TIMEOUT,
                                  socket_timeout=health.PROBE_TIMEOUT)
    keys = [f"{prefix}{name}"] + [f"{prefix}{name}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.llen(key)
        lengths = pipe.execute()
    return [{"name": name, "key": keys[0], "length": sum(lengths)}]


def replies_now(*, stale_seconds: int | None = None) -> dict:
    """Active replies now: streaming, pending, and the stuck ones (no checkpoint for too long)."""
    stale = stale_seconds if stale_seconds is not None else settings.WEBOX_REPLY_STALE_SECONDS
    now = timezone.now()
    cutoff = now - timedelta(seconds=stale)
    active = Message.objects.filter(role=Role.ASSISTANT, status__in=ACTIVE_STATUSES)
    counts = active.aggregate(
        streaming=Count("id", filter=Q(status=ReplyStatus.STREAMING)),
        pending=Count("id", filter=Q(status=ReplyStatus.PENDING)),
        stuck=Count("id", filter=Q(updated_at__lt=cutoff)),
        oldest_pending=Min("created_at", filter=Q(status=ReplyStatus.PENDING)),
    )
    oldest = counts.pop("oldest_pending")
    stuck = [
        {
            "id": m.pk, "conversation_id": m.conversation_id, "provider": m.provider, "model": m.model,
            "status": m.status, "seconds_since_checkpoint": int((now - m.updated_at).total_seconds()),
        }
        for m in active.filter(updated_at__lt=cutoff).order_by("updated_at")[:STUCK_LIST_LIMIT]
    ]
    return {
        **counts,
        "oldest_pending_wait_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "stale_seconds": stale,
        "stuck_replies": stuck,
    }


def failures_last_hour() -> list[dict]:
    since = timezone.now() - timedelta(hours=1)
    rows = (Message.objects.filter(role=Role.ASSISTANT, status=ReplyStatus.ERROR, completed_at__gte=since,
                                   imported=False)
            .values("provider", "error_code").annotate(count=Count("id")).order_by("-count", "provider", "error_code"))
    return list(rows)


def ops_status() -> dict:
    """Every figure of the ops page, in the shape of its JSON."""
    started = time.perf_counter()
    body: dict = {"runner": settings.WEBOX_RUNNER, "replies": replies_now(), "failures_last_hour": failures_last_hour()}
    if health.uses_celery():
        broker = health.broker_component()
        body["broker"] = {"state": broker.state, "detail": broker.detail}
        body["workers"], body["queues"] = [], []
        if broker.state == health.OK:
            try:
                body["workers"] = workers()
                body["queues"] = queue_lengths()
            except Exception as exc:  # the broker went away meanwhile: report it, not a 500
                body["broker"] = {"state": health.ERROR, "detail": type(exc).__name__}
    else:
        body["workers"], body["queues"] = None, None
    body["generated_in_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return body


def worker_drain(*, hostname: str) -> bool:
    """Stop ``hostname`` taking new replies from the webox queue; its streams go on to their end.

    Same as ``celery -A webox control cancel_consumer <queue> -d <hostname>``. True when the
    worker acknowledged.
    """
    replies = celery_app.control.cancel_consumer(queue_name(), destination=[hostname], reply=True,
                                                 timeout=health.WORKER_PING_TIMEOUT)
    return any(hostname in reply for reply in replies or [])


def worker_resume(*, hostname: str) -> bool:
    """Undo ``worker_drain`` (``celery -A webox control add_consumer <queue> -d <hostname>``)."""
    replies = celery_app.control.add_consumer(queue_name(), destination=[hostname], reply=True,
                                              timeout=health.WORKER_PING_TIMEOUT)
    return any(hostname in reply for reply in replies or [])
