"""Start webox's real processes (daphne, Celery workers) for tests, against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test session uses (PostgreSQL only)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url(), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = log
        self.handle = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                       start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.handle.args[:4]} did not say {text!r}:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean shutdown, as when a machine dies."""
        if self.handle.poll() is None:
            os.killpg(self.handle.pid, signal.SIGKILL)
            self.handle.wait(10)

    def stop(self) -> None:
        if self.handle.poll() is None:
            os.killpg(self.handle.pid, signal.SIGTERM)
            try:
                self.handle.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_daphne(tmp_path: Path, **env: str) -> tuple[Process, int]:
    port = free_port()
    process = Process([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webox.asgi:application"],
                      child_env(**env), tmp_path / f"daphne-{port}.log")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if process.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{process.output()[-3000:]}") from None
            time.sleep(0.1)


def start_worker(tmp_path: Path, *, beat: bool = False, **env: str) -> Process:
    name = f"w{uuid.uuid4().hex[:6]}"
    args = [sys.executable, "-m", "celery", "-A", "webox", "worker", "-P", "threads", "-c", "50", "-n", f"{name}@%h",
            "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    if beat:
        args += ["-B", "--schedule", str(tmp_path / f"{name}-beat")]
    process = Process(args, child_env(**env), tmp_path / f"{name}.log")
    process.wait_for_output(" ready.")
    return process
