"""Scenario 4: one real Celery worker process carrying hundreds of concurrent streams.

Streams are I/O-bound, so the worker runs Celery's *threads* pool (``-P threads -c N``): each
``chat.tasks.generate_reply`` task only blocks its pool thread while the stream runs on the
process's one long-lived event loop (webox/loops.py), so N threads carry N streams. The
default *prefork* pool gives one stream per child process; ``-P prefork -c 2`` is run for contrast.

For each run: N conversations, each a user message and one pending reply on the built-in ``demo``
provider (word pieces every ``WEBOX_DEMO_DELAY_MS``); one ``celery -A webox worker`` process on its
own Redis prefix and queue; a separate process enqueues the N tasks at once with the same settings
(``generate_reply.delay``); this process polls the database until every reply has ended, samples
the worker's CPU and RSS from /proc, and counts the channel-layer messages on the Redis pub/sub
channels of the run's prefix. The worker's whole process group is killed at the end, even on error.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime

from testing.figures import median, percentile, print_table
from testing.processes import start_worker

from .common import (
    REDIS_URL,
    RUN_ID,
    base_env,
    cpu_seconds,
    create_pending_replies,
    delete_redis_keys,
    group_pids,
    pipe,
    proc_status,
    setup_django,
    spawn,
    thread_cpu_seconds,
)

DELAY_MS = 25  # between demo word pieces: 40 pieces/s, the token rate of scenario 1
# 100 one-letter words (199 characters): the demo quotes up to 200 characters, so its reply is ~120 pieces.
USER_TEXT = " ".join("abcdefghij"[i % 10] for i in range(100))
READY_TIMEOUT = 60.0
POLL_SECONDS = 0.1

COLUMNS = ["pool", "-c", "replies", "wall s", "all started s", "peak streaming", "received p50 ms",
           "received p99 ms", "start delay p50 ms", "start delay p99 ms", "stream p50 ms", "stream p99 ms",
           "stream p50 / single", "engine overhead p50 ms", "engine overhead p99 ms", "not complete",
           "worker CPU %", "worker CPU ms / reply",
           "busiest thread CPU %", "RSS idle MB", "RSS peak MB", "threads peak", "layer msg/s",
           "log errors"]
# "[2026-11-25 10:00:00,123: INFO/MainProcess] Task chat.tasks.generate_reply[<id>] received"
RECEIVED = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/[^\]]*\] "
                      r"Task chat\.tasks\.generate_reply\[([0-9a-f-]+)\] received", re.MULTILINE)


class LayerCounter:
    """Counts the channel-layer messages (and their events) published to the run's conversation groups."""

    def __init__(self, prefix: str) -> None:
        import redis

        self.client = redis.Redis.from_url(REDIS_URL)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        # RedisPubSubChannelLayer publishes a group's messages on "<prefix>__group__<group>".
        self.pubsub.psubscribe(f"{prefix}__group__*")
        self.messages = 0
        self.events: Counter[str] = Counter()
        self.first = self.last = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="layer-counter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import msgpack

        while not self._stop.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            now = time.time()
            self.first = self.first or now
            self.last = now
            self.messages += 1
            for event in msgpack.unpackb(message["data"]).get("events", ()):
                self.events[event["type"]] += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.pubsub.close()
        self.client.close()


def enqueuer_main(env: dict[str, str], reply_ids: list[int], conn) -> None:
    """A separate process with the worker's settings: enqueue every task at once on "go"."""
    setup_django(env)
    from chat.streaming.tasks import generate_reply

    # The first .delay() of a process connects to the broker (~200 ms): not what is measured. Reply 0
    # does not exist, so the worker's task returns at once (it also starts the worker's event loop).
    generate_reply.delay(0)
    conn.send("ready")
    conn.recv()
    sent = []
    for reply_id in reply_ids:
        at = time.time()
        sent.append((generate_reply.delay(reply_id).id, reply_id, at))
    conn.send(sent)


def _received_at(output: str) -> dict[str, float]:
    """When the worker logged each task as received (local time, millisecond resolution), by task id."""
    return {task: datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            for stamp, task in RECEIVED.findall(output)}


def _status_counts(reply_ids: list[int]) -> Counter[str]:
    from django.db.models import Count

    from chat.models import Message

    rows = Message.objects.filter(pk__in=reply_ids).values("status").annotate(n=Count("id"))
    return Counter({row["status"]: row["n"] for row in rows})


def measure(*, database_url: str, run: int, pool: str, concurrency: int, replies: int, timeout: float) -> dict:
    """Start one worker, enqueue ``replies`` tasks at once, wait until every reply has ended or ``timeout``."""
    from chat.models import Message, ReplyStatus

    prefix = f"{RUN_ID}-w{run:02d}"
    env = {**os.environ, **base_env(database_url=database_url, prefix=prefix), "WEBOX_LOG_LEVEL": "INFO",
           "WEBOX_CELERY_QUEUE": f"{prefix}-queue", "WEBOX_DEMO_DELAY_MS": str(DELAY_MS), "PYTHONUNBUFFERED": "1"}
    reply_ids = create_pending_replies(replies, user_text=USER_TEXT)
    log_dir = tempfile.mkdtemp(prefix=f"{prefix}-")
    counter = LayerCounter(prefix)
    conn, child_conn = pipe()
    enqueuer = spawn(enqueuer_main, env, reply_ids, child_conn)
    samples = {"rss": [0], "threads": [0], "streaming": [0]}
    try:
        with start_worker(log_dir, env, pool=pool, concurrency=concurrency) as worker:
            if not conn.poll(READY_TIMEOUT) or conn.recv() != "ready":
                raise RuntimeError("the enqueuing process did not start")
            warm = time.monotonic() + 10
            while "succeeded" not in worker.output() and time.monotonic() < warm:
                time.sleep(0.05)  # the warm-up task has run: the worker is idle
            rss_idle = sum(proc_status(pid, "VmRSS") for pid in group_pids(worker.pid)) / 1024
            cpu0 = sum(cpu_seconds(pid) for pid in group_pids(worker.pid))
            threads0 = thread_cpu_seconds(worker.pid)
            go = time.monotonic()
            conn.send("go")
            while time.monotonic() - go < timeout:
                counts = _status_counts(reply_ids)
                pids = group_pids(worker.pid)
                samples["streaming"].append(counts[ReplyStatus.STREAMING])
                samples["rss"].append(sum(proc_status(pid, "VmRSS") for pid in pids))
                samples["threads"].append(sum(proc_status(pid, "Threads") for pid in pids))
                if counts[ReplyStatus.PENDING] + counts[ReplyStatus.STREAMING] == 0 or worker.handle.poll() is not None:
                    break
                time.sleep(POLL_SECONDS)
            wall = time.monotonic() - go
            cpu = sum(cpu_seconds(pid) for pid in group_pids(worker.pid)) - cpu0
            threads1 = thread_cpu_seconds(worker.pid)
            if not conn.poll(10):
                raise RuntimeError("the enqueuing process did not report")
            sent = conn.recv()
            output = worker.output()
            log_errors = sum(1 for line in output.splitlines() if " ERROR" in line or "Traceback" in line)
    finally:
        counter.stop()
        enqueuer.join(10)
        if enqueuer.is_alive():
            enqueuer.kill()
        delete_redis_keys(prefix)
        shutil.rmtree(log_dir, ignore_errors=True)  # a worker that failed to start has its log's tail in the error

    rows = list(Message.objects.filter(pk__in=reply_ids).values(
        "id", "status", "started_at", "completed_at", "duration_ms", "completion_tokens"))
    done = [r for r in rows if r["status"] == ReplyStatus.COMPLETE]
    enqueued_at = {reply_id: at for _, reply_id, at in sent}
    first_sent = min(enqueued_at.values())
    # From .delay() to the worker logging the task as received, and to the engine claiming the reply.
    received = _received_at(output)
    received_ms = [1000 * (received[task] - at) for task, _, at in sent if task in received]
    started_ms = [1000 * (r["started_at"].timestamp() - enqueued_at[r["id"]]) for r in rows if r["started_at"]]
    stream_ms = [r["duration_ms"] for r in done]
    # Time in the engine outside the provider's stream: DB calls through the loop's executor, the close.
    overhead_ms = [(r["completed_at"] - r["started_at"]).total_seconds() * 1000 - r["duration_ms"] for r in done]
    done_s = [r["completed_at"].timestamp() - first_sent for r in done]
    busiest = max((threads1.get(tid, 0.0) - t0 for tid, t0 in threads0.items()), default=0.0)
    busiest = max(busiest, *(t for tid, t in threads1.items() if tid not in threads0), 0.0)
    span = (counter.last - counter.first) if counter.messages > 1 else float("nan")
    return {
        "pool": pool, "-c": concurrency, "replies": replies,
        "wall s": max(done_s) if len(done) == replies else wall,
        "all started s": max(r["started_at"].timestamp() for r in rows) - first_sent
        if len(started_ms) == replies else float("nan"),
        "peak streaming": max(samples["streaming"]),
        "received p50 ms": percentile(received_ms, 50), "received p99 ms": percentile(received_ms, 99),
        "start delay p50 ms": percentile(started_ms, 50), "start delay p99 ms": percentile(started_ms, 99),
        "stream p50 ms": percentile(stream_ms, 50), "stream p99 ms": percentile(stream_ms, 99),
        "engine overhead p50 ms": percentile(overhead_ms, 50), "engine overhead p99 ms": percentile(overhead_ms, 99),
        "done p99 s": percentile(done_s, 99), "not complete": replies - len(done),
        "worker CPU %": 100 * cpu / wall, "worker CPU ms / reply": 1000 * cpu / replies,
        "busiest thread CPU %": 100 * busiest / wall,
        "RSS idle MB": rss_idle, "RSS peak MB": max(samples["rss"]) / 1024, "threads peak": max(samples["threads"]),
        "layer msg/s": counter.messages / span if span == span and span > 0 else float("nan"),
        "events/msg": sum(counter.events.values()) / counter.messages if counter.messages else float("nan"),
        "log errors": log_errors,
        "enqueue s": max(enqueued_at.values()) - first_sent,
        "pieces": median([r["completion_tokens"] or 0 for r in done]),
        "layer messages": counter.messages, "events": dict(counter.events),
    }


def main(*, database_url: str, quick: bool) -> None:
    counts = (100, 200) if quick else (100, 300, 500)
    prefork_count = 10 if quick else 20
    print(f"\n## 4. One worker process, hundreds of streams: `celery worker -P threads -c N`, demo provider, "
          f"{DELAY_MS} ms between word pieces, N replies enqueued at once")
    runs = iter(range(100))
    single = measure(database_url=database_url, run=next(runs), pool="threads", concurrency=1, replies=1,
                     timeout=60)
    one = single["stream p50 ms"]
    print(f"  single reply: {single['pieces']:.0f} pieces, stream {one:.0f} ms, "
          f"wall {single['wall s']:.2f} s", flush=True)
    results = [single]
    for count in counts:
        results.append(measure(database_url=database_url, run=next(runs), pool="threads", concurrency=count,
                               replies=count, timeout=60 + 0.2 * count))
        print(f"  threads -c {count}: done", flush=True)
    # Prefork: one stream per child process, so the run takes about N/2 replies' time: capped at prefork_count.
    expected = math.ceil(prefork_count / 2) * (one / 1000)
    prefork = measure(database_url=database_url, run=next(runs), pool="prefork", concurrency=2,
                      replies=prefork_count, timeout=60 + 2 * expected)
    results.append(prefork)
    print(f"  prefork -c 2 ({prefork_count} replies): done", flush=True)
    for row in results:
        row["stream p50 / single"] = row["stream p50 ms"] / one if one else float("nan")
    print_table("One worker process", COLUMNS, [[row[c] for c in COLUMNS] for row in results])
    print("\nEnqueue time (all `.delay()` calls): "
          + ", ".join(f"{r['pool']} {r['replies']}: {1000 * r['enqueue s']:.0f} ms" for r in results)
          + ".\nLayer events: "
          + "; ".join(f"{r['pool']} {r['replies']}: {r['layer messages']} messages, "
                      + ", ".join(f"{k} {v}" for k, v in sorted(r["events"].items())) for r in results) + ".")
    threads_100 = next(r for r in results if r["pool"] == "threads" and r["replies"] == 100)
    scale = 100 / prefork_count
    extrapolated = prefork["wall s"] * scale
    print(f"\nPrefork -c 2, 100 replies, **extrapolated** (not measured) from its {prefork_count}-reply run: "
          f"{prefork['wall s']:.1f} s × {scale:.0f} = {extrapolated:.0f} s, against {threads_100['wall s']:.1f} s "
          f"measured with threads -c 100: {extrapolated / threads_100['wall s']:.0f}× longer.")
