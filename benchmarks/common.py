"""Shared helpers: environment, Django setup, measurements from /proc, a throwaway database, fixtures.

Percentiles and the Markdown tables are in ``testing.figures``, shared with the load scenario.

Every scenario runs against loopback Redis (db 5 by default, keys under a prefix unique to this
run, deleted at the end) and a PostgreSQL database created for the run and dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

REDIS_URL = os.environ.get("WEBOX_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
POSTGRES_URL = os.environ.get("WEBOX_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
RUN_ID = f"webox-bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
TOKEN = "tok "  # 4 ASCII bytes: a receiver counts tokens in a chunk as len(text) // 4

_spawn = multiprocessing.get_context("spawn")


# --- environment and Django ---------------------------------------------------------------------
def base_env(*, database_url: str, prefix: str) -> dict[str, str]:
    """The environment a benchmark process configures before ``django.setup()``."""
    return {
        "DJANGO_SETTINGS_MODULE": "webox.settings",
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": database_url,
        "WEBOX_REDIS_PREFIX": prefix,
        "WEBOX_LOG_LEVEL": "WARNING",
    }


def setup_django(env: dict[str, str], *, layer: str = "pubsub") -> None:
    """Configure settings from ``env``; ``layer="core"`` swaps in channels-redis' core layer."""
    os.environ.update(env)
    import django
    from django.conf import settings

    django.setup()
    if layer == "core":
        # redis-py 8 pools raise at 100 connections instead of waiting: size it like production would.
        settings.CHANNEL_LAYERS = {"default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "max_connections": 1000}], "prefix": env["WEBOX_REDIS_PREFIX"],
                       "capacity": 5000},
        }}


def spawn(target, *args) -> multiprocessing.process.BaseProcess:
    """A fresh interpreter (not a fork), so each measured process starts clean."""
    process = _spawn.Process(target=target, args=args, daemon=True)
    process.start()
    return process


def pipe():
    return _spawn.Pipe()


# --- measurement ---------------------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Usage:
    """CPU and wall time of this process between ``start()`` and ``stop()``."""

    cpu: float = 0.0
    wall: float = 0.0

    def start(self) -> Usage:
        self._cpu0, self._wall0 = time.process_time(), time.monotonic()
        return self

    def stop(self) -> Usage:
        self.cpu = time.process_time() - self._cpu0
        self.wall = time.monotonic() - self._wall0
        return self

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu / self.wall if self.wall else 0.0


# Another process, read from /proc (psutil is not a dependency). CPU times are in clock ticks.
_TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(path: str) -> list[str]:
    """Fields of a /proc ``stat`` file after the command name: [0] state, [2] pgrp, [11] utime, [12] stime."""
    with open(path) as stat:
        text = stat.read()
    return text[text.rindex(")") + 2:].split()


def group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (a worker and its pool children)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat_fields(f"/proc/{entry}/stat")[2]) == pgid:
                    pids.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), 0 if it is gone."""
    try:
        fields = _stat_fields(f"/proc/{pid}/stat")
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU time of each thread of a process, by thread id."""
    times = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return times
    for tid in tids:
        try:
            fields = _stat_fields(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            continue
        times[int(tid)] = (int(fields[11]) + int(fields[12])) / _TICK
    return times


def proc_status(pid: int, field: str) -> int:
    """An integer field of /proc/<pid>/status (``VmRSS`` in kB, ``Threads``), 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(fn, repeat: int) -> list[float]:
    """Wall time in ms of ``repeat`` calls of ``fn()``."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


# --- database and fixtures ----------------------------------------------------------------------------
@contextmanager
def bench_database() -> Iterator[str]:
    """A PostgreSQL database for this run (``webox_bench_*``), dropped at the end."""
    import psycopg

    name = "webox_bench_" + RUN_ID.replace("-", "_")[len("webox-bench-"):]
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def create_streaming_replies(conversations: int, per_conversation: int) -> list[tuple[int, list[int]]]:
    """Conversations with replies in ``streaming`` status (what checkpoints update): (id, reply ids)."""
    from accounts.models import User
    from chat.models import Conversation, Message, ReplyStatus, Role

    name = f"bench-{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(username=name, email=f"{name}@bench.invalid", password=uuid.uuid4().hex)
    convs = Conversation.objects.bulk_create(Conversation(owner=user, title="bench") for _ in range(conversations))
    replies = Message.objects.bulk_create(
        # Claimed, as reply_start leaves them: stream key "<id>:bench" (see Message.stream_key).
        Message(conversation=c, role=Role.ASSISTANT, provider="bench", status=ReplyStatus.STREAMING, stream_id="bench")
        for c in convs for _ in range(per_conversation)
    )
    return [(c.pk, [r.pk for r in replies[i * per_conversation:(i + 1) * per_conversation]])
            for i, c in enumerate(convs)]


def create_pending_replies(count: int, *, user_text: str, provider: str = "demo", model: str = "demo-echo"
                           ) -> list[int]:
    """``count`` conversations, each a user message and one pending reply to it, as ``message_send`` leaves
    them (without starting them): returns the reply ids."""
    from accounts.models import User
    from chat.models import Conversation, Message, ReplyStatus, Role

    name = f"bench-{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(username=name, email=f"{name}@bench.invalid", password=uuid.uuid4().hex)
    convs = Conversation.objects.bulk_create(Conversation(owner=user, title="bench") for _ in range(count))
    asks = Message.objects.bulk_create(Message(conversation=c, role=Role.USER, content=user_text) for c in convs)
    replies = Message.objects.bulk_create(
        Message(conversation=c, role=Role.ASSISTANT, provider=provider, model=model, reply_to=ask,
                status=ReplyStatus.PENDING)
        for c, ask in zip(convs, asks, strict=True)
    )
    return [r.pk for r in replies]


def delete_redis_keys(prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    client.close()
    return deleted
