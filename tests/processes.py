"""What only the tests that start webox's real processes need: the rule that runs or skips them, and a
private Redis to break. The processes themselves and their clients are in ``testing``.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from django.conf import settings

from testing.processes import Process, free_port


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


class RedisServer:
    """A private ``redis-server`` on its own free port, without persistence: a restart loses every key,
    as a crashed Redis without AOF does. Only for tests that break Redis; the others share the main one."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.tmp_path = tmp_path
        self.process: Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.starts += 1
        self.process = Process(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp_path)], dict(os.environ), self.tmp_path / f"redis-{self.port}-{self.starts}.log")
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.process.handle.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGKILL: no save, no goodbye to the clients."""
        if self.process is not None:
            self.process.kill()

    def restart(self) -> None:
        self.stop()
        self.start()
