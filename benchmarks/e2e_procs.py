"""Processes of the end-to-end benchmark: the fake provider in its own process, each shape's settings,
the processes' costs.

webox is driven from the outside only: its processes are started as a deployment would start them
(``testing.processes.start_daphne`` and ``start_worker``) with the settings of ``shape_env`` in the
environment, so nothing here imports ``chat``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from testing.processes import ROOT, START_TIMEOUT, Process

from .common import POSTGRES_URL, REDIS_URL, cpu_seconds, group_pids, proc_status, spawn, thread_cpu_seconds

FAKE_KEY = "bench-key"
# Every variable that would switch webox's mode or point it elsewhere: removed before a shape is set.
_WEBOX_VARS = ("DATABASE_URL", "REDIS_URL", "WEBOX_", "DJANGO_", "OPENAI_", "ANTHROPIC_", "OLLAMA_", "JWT_")


# --- the fake provider, in its own process --------------------------------------------------------------
def _fake_main(conn) -> None:
    sys.path.insert(0, str(ROOT))
    from testing.fake_provider import FakeProviderServer, _text

    server = FakeProviderServer(api_key=FAKE_KEY).start()
    conn.send(server.origin)
    while True:
        command = conn.recv()
        if command == "stop":
            server.stop()
            conn.send("stopped")
            return
        if command == "take":  # the chat requests since the last "take", as small records
            taken, server.requests[:] = list(server.requests), []
            records = []
            for r in taken:
                body = r["json"] if isinstance(r["json"], dict) else {}
                last = next((_text(m.get("content")) for m in reversed(body.get("messages") or [])
                             if m.get("role") == "user"), "")
                records.append({"path": r["path"], "model": str(body.get("model", "")), "text": last,
                                "received_at": r["received_at"], "piece_times": list(r["piece_times"])})
            conn.send(records)


class FakeProvider:
    """``testing.fake_provider.FakeProviderServer`` in a fresh interpreter (its threads do not share our GIL)."""

    def __enter__(self) -> FakeProvider:
        from .common import pipe

        self.conn, child = pipe()
        self.process = spawn(_fake_main, child)
        if not self.conn.poll(START_TIMEOUT):
            raise RuntimeError("the fake provider did not start")
        self.origin = self.conn.recv()
        self.pid = self.process.pid
        return self

    def take(self) -> list[dict]:
        self.conn.send("take")
        if not self.conn.poll(60):
            raise RuntimeError("the fake provider did not answer")
        return self.conn.recv()

    def __exit__(self, *exc) -> None:
        try:
            self.conn.send("stop")
            self.conn.poll(5)
        except OSError:
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


# --- webox's settings and records --------------------------------------------------------------------
def shape_env(*, shape: str, fake_origin: str, var_dir: str, database_url: str = "", prefix: str = "") -> dict:
    """The environment of every webox process of one shape: ``production`` or ``embedded``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_WEBOX_VARS)}
    env.update({
        "PYTHONUNBUFFERED": "1",
        "WEBOX_VAR_DIR": var_dir,  # the SQLite file of the embedded default; nothing written into the repo
        "WEBOX_LOG_LEVEL": "WARNING",
        "DJANGO_SECRET_KEY": "bench-" + os.urandom(16).hex(),  # provider keys of records are encrypted with it
        "JWT_ACCESS_MINUTES": "240",
        "OPENAI_BASE_URL": f"{fake_origin}/v1", "OPENAI_API_KEY": FAKE_KEY, "OPENAI_MODELS": "fake-echo",
        "ANTHROPIC_BASE_URL": f"{fake_origin}/anthropic", "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_MODELS": "fake-echo",
        "BENCH_FAKE_KEY": FAKE_KEY,  # read by ``manage.py providers add --api-key-env``
        # The benchmark measures capacity, not the per-user limits: a few users send every stream.
        "WEBOX_SEND_RATE": "0/60", "WEBOX_MAX_ACTIVE_REPLIES": "0", "WEBOX_REGISTER_RATE_IP": "0/3600",
        "WEBOX_LOGIN_RATE_IP": "0/300", "WEBOX_LOGIN_RATE_ACCOUNT": "0/300",
    })
    # Extra settings for an experiment, e.g. WEBOX_BENCH_E2E_ENV="DATABASE_CONN_MAX_AGE=0" (after the shape's).
    extra = dict(item.split("=", 1) for item in os.environ.get("WEBOX_BENCH_E2E_ENV", "").split(",") if "=" in item)
    if shape == "production":
        env.update({
            "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "WEBOX_REDIS_PREFIX": prefix,
            "WEBOX_CELERY_QUEUE": f"{prefix}-queue", "DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0",
        })
    env.update(extra)
    return env


def manage(env: dict, *args: str) -> str:
    """``manage.py <args>`` in a subprocess with the shape's settings; what it printed."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def add_fake_records(env: dict, fake_origin: str) -> None:
    """Two Provider records (one per wire format) besides the environment's two: four providers to fan out to."""
    records = (("fake3", "openai", f"{fake_origin}/v1"), ("fake4", "anthropic", f"{fake_origin}/anthropic"))
    for name, kind, url in records:
        manage(env, "providers", "add", name, "--kind", kind, "--base-url", url, "--api-key-env", "BENCH_FAKE_KEY",
               "--models", "fake-echo")


def log_errors(process: Process) -> tuple[int, str]:
    """How many log lines of a process say ERROR or Traceback, and the first such block (for the report)."""
    lines = process.output().splitlines()
    hits = [i for i, line in enumerate(lines) if " ERROR" in line or line.startswith("Traceback")]
    if not hits:
        return 0, ""
    block = lines[hits[0]:hits[0] + 60]
    end = next((i + 1 for i, line in enumerate(block[1:], 1) if line and not line[0].isspace()
                and not line.startswith(("Traceback", "During", "The above"))), len(block))
    return len(hits), "\n".join(block[:end + 1])


class TempDir:
    def __enter__(self) -> str:
        self.path = tempfile.mkdtemp(prefix="webox-e2e-")
        return self.path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# --- costs ----------------------------------------------------------------------------------------------------
class Sampler:
    """CPU (utime+stime over wall) and RSS of some processes (by pid, whole process group), sampled every 0.2 s,
    and the most PostgreSQL connections to ``database`` at once (when given)."""

    def __init__(self, pids: dict[str, int | list[int]], database_url: str | None = None) -> None:
        self.pids = pids
        self.database_url = database_url
        self.connections = 0
        self._marked: dict[str, float] | None = None
        self.cpu_since_mark: dict[str, float] | None = None

    def mark(self) -> None:
        """Note the CPU so far: ``cpu_since_mark`` is then what each process spent from here to the end."""
        self._marked = self._cpu()

    @staticmethod
    def _members(pid: int | list[int]) -> list[int]:
        if isinstance(pid, list):  # several processes counted as one (the worker processes)
            return [member for one in pid for member in Sampler._members(one)]
        return group_pids(pid) or [pid]  # a multiprocessing child is not a group leader: itself alone

    def _cpu(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in self._members(pid)) for name, pid in self.pids.items()}

    def shared_memory(self) -> dict[str, dict[str, float]]:
        """PSS and USS in MB per name, now (/proc/<pid>/smaps_rollup): RSS counts a page shared by forked
        workers in each of them; PSS divides it among them; USS is what each holds alone."""
        totals = {}
        for name, pid in self.pids.items():
            pss = uss = 0
            for member in self._members(pid):
                fields = smaps_rollup(member)
                pss += fields.get("Pss", 0)
                uss += fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
            totals[name] = {"pss": pss / 1024, "uss": uss / 1024}
        return totals

    def rss(self) -> dict[str, float]:
        return {name: sum(proc_status(p, "VmRSS") for p in self._members(pid)) / 1024
                for name, pid in self.pids.items()}

    def _threads(self) -> dict[str, dict[int, dict[int, float]]]:
        return {name: {member: thread_cpu_seconds(member) for member in self._members(pid)}
                for name, pid in self.pids.items()}

    def _thread_split(self, before: dict, after: dict) -> dict[str, dict[str, float]]:
        """CPU seconds per name in three parts: the main threads (daphne's event loop; a worker's Celery
        consumer), the busiest other thread of each process (a worker's streaming loop; in daphne, one request
        thread) and every other thread, added up over the name's processes."""
        split = {}
        for name, members in after.items():
            main = busiest = rest = 0.0
            for member, threads in members.items():
                was = before.get(name, {}).get(member, {})
                spent = {tid: cpu - was.get(tid, 0.0) for tid, cpu in threads.items()}
                main += spent.pop(member, 0.0)
                others = sorted(spent.values(), reverse=True)
                busiest += others[0] if others else 0.0
                rest += sum(others[1:])
            split[name] = {"main": main, "busiest other": busiest, "rest": rest}
        return split

    def __enter__(self) -> Sampler:
        self.peak = self.rss()
        self._threads0 = self._threads()
        self._cpu0, self._t0 = self._cpu(), time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        admin = None
        if self.database_url:
            import psycopg

            admin = psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True)
            name = self.database_url.rsplit("/", 1)[1]
        try:
            while not self._stop.wait(0.2):
                for proc, mb in self.rss().items():
                    self.peak[proc] = max(self.peak[proc], mb)
                if admin is not None:
                    count = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                          (name,)).fetchone()[0]
                    self.connections = max(self.connections, count)
        finally:
            if admin is not None:
                admin.close()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(2)
        wall = time.monotonic() - self._t0
        cpu1 = self._cpu()
        self.cpu_seconds = {name: cpu1[name] - self._cpu0[name] for name in self.pids}
        if self._marked is not None:
            self.cpu_since_mark = {name: cpu1[name] - self._marked[name] for name in self.pids}
        self.cpu_percent = {name: 100 * seconds / wall for name, seconds in self.cpu_seconds.items()}
        self.thread_seconds = self._thread_split(self._threads0, self._threads())


def smaps_rollup(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/smaps_rollup (empty if the process is gone)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                parts = line.split()
                if len(parts) == 3 and parts[0].endswith(":") and parts[2] == "kB":
                    fields[parts[0][:-1]] = int(parts[1])
    except OSError:
        pass
    return fields


def pg_counters(database_url: str) -> dict[str, int]:
    """This database's cumulative statistics. PostgreSQL 15 backends report them at most once a second and
    an idle backend only after ~10 s, so read them after the servers have been idle that long."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_returned,"
                           " tup_fetched FROM pg_stat_database WHERE datname = %s", (name,)).fetchone()
    keys = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_returned",
            "tup_fetched")
    return dict(zip(keys, row, strict=True))
