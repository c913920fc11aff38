"""Scenario ``e2e``: webox end to end, as a client sees it, against a direct SDK call to the same provider.

webox runs as deployed, driven only from the outside (HTTP, WebSocket, subprocesses):

- *production shape*: one daphne and one Celery worker per core (``-P threads -c 200``), forked from
  one process as ``make worker`` starts them (``python -m webox.workers N``), on a throwaway
  PostgreSQL database and Redis under a prefix of this run;
- *embedded default*: daphne alone, SQLite in a temporary ``WEBOX_VAR_DIR``, replies on its own loop.

The provider is ``testing/fake_provider/`` in its own process (OpenAI and Anthropic wire formats,
behaviour chosen by the model name). The clients run in another process (``e2e_client``): each
stream registers nothing more than a conversation and its socket, then ``POST /api/chat/send`` and
reads the socket, every reply checked token for token. Direct SDK calls with the same model string
run at the same instant as the sends, so TTFT overhead = webox TTFT − direct TTFT under the same load.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from testing.processes import start_daphne, start_workers

from .common import POSTGRES_URL, RUN_ID, delete_redis_keys, pipe, spawn
from .e2e_client import client_main
from .e2e_procs import FakeProvider, Sampler, TempDir, add_fake_records, log_errors, manage, pg_counters, shape_env
from .e2e_report import print_report, ttft_row
from .e2e_stats import analyse, nominal_s
from .e2e_workload import FANOUT, MODEL, SLOW_MODEL, SLOWEST

WORKER_CONCURRENCY = 200
# One worker process (one event loop) per core, as the README's production shape runs them.
WORKERS = int(os.environ.get("WEBOX_BENCH_E2E_WORKERS") or os.cpu_count() or 1)
PG_IDLE_S = 11  # PostgreSQL 15 backends report their statistics once idle for 10 s
USERS = 4
PG_CONNECTION_LIMIT = 60  # of the shared server's max_connections (100 on the benchmark machines)


class Budget:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class Shape:
    """One running webox (its processes, the fake, a client process) and the waves run against it."""

    def __init__(self, name: str, *, fake: FakeProvider, port: int, pids: dict[str, int], services: list,
                 database_url: str | None = None) -> None:
        self.name, self.fake, self.pids, self.services = name, fake, pids, services
        self.database_url = database_url
        self.base = f"http://127.0.0.1:{port}"
        self.waves: list[tuple[dict, dict, dict]] = []  # (spec, figures, costs)

    def start_client(self) -> None:
        from .e2e_procs import FAKE_KEY

        self.conn, child = pipe()
        self.client = spawn(client_main, child, self.base, f"{self.fake.origin}/v1", FAKE_KEY, USERS)
        if not self.conn.poll(120):
            raise RuntimeError("the client process did not start")
        ready = self.conn.recv()
        if ready != "ready":
            raise RuntimeError(f"the client process failed: {ready}")
        self.pids = {**self.pids, "client": self.client.pid}

    def stop_client(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.client.join(10)
        if self.client.is_alive():
            self.client.kill()

    def wave(self, streams: int, *, models: dict[str, str] | None = None, direct: int | None = None,
             sequential: bool = False, no_send: bool = False, timeout: float | None = None, label: str = ""
             ) -> tuple[dict, dict]:
        models = models or {"openai": MODEL}
        nominal = max(nominal_s(m) for m in models.values())
        if timeout is None:
            timeout = (streams * (nominal + 1) if sequential else 3 * nominal + streams / 20) + 20
        spec = {"streams": streams, "models": models, "tag": f"e2e-{uuid.uuid4().hex[:8]}", "sequential": sequential,
                "direct": max(3, streams // 10) if direct is None else direct, "timeout": timeout,
                "direct_model": next(iter(models.values())), "label": label, "no_send": no_send}
        self.fake.take()
        t0 = time.monotonic()
        for service in self.services:
            service.check_alive()
        with Sampler({**self.pids, "fake": self.fake.pid}, self.database_url) as sampler:
            self.conn.send(spec)
            # Preparing the sockets is bounded by the client's own timeouts (60 s each, 50 at a time).
            while True:
                if not self.conn.poll(timeout * (streams if sequential else 1) + 120 + streams * 0.5):
                    raise RuntimeError(f"{self.name}: the client did not finish a wave of {streams}")
                result = self.conn.recv()
                if result != "prepared":
                    break
                sampler.mark()  # the sockets are open: from here on, the sends, the streams and the closes
        if "fatal" in result:
            raise RuntimeError(f"{self.name}: the client failed: {result['fatal']}")
        figures = analyse(result, self.fake.take())
        costs = {"cpu": sampler.cpu_percent, "cpu s": sampler.cpu_seconds, "rss": sampler.peak,
                 "turn cpu s": sampler.cpu_since_mark,
                 "thread s": sampler.thread_seconds,
                 "client cpu s": result["client_cpu_s"],
                 "db connections": sampler.connections}
        self.waves.append((spec, figures, costs))
        c = figures["counts"]
        print(f"  {self.name} {label or streams}: {c['ok']}/{c['replies expected']} ok, TTFT p50 "
              f"{figures['ttft'][0]:.0f} ms (direct {figures['direct ttft'][0]:.0f}), send→provider p50 "
              f"{figures['to provider'][0]:.0f} ms, POST p50 {figures['post'][0]:.0f} ms, "
              f"finish/nominal p99 {figures['finish/nominal p99']:.2f}, {time.monotonic() - t0:.0f} s, "
              f"{sampler.connections} PG connections, {sum(v for k, v in figures['statuses'].items() if ' 5' in k)} "
              f"HTTP 5xx, {'pass' if figures['passed'] else 'FAIL'}", flush=True)
        if not figures["passed"]:
            print("    " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if v and k not in ("ok", "streams")
                                   and not k.startswith("direct")), flush=True)
        if c["not ended"]:
            self.drain(nominal)

        return figures, costs

    def drain(self, nominal: float, *, quiet: float = 5.0, limit: float = 120.0) -> None:
        """Wait until replies a wave left behind have stopped reaching the provider, so that they do not
        load the next wave: no new provider call for ``quiet`` + nominal seconds, at most ``limit``."""
        t0 = last = time.monotonic()
        late = 0
        while time.monotonic() - last < quiet + nominal and time.monotonic() - t0 < limit:
            time.sleep(1)
            calls = len(self.fake.take())
            if calls:
                late += calls
                last = time.monotonic()
        print(f"    drained: {late} late provider calls over {time.monotonic() - t0:.0f} s"
              + (" (gave up waiting)" if time.monotonic() - t0 >= limit else ""), flush=True)

    def idle(self, seconds: float) -> dict:
        with Sampler({**self.pids, "fake": self.fake.pid}) as sampler:
            time.sleep(seconds)
            shared = sampler.shared_memory()
        return {"cpu": sampler.cpu_percent, "rss": sampler.peak, "shared": shared}


def find_ceiling(shape: Shape, known: dict[int, bool], budget: Budget, *, cap: int, steps: int) -> tuple[int, list]:
    """Raise the stream count (×2) from what is known until a wave fails, then bisect; bounded by ``budget``."""
    passed = max((n for n, ok in known.items() if ok), default=0)
    failed = min((n for n, ok in known.items() if not ok and n > passed), default=None)
    tried = []
    while failed is None and passed < cap and budget.left() > 0:
        n = min(cap, max(10, passed * 2))
        ok = shape.wave(n, label=f"ceiling {n}")[0]["passed"]
        tried.append((n, ok))
        passed, failed = (n, failed) if ok else (passed, n)
    for _ in range(steps):
        if failed is None or failed - passed <= max(1, passed // 10) or budget.left() < 0:
            break
        n = (passed + failed) // 2
        ok = shape.wave(n, label=f"ceiling {n}")[0]["passed"]
        tried.append((n, ok))
        passed, failed = (n, failed) if ok else (passed, n)
    return passed, tried


def run_shape(shape: Shape, *, quick: bool, seconds: float, database_url: str | None, report: dict) -> None:
    """Every wave against one shape; ``seconds`` bounds the waves sent at once, which follow the one-at-a-time
    ones: a wave is not started when less than a minute of it is left."""
    name = shape.name
    rows = report["ttft rows"]
    report["idle"][name] = shape.idle(PG_IDLE_S if database_url and not quick else 5)
    if database_url and not quick:
        # Database cost of a turn: a wave that only creates conversations and joins their sockets, then
        # the same with one send each; each read after the servers have been idle long enough to report.
        k = 20
        c0 = pg_counters(database_url)
        shape.wave(k, direct=0, no_send=True, label="db: sockets only")
        time.sleep(PG_IDLE_S)
        c1 = pg_counters(database_url)
        figures, costs = shape.wave(k, label="db: sockets + send")
        rows.append(ttft_row(name, f"{k} (database wave)", figures, costs))
        time.sleep(PG_IDLE_S)
        c2 = pg_counters(database_url)
        report["db"] = {"join": {key: (c1[key] - c0[key]) / k for key in c0},
                        "reply": {key: (c2[key] - 2 * c1[key] + c0[key]) / k for key in c0}}
    # The first sends after start pay what a process does once (imports, connections, each forked worker's
    # first task): their own row, so that the one-at-a-time row is what every later send pays.
    figures, costs = shape.wave(3, sequential=True, label="first sends")
    rows.append(ttft_row(name, "1 (first 3 after start)", figures, costs))
    seq = 10 if quick else 20
    figures, costs = shape.wave(seq, sequential=True, label="one at a time")
    rows.append(ttft_row(name, "1 (sequential)", figures, costs))
    budget = Budget(seconds)  # for the waves at once, from here
    levels = (10, 50) if quick else (10, 50, 100, 200)
    known = {1: figures["passed"]}
    for n in levels:
        if budget.left() < 0:
            print(f"  {name}: out of time, skipping {n} streams")
            break
        figures, costs = shape.wave(n)
        rows.append(ttft_row(name, str(n), figures, costs))
        known[n] = figures["passed"]
        report["rss by streams"].setdefault(name, []).append((n, costs["rss"]))
        report["threads"].append((name, n, figures["counts"]["ok"], costs["thread s"]))
        report["parts"].append((name, n, figures["counts"]["ok"], costs))
        if figures["counts"]["ok"] < figures["counts"]["replies expected"] / 2:
            print(f"  {name}: fewer than half of the replies were right at {n} streams: not raising further")
            break
    ceiling, tried = find_ceiling(shape, known, budget, cap=400 if quick else 1000, steps=1 if quick else 3)
    report["ceiling"][name] = (ceiling, sorted({**known, **dict(tried)}.items()))
    for n, _ in tried:
        spec, figures, costs = next(w for w in reversed(shape.waves) if w[0]["label"] == f"ceiling {n}")
        rows.append(ttft_row(name, f"{n} (ceiling search)", figures, costs))
    if budget.left() > 0:
        turns = 3 if quick else 20
        fan = shape.wave(turns, models=FANOUT, direct=0, label="fan-out 4")
        alone = shape.wave(turns, models={SLOWEST: FANOUT[SLOWEST]}, direct=0, label="slowest alone")
        report["fanout"].append((name, turns, fan, alone))
    big = 200 if quick else 500
    if budget.left() > 0:
        figures, costs = shape.wave(big, models={"openai": SLOW_MODEL}, direct=10, timeout=90 if quick else 120,
                                    label=f"{big} at 20 tokens/s")
        report["big"].append((name, big, figures, costs))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def throwaway_database():
    """``webox_e2e_*`` on the benchmark's PostgreSQL, owned by a role of its own, both dropped at the end.

    webox connects as that role, whose ``CONNECTION LIMIT`` keeps the run from taking every connection of a
    PostgreSQL shared with others (a superuser's connections are not limited)."""
    import psycopg

    name = "webox_e2e_" + RUN_ID.replace("-", "_")[len("webox-bench-"):]
    parts = urlsplit(POSTGRES_URL)
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT {PG_CONNECTION_LIMIT}')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    try:
        yield urlunsplit(parts._replace(netloc=f"{name}@{parts.hostname}:{parts.port or 5432}", path=f"/{name}"))
    finally:
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{name}"')


def production(report: dict, *, quick: bool) -> None:
    began = time.monotonic()
    prefix = f"{RUN_ID}-e2e"
    with contextlib.ExitStack() as stack:
        stack.callback(delete_redis_keys, prefix)
        database_url = stack.enter_context(throwaway_database())
        log_dir = stack.enter_context(TempDir())
        fake = stack.enter_context(FakeProvider())
        env = shape_env(shape="production", fake_origin=fake.origin, var_dir=log_dir, database_url=database_url,
                        prefix=prefix)
        manage(env, "migrate", "--noinput")
        add_fake_records(env, fake.origin)
        daphne, port = start_daphne(log_dir, env)
        stack.callback(daphne.stop)
        # One worker per core, forked from one parent as `make worker` starts them (webox/workers.py).
        workers = [start_workers(log_dir, env, processes=WORKERS, concurrency=WORKER_CONCURRENCY)]
        stack.callback(workers[0].stop)
        shape = Shape("production", fake=fake, port=port,
                      pids={"daphne": daphne.pid, "worker": [worker.pid for worker in workers]},
                      services=[daphne, *workers], database_url=database_url)
        report["shapes"]["production"] = shape
        shape.start_client()
        stack.callback(shape.stop_client)
        print(f"\n## production shape: daphne pid {daphne.pid}, {WORKERS} worker(s) forked from pid "
              f"{workers[0].pid} (-P threads -c {WORKER_CONCURRENCY} each), "
              f"fake pid {fake.pid}, client pid {shape.client.pid}", flush=True)
        print(f"  started in {time.monotonic() - began:.0f} s (migrate, 2 provider records, daphne, workers, "
              f"{USERS} users registered)", flush=True)
        run_shape(shape, quick=quick, seconds=60 if quick else 540, database_url=database_url, report=report)
        report["log errors"]["production"] = {"daphne": log_errors(daphne), **{
            f"worker {i}": log_errors(worker) for i, worker in enumerate(workers, 1)}}


def embedded(report: dict, *, quick: bool) -> None:
    began = time.monotonic()
    with contextlib.ExitStack() as stack:
        var_dir = stack.enter_context(TempDir())
        fake = stack.enter_context(FakeProvider())
        env = shape_env(shape="embedded", fake_origin=fake.origin, var_dir=var_dir)
        manage(env, "migrate", "--noinput")
        add_fake_records(env, fake.origin)
        daphne, port = start_daphne(var_dir, env)
        stack.callback(daphne.stop)
        shape = Shape("embedded", fake=fake, port=port, pids={"daphne": daphne.pid}, services=[daphne])
        report["shapes"]["embedded"] = shape
        shape.start_client()
        stack.callback(shape.stop_client)
        print(f"\n## embedded default: daphne pid {daphne.pid} (SQLite, in-process runner), fake pid {fake.pid}, "
              f"client pid {shape.client.pid}", flush=True)
        print(f"  started in {time.monotonic() - began:.0f} s", flush=True)
        run_shape(shape, quick=quick, seconds=60 if quick else 300, database_url=None, report=report)
        report["log errors"]["embedded"] = {"daphne": log_errors(daphne)}


def main(*, quick: bool, **_) -> None:
    began = time.monotonic()
    print(f"\n## E2E. webox end to end, as a client sees it ({'quick' if quick else 'full'})")
    if os.environ.get("WEBOX_BENCH_E2E_ENV"):
        print(f"Extra settings of webox's processes: {os.environ['WEBOX_BENCH_E2E_ENV']}")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    report = {"ttft rows": [], "ceiling": {}, "idle": {}, "rss by streams": {}, "threads": [], "parts": [],
              "fanout": [], "big": [], "shapes": {}, "log errors": {}}
    shapes = [name.strip() for name in os.environ.get("WEBOX_BENCH_E2E_SHAPES", "production,embedded").split(",")]
    unknown = set(shapes) - {"production", "embedded"}
    if unknown:
        raise SystemExit(f"WEBOX_BENCH_E2E_SHAPES: unknown shape(s) {', '.join(sorted(unknown))}")
    try:
        for name in shapes:  # e.g. one shape only, for a pair of runs in half the time
            {"production": production, "embedded": embedded}[name](report, quick=quick)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if report["ttft rows"]:
            print_report(report)
            for name, services in report["log errors"].items():
                for service, (count, first) in services.items():
                    print(f"\n{name} {service}: {count} log lines with ERROR or Traceback" + (
                        f"; the first:\n\n```\n{first}\n```" if first else "."))
            print(f"\nE2E took {time.monotonic() - began:.0f} s.")
