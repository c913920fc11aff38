"""Start webox's real processes (daphne, Celery workers, a private Redis) for tests, against the test database.

Also the client side of the real path: ``post`` (the REST API over HTTP) and ``ChatSocket`` (a
conversation's WebSocket through daphne, every event kept in a ``StreamLog``). Loopback only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def real_services() -> list:
    """The ``pytestmark`` of tests that start webox's real processes against PostgreSQL and Redis.

    They run when DATABASE_URL (PostgreSQL) and REDIS_URL are set, as in CI, and are skipped on
    the embedded default unless WEBOX_REQUIRE_SERVICES=1, which turns the skip into a failure.
    """
    ready = bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if not ready and os.environ.get("WEBOX_REQUIRE_SERVICES") == "1":
        raise RuntimeError("WEBOX_REQUIRE_SERVICES=1 but DATABASE_URL (PostgreSQL) and REDIS_URL are not both set")
    return [pytest.mark.django_db(transaction=True),
            pytest.mark.skipif(not ready, reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL")]


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

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
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
    wait_for_port(port, process)
    return process, port


def wait_for_port(port: int, process: Process) -> None:
    """Until ``process`` listens on ``port`` (it failing or 60 s passing is an error)."""
    # Generous: on a shared CI machine, starting Django and daphne can take many seconds.
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{process.handle.args[:4]} did not start:\n{process.output()[-3000:]}") from None
            time.sleep(0.1)


def start_worker(tmp_path: Path, *, beat: bool = False, concurrency: int = 50, **env: str) -> Process:
    name = f"w{uuid.uuid4().hex[:6]}"
    args = [sys.executable, "-m", "celery", "-A", "webox", "worker", "-P", "threads", "-c", str(concurrency),
            "-n", f"{name}@%h",
            "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    if beat:
        args += ["-B", "--schedule", str(tmp_path / f"{name}-beat")]
    process = Process(args, child_env(**env), tmp_path / f"{name}.log")
    process.wait_for_output(" ready.")
    return process


class RedisServer:
    """A private ``redis-server`` on its own free port, without persistence: a restart loses every key,
    as a crashed Redis without AOF does. Only for tests that break Redis; the others share the main one."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.tmp_path = tmp_path
        self.handle: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.starts += 1
        log = (self.tmp_path / f"redis-{self.port}-{self.starts}.log").open("wb")
        self.handle = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp_path)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGKILL: no save, no goodbye to the clients."""
        if self.handle is not None and self.handle.poll() is None:
            self.handle.kill()
            self.handle.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


def post(port: int, path: str, token: str, body: dict | None = None, *, timeout: float = 10) -> dict:
    """POST JSON to daphne as the token's user; the decoded JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body or {}).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class ChatSocket:
    """A conversation's socket through daphne, authenticated by bearer subprotocol; ``log`` holds what arrived."""

    def __init__(self, port: int, conversation_id: int, token: str):
        from tests.streaming.conftest import StreamLog

        self.url = f"ws://127.0.0.1:{port}/api/chat/ws/{conversation_id}"
        self.origin = f"http://127.0.0.1:{port}"
        self.conversation_id = conversation_id
        self.token = token
        self.log = StreamLog()

    async def __aenter__(self) -> ChatSocket:
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["webox.bearer", self.token], origin=self.origin,
                                           proxy=None, open_timeout=10)
        await self.until(lambda log: log.of_type("snapshot"))
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def until(self, done, timeout: float = 30):
        async with asyncio.timeout(timeout):
            while not done(self.log):
                self.log.add(json.loads(await self.ws.recv()))
        return self.log
