"""webox's own processes, started as a deployment starts them: ``daphne … webox.asgi:application`` and
``celery -A webox worker``, with their settings in the environment. Loopback only.

Every process runs in its own session, so its own process group (a worker's pool children go with
it), writes its output to a log file, and is stopped with its whole group. Only ``database_url`` and
``child_env`` read Django's settings; the rest works before (or without) ``django.setup()``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Generous: on a shared CI machine, starting Django and daphne can take many seconds.
START_TIMEOUT = 60.0
# What a Celery worker logs once it consumes its queues.
WORKER_READY = " ready."


def free_port() -> int:
    """A loopback port free a moment ago (bound, then released): nothing listens on it yet."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database Django uses now (PostgreSQL only): the test database in a test."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child on the same database (``database_url``), plus ``extra``."""
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url(), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class Process:
    """One process in its own process group, its output (stdout and stderr) in ``log``.

    Also a context manager that stops it on exit.
    """

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = Path(log)
        with self.log.open("wb") as out:
            self.handle = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        self.pid = self.handle.pid  # also its process group's id

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.handle.poll() is not None:
            raise RuntimeError(f"{self.handle.args[:4]} exited ({self.handle.returncode}):\n{self.output()[-3000:]}")

    def wait_for_output(self, text: str, timeout: float = START_TIMEOUT, *, times: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count(text) < times:
            if self.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.handle.args[:4]} did not say {text!r}:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown, as when a machine dies."""
        if self.handle.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.handle.wait(10)

    def stop(self) -> None:
        """SIGTERM the group (a worker's warm shutdown), SIGKILL whatever is left after 10 s."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.handle.wait(wait)
            except subprocess.TimeoutExpired:
                continue
            if not self._group_alive():
                return
            time.sleep(0.2)  # pool children exit just after their parent

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True


def stop_all(processes: list[Process]) -> None:
    """Stop every process at once: each may take its warm-shutdown time, and they add up otherwise."""
    with ThreadPoolExecutor(max(1, len(processes))) as pool:
        list(pool.map(lambda process: process.stop(), processes))


def wait_for_port(port: int, process: Process, timeout: float = START_TIMEOUT) -> None:
    """Until ``process`` listens on ``port`` (it exiting or ``timeout`` passing is an error)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{process.handle.args[:4]} did not start:\n{process.output()[-3000:]}") from None
            time.sleep(0.1)


def started(process: Process, *, port: int | None = None, says: str | None = None) -> Process:
    """``process`` once it listens on ``port`` and has said ``says``; stopped again if it does not, so that
    nothing started here outlives its caller."""
    try:
        if port is not None:
            wait_for_port(port, process)
        if says is not None:
            process.wait_for_output(says)
    except RuntimeError:
        process.stop()
        raise
    return process


def start_daphne(log_dir: Path | str, env: dict[str, str]) -> tuple[Process, int]:
    """daphne on a free loopback port, once it listens; stopped again if it does not."""
    port = free_port()
    process = Process([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webox.asgi:application"],
                      env, Path(log_dir) / f"daphne-{port}.log")
    return started(process, port=port), port


def start_worker(log_dir: Path | str, env: dict[str, str], *, concurrency: int = 50, pool: str = "threads",
                 beat: bool = False) -> Process:
    """A Celery worker as the README's production shape runs it (``--loglevel INFO``: a log line when a task
    is received and one when it ends), once it is ready; stopped again if it is not.

    It consumes the queue its environment names (``WEBOX_CELERY_QUEUE``); ``beat`` runs the
    scheduler in it too.
    """
    name = f"w{uuid.uuid4().hex[:6]}"
    args = [sys.executable, "-m", "celery", "-A", "webox", "worker", "-P", pool, "-c", str(concurrency),
            "-n", f"{name}@%h", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    if beat:
        args += ["-B", "--schedule", str(Path(log_dir) / f"{name}-beat")]
    return started(Process(args, env, Path(log_dir) / f"{name}.log"), says=WORKER_READY)


def start_workers(log_dir: Path | str, env: dict[str, str], *, processes: int, concurrency: int = 50) -> Process:
    """``processes`` Celery workers forked from one parent as the README's production command starts them
    (``python -m webox.workers``; names ``w<id><n>@%h``), once every one is ready; stopped again if not."""
    name = f"w{uuid.uuid4().hex[:6]}"
    args = [sys.executable, "-m", "webox.workers", str(processes), "-P", "threads", "-c", str(concurrency),
            "-n", f"{name}@%h", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    process = Process(args, env, Path(log_dir) / f"{name}.log")
    try:
        process.wait_for_output(WORKER_READY, times=processes)
    except RuntimeError:
        process.stop()
        raise
    return process


def start_s3_server(log_dir: Path | str) -> tuple[Process, str]:
    """An S3-compatible server (moto's server mode) on a free loopback port; its endpoint URL.

    Any access key is accepted; buckets live in its memory and go with it.
    """
    port = free_port()
    process = Process([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                      dict(os.environ), Path(log_dir) / f"moto-{port}.log")
    return started(process, port=port), f"http://127.0.0.1:{port}"
