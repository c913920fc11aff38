"""Scenario ``scaleout``: what a second daphne instance behind nginx adds, as a figure.

The same load (``testing/load.py``: conversations with two sockets each, turns back to back to two
providers, every reply checked token for token) against three shapes on the same two Celery workers:

- ``1 direct``: one daphne, clients connect to it;
- ``1 nginx``: the same daphne behind nginx (``deploy/nginx/webox.conf``): the proxy's overhead;
- ``2 nginx``: two daphne behind nginx, clients spread by its round robin.

Reported per shape and size: streams at once (replies streaming together, each to two sockets),
turns a second, send and turn latency, the CPU of the daphne processes and of nginx, and the
checks (lost, doubled, stuck). The load's client and the fake provider run in this one Python
process, which shares the machine's cores with everything it measures.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from testing.deploy import Nginx, nginx_binary, start_web
from testing.fake_provider import FakeProviderServer
from testing.figures import print_table
from testing.load import PROVIDERS, drive, prepare, summarize
from testing.processes import child_env, start_worker

from .common import RUN_ID, cpu_seconds

COLUMNS = ["shape", "conversations", "streams at once", "sockets", "turns/s", "send p50 ms", "send p99 ms",
           "turn p50 ms", "turn p99 ms", "daphne CPU %", "nginx CPU %", "lost", "doubled", "stuck"]
TOKENS, DELAY_MS = 20, 50  # a reply streams for about one second


def measure(shape: str, port: int, webs: list, nginx, *, fake, conversations: int, duration: float) -> list:
    plan = prepare(fake=fake, users=conversations, conversations_per_user=1)
    watched = [process.pid for process in webs]
    before = [cpu_seconds(pid) for pid in watched]
    proxy_before = cpu_seconds(nginx.process.pid) + sum(cpu_seconds(pid) for pid in _children(nginx)) if nginx else 0
    began = time.monotonic()
    outcome = asyncio.run(drive(port=port, plan=plan, sockets_per_conversation=2, duration=duration, tokens=TOKENS,
                                delay_ms=DELAY_MS, stuck_after=60.0))
    wall = time.monotonic() - began
    daphne_cpu = sum(cpu_seconds(pid) - b for pid, b in zip(watched, before, strict=True)) / wall * 100
    proxy_cpu = ((cpu_seconds(nginx.process.pid) + sum(cpu_seconds(pid) for pid in _children(nginx)) - proxy_before)
                 / wall * 100) if nginx else float("nan")
    summary = summarize(outcome, fake)
    # summary.row: users, conversations, sockets, seconds, turns, replies, checked, turns/s, send p50, send p99,
    # turn p50, turn p99, lost, doubled, crossed, stuck, send errors
    row = summary.row
    return [shape, conversations, conversations * len(PROVIDERS), row[2], row[7], row[8], row[9], row[10], row[11],
            daphne_cpu, proxy_cpu, row[12], row[13] + row[14], row[15] + row[16]]


def warm_up(tmp: Path, env: dict[str, str], *, fake, conversations: int) -> None:
    """A short, unrecorded load first: the workers' first streams load the SDKs and open their connections,
    seconds that would otherwise count against whichever shape runs first."""
    web, port = start_web(tmp, env)
    try:
        plan = prepare(fake=fake, users=conversations, conversations_per_user=1)
        asyncio.run(drive(port=port, plan=plan, sockets_per_conversation=2, duration=3.0, tokens=TOKENS,
                          delay_ms=DELAY_MS, stuck_after=60.0))
    finally:
        web.stop()


def _children(nginx) -> list[int]:
    """nginx's worker processes (its master only waits)."""
    from .common import group_pids

    return [pid for pid in group_pids(nginx.process.pid) if pid != nginx.process.pid]


def main(*, database_url: str, quick: bool) -> None:
    print("\n## Scale-out: one daphne, the same behind nginx, two behind nginx (two Celery workers each time)")
    if not nginx_binary():
        print("\nSkipped: nginx is not installed (scripts/ensure-nginx installs it).")
        return
    sizes = [40] if quick else [40, 120]
    duration = 8.0 if quick else 15.0
    env = child_env(WEBOX_CELERY_QUEUE=f"{RUN_ID}-scaleout", WEBOX_LOG_LEVEL="WARNING", WEBOX_SEND_RATE="0/60",
                    WEBOX_MAX_ACTIVE_REPLIES="0", WEBOX_TRUSTED_PROXIES="127.0.0.1",
                    WEBOX_CELERY_CONCURRENCY=str(max(sizes) * len(PROVIDERS) + 20))
    rows = []
    with FakeProviderServer() as fake, tempfile.TemporaryDirectory(prefix="webox-scaleout-") as tmp:
        tmp = Path(tmp)
        (tmp / "static").mkdir()
        workers = [start_worker(tmp, env, concurrency=max(sizes) * len(PROVIDERS) + 20) for _ in range(2)]
        try:
            warm_up(tmp, env, fake=fake, conversations=max(sizes))
            for shape, instances, proxied in (("1 direct", 1, False), ("1 nginx", 1, True), ("2 nginx", 2, True)):
                webs, nginx = [], None
                try:
                    webs = [start_web(tmp, env)[0] for _ in range(instances)]
                    ports = [int(process.log.stem.split("-")[1]) for process in webs]
                    if proxied:
                        nginx = Nginx(tmp / f"nginx-{instances}", ports, tmp / "static").start()
                    for conversations in sizes:
                        rows.append(measure(shape, nginx.port if nginx else ports[0], webs, nginx, fake=fake,
                                            conversations=conversations, duration=duration))
                        print(f"  {shape}, {conversations} conversations: done", flush=True)
                finally:
                    for process in [*webs, *([nginx.process] if nginx else [])]:
                        process.stop()
        finally:
            for worker in workers:
                worker.stop()
    print_table(f"Scale-out: {TOKENS} pieces {DELAY_MS} ms apart per reply, two sockets per conversation, "
                f"{duration:.0f} s per row", COLUMNS, rows)
