"""What only the tests that start webox's real processes need: the rule that runs or skips them, a
private Redis to break, the short provider policy they run with, the providers they create on the fake
server, and the turns they send and check (the fault matrix's four promises, docs/reliability.md). The
processes themselves and their clients are in ``testing``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from testing.client import TERMINAL, ChatSocket, post
from testing.fake_provider import FakeProviderServer, expected_reply
from testing.processes import Process, free_port

# The policy the processes run with (their environment): short, so that every timeout fires within seconds.
# Headroom for a busy CI machine: a slow start (1 s) must stay well inside the first-token timeout.
FIRST_TOKEN_TIMEOUT = 3.0
IDLE_TIMEOUT = 1.5
RETRY_BUDGET = 4.0
MAX_RETRIES = 2
STALE_SECONDS = 4
SWEEP_INTERVAL = 1.0
FAST = {
    "WEBOX_PROVIDER_CONNECT_TIMEOUT": "2",
    "WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT": str(FIRST_TOKEN_TIMEOUT),
    "WEBOX_PROVIDER_IDLE_TIMEOUT": str(IDLE_TIMEOUT),
    "WEBOX_PROVIDER_RETRY_BUDGET": str(RETRY_BUDGET),
    "WEBOX_PROVIDER_MAX_RETRIES": str(MAX_RETRIES),
    "WEBOX_PROVIDER_BACKOFF_BASE": "0.05",
    # Heartbeats every 2 s (10 checkpoint intervals), well inside the 4 s staleness of the sweep.
    "WEBOX_CHECKPOINT_INTERVAL_MS": "200",
    "WEBOX_REPLY_STALE_SECONDS": str(STALE_SECONDS),
    "WEBOX_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL),
}
# A dead worker's reply is ended by the sweep within staleness + one sweep interval after its last
# heartbeat (itself at most 2 s old), plus the sweep's own write and publish.
ORPHAN_BOUND = STALE_SECONDS + SWEEP_INTERVAL + 2.0 + 3.0


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


def providers_create(fake: FakeProviderServer, kinds: dict[str, str], keys: dict[str, str] | None = None) -> None:
    """A provider per name, of its kind ("openai" or "anthropic"), on ``fake``, each with model ``fake-echo`` and
    the fake's key unless ``keys`` names another."""
    for name, kind in kinds.items():
        provider_create(name=name, kind=kind, api_key=(keys or {}).get(name, fake.api_key), model_names=["fake-echo"],
                        default_model="fake-echo", base_url=fake.anthropic_url if kind == "anthropic" else fake.url)


def unique(model: str) -> str:
    """The same behaviour under a name of its own, so the provider's requests for it can be counted."""
    return f"{model};id={uuid.uuid4().hex[:10]}"


def ended(ids):
    return lambda log: all(i in log.ended for i in ids)


def requests_for(fake: FakeProviderServer, model: str) -> int:
    return sum(1 for r in fake.chat_requests() if (r["json"] or {}).get("model") == model)


@dataclass
class Turn:
    message: str
    models: dict[str, str]  # provider name -> unique model name
    replies: dict[str, int]  # provider name -> reply id
    sent_at: float


async def send_turn(port: int, token: str, conversation_id: int, models: dict[str, str], message: str = "") -> Turn:
    """A turn sent through the REST API of the server on ``port``, each provider's model made ``unique``."""
    message = message or f"turn {uuid.uuid4().hex[:8]} of the matrix"
    models = {name: unique(model) for name, model in models.items()}
    sent_at = time.monotonic()
    body = await asyncio.to_thread(post, port, "/api/chat/send", token, {
        "conversation_id": conversation_id, "message": message, "selected_providers": list(models),
        "selected_models": models})
    return Turn(message, models, {r["provider"]: r["id"] for r in body["replies"]}, sent_at)


async def assert_complete(turn: Turn, name: str, tokens: int | None, *sockets: ChatSocket,
                          fake: FakeProviderServer) -> None:
    """The reply of ``name`` completed with exactly the fake provider's text, once, on every socket."""
    reply = await Message.objects.aget(pk=turn.replies[name])
    assert reply.status == ReplyStatus.COMPLETE, (name, reply.error_code, reply.error_detail)
    assert reply.content == "".join(expected_reply(turn.message, tokens)), name
    for sock in sockets:
        assert sock.log.text[reply.pk] == reply.content, name
        assert sock.log.ended[reply.pk]["type"] == "message.completed"
        assert len([e for e in sock.log.events if e["type"] in TERMINAL and e["message_id"] == reply.pk]) == 1
    assert requests_for(fake, turn.models[name]) == 1, name


async def assert_serves_a_new_turn(port: int, token: str, conversation_id: int, fake: FakeProviderServer,
                                   timeout: float = 30) -> None:
    async with ChatSocket(port, conversation_id, token) as sock:
        turn = await send_turn(port, token, conversation_id, {"gpt": "fake-echo", "claude": "fake-echo"},
                               message="are you still there?")
        await sock.until(ended(turn.replies.values()), timeout=timeout)
    for name in turn.replies:
        await assert_complete(turn, name, None, sock, fake=fake)
