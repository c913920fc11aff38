"""The fault matrix on the real path: daphne, Celery workers, PostgreSQL, Redis and the fake provider.

Every case breaks one thing while a turn streams and checks the same four promises
(docs/reliability.md, "The fault matrix"):

- the healthy replies complete token for token (``expected_reply``), in the database and on the socket;
- the broken reply ends in a terminal state within a stated bound, with the text it had;
- nothing is generated twice: the fake provider saw one request per reply, or exactly the retries
  the policy allows before any text;
- the system serves a new turn afterwards.

Timeouts are shortened through the environment of the processes (``tests.processes.FAST``), so the matrix runs
in about two minutes. Runs when DATABASE_URL (PostgreSQL) and REDIS_URL are set, as in CI;
skipped on the embedded default unless WEBOX_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from chat.models import Message, ReplyStatus
from chat.services import conversation_create
from testing.client import ChatSocket
from testing.fake_provider import FakeProviderServer, expected_reply
from testing.processes import child_env, start_daphne, start_worker, stop_all
from tests.processes import (
    FAST,
    FIRST_TOKEN_TIMEOUT,
    MAX_RETRIES,
    ORPHAN_BOUND,
    RETRY_BUDGET,
    RedisServer,
    assert_complete,
    assert_serves_a_new_turn,
    ended,
    providers_create,
    real_services,
    requests_for,
    send_turn,
)

pytestmark = real_services()

# A provider fault ends its reply within this: the retries' budget plus one last attempt's
# first-token timeout (docs/reliability.md), plus the publish and the socket.
PROVIDER_FAULT_BOUND = RETRY_BUDGET + FIRST_TOKEN_TIMEOUT + 2.0

HEALTHY = "fake-echo;delay_ms=15;tokens=30"
WRONG_KEY = "sk-wrong-key-0123456789"  # the fake provider quotes it in its 401, as OpenAI does


# --- the processes ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake():
    server = FakeProviderServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory, fake):
    """One daphne and one Celery worker for every case that does not break a process."""
    tmp_path = tmp_path_factory.mktemp("matrix")
    with ThreadPoolExecutor(2) as pool:
        daphne = pool.submit(start_daphne, tmp_path, child_env(**FAST))
        worker = pool.submit(start_worker, tmp_path, child_env(**FAST), concurrency=20)
    started = [daphne.result()[0]] if daphne.exception() is None else []
    started += [worker.result()] if worker.exception() is None else []
    try:
        port = daphne.result()[1]  # raises if either did not start
        worker.result()
        yield port
    finally:
        stop_all(started)


@pytest.fixture
def processes(tmp_path):
    """Start processes through this (``await processes.daphne(...)``); all are stopped after the test."""

    class Started:
        def __init__(self):
            self.all = []

        async def daphne(self, **env):
            process, port = await asyncio.to_thread(start_daphne, tmp_path, child_env(**env))
            self.all.append(process)
            return port

        async def worker(self, *, beat: bool = False, **env):
            process = await asyncio.to_thread(start_worker, tmp_path, child_env(**env), beat=beat, concurrency=20)
            self.all.append(process)
            return process

        async def daphne_and_worker(self, **env):
            port, worker = await asyncio.gather(self.daphne(**env), self.worker(**env))
            return port, worker

    started = Started()
    yield started
    stop_all(started.all)


@pytest.fixture
def providers(fake):
    """gpt and claude answer well; the others are where faults are injected (one per wire format, one with a
    wrong key)."""
    providers_create(fake, {"gpt": "openai", "claude": "anthropic", "flaky": "openai", "flakyant": "anthropic",
                            "badkey": "openai"}, keys={"badkey": WRONG_KEY})


@pytest.fixture
def token(user):
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user)


# --- provider faults ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProviderFault:
    provider: str
    model: str
    status: str
    code: str
    length: int  # pieces the model would stream (its ``tokens=``)
    kept: int  # pieces the reply ends with
    # What the fake provider sees (at least, at most): 1, or retries before any text; how many retries
    # fit in the budget depends on how long each attempt took, so a cold or busy worker may fit one less.
    requests: tuple[int, int]

    def __str__(self) -> str:
        return self.model


PROVIDER_FAULTS = {
    # Retried after Retry-After (1 s) while the budget (4 s) and the retries (2) allow: at 0, 1 and 2 s (at 0 and
    # 1 s only if the attempts were very slow), then given up.
    "429 with Retry-After": ProviderFault("flakyant", "fake-echo;error=429;retry_after=1", "error", "rate_limited",
                                          20, 0, (2, 1 + MAX_RETRIES)),
    "500": ProviderFault("flaky", "fake-echo;error=500", "error", "upstream_error", 20, 0, (2, 1 + MAX_RETRIES)),
    "wrong key": ProviderFault("badkey", "fake-echo", "error", "auth", 20, 0, (1, 1)),
    "unknown model": ProviderFault("flakyant", "no-such-model", "error", "model_not_found", 20, 0, (1, 1)),
    "drop mid-stream": ProviderFault("flaky", "fake-echo;tokens=20;drop_after=3", "error", "connection_lost",
                                     20, 3, (1, 1)),
    # Times out at 3 s, retried once (3 s + backoff is inside the 4 s budget); a third would start after it.
    "hang before the first token": ProviderFault("flaky", "fake-echo;tokens=20;hang_before=1", "error", "timeout",
                                                 20, 0, (2, 2)),
    "hang after the first token": ProviderFault("flakyant", "fake-echo;tokens=20;hang_after=2", "error", "timeout",
                                                20, 2, (1, 1)),
    # A first token after 1 s, inside the 3 s first-token timeout: a slow reply, not a failure.
    "slow start": ProviderFault("flaky", "fake-echo;tokens=12;ttft_ms=1000", "complete", "", 12, 12, (1, 1)),
}


@pytest.mark.parametrize("fault", PROVIDER_FAULTS.values(), ids=PROVIDER_FAULTS.keys())
async def test_a_provider_fault_ends_its_reply_and_leaves_the_two_others_whole(
        fault, stack, fake, providers, token, conversation):
    async with ChatSocket(stack, conversation.pk, token) as sock:
        turn = await send_turn(stack, token, conversation.pk,
                               {"gpt": HEALTHY, "claude": HEALTHY, fault.provider: fault.model})
        faulty = turn.replies[fault.provider]
        # The bound counts from when the turn's replies started (a healthy one's first text): before that, a
        # busy machine's send, queue and worker take their own time, which is not the policy's.
        await sock.until(lambda log: faulty in log.ended or log.seqs[turn.replies["gpt"]], timeout=30)
        started_at = time.monotonic()
        await sock.until(ended([faulty]), timeout=PROVIDER_FAULT_BOUND + 5)
        took = time.monotonic() - started_at
        await sock.until(ended(turn.replies.values()))

    for name in ("gpt", "claude"):
        await assert_complete(turn, name, 30, sock, fake=fake)
    reply = await Message.objects.aget(pk=faulty)
    assert (reply.status, reply.error_code) == (fault.status, fault.code), reply.error_detail
    assert took <= PROVIDER_FAULT_BOUND, f"ended after {took:.1f} s"
    assert reply.content == "".join(expected_reply(turn.message, fault.length)[:fault.kept])
    assert sock.log.text[faulty] == reply.content
    assert sock.log.ended[faulty]["content"] == reply.content
    fewest, most = fault.requests
    asked = requests_for(fake, turn.models[fault.provider])
    assert fewest <= asked <= most
    # Every retry was announced to the socket once, from the worker through Redis, numbered.
    retries = [e for e in sock.log.events if e["type"] == "message.retrying" and e["message_id"] == faulty]
    assert [e["retry"] for e in retries] == list(range(1, asked)), retries
    assert WRONG_KEY not in reply.error_detail and WRONG_KEY not in repr(sock.log.events)
    await assert_serves_a_new_turn(stack, token, conversation.pk, fake)


# --- clients -------------------------------------------------------------------------------------------

async def test_a_client_reconnecting_mid_stream_gets_every_token_once(stack, fake, providers, token, conversation):
    # Long enough (4 s) that every reply still streams when the client comes back.
    long = "fake-echo;delay_ms=20;tokens=200"
    async with ChatSocket(stack, conversation.pk, token) as first:
        turn = await send_turn(stack, token, conversation.pk, {"gpt": long, "claude": long, "flaky": long})
        await first.until(lambda log: all(len(log.seqs[i]) >= 5 for i in turn.replies.values()))
    seen = {i: first.log.text[i] for i in turn.replies.values()}
    async with ChatSocket(stack, conversation.pk, token) as second:
        # The snapshot on connect lists the replies still active: all three.
        snapshot = {r["id"]: r for r in second.log.of_type("snapshot")[0]["replies"]}
        await second.until(ended(turn.replies.values()))

    assert set(snapshot) == set(turn.replies.values())
    for name in turn.replies:
        await assert_complete(turn, name, 200, second, fake=fake)
        reply_id = turn.replies[name]
        # The snapshot on reconnect holds at least what the first socket had, then deltas follow it gap-free.
        assert snapshot[reply_id]["content"].startswith(seen[reply_id])
        seqs = second.log.seqs[reply_id]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    await assert_serves_a_new_turn(stack, token, conversation.pk, fake)


def _raw_socket_that_never_reads(port: int, conversation_id: int, token: str) -> socket.socket:
    """A WebSocket handshake on a socket with a tiny receive buffer; after the 101, nothing is ever read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall((
        f"GET /api/chat/ws/{conversation_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: webox.bearer, {token}\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_client_that_never_reads_does_not_hold_up_the_others(stack, fake, providers, token, conversation):
    # Long words make the text large (about 60 kB per reply), more than the stalled socket's buffers hold.
    message = " ".join(f"{i:03d}" + "x" * 96 for i in range(50))
    long = "fake-echo;delay_ms=5;tokens=600"
    stalled = await asyncio.to_thread(_raw_socket_that_never_reads, stack, conversation.pk, token)
    try:
        async with ChatSocket(stack, conversation.pk, token) as reader:
            turn = await send_turn(stack, token, conversation.pk, {"gpt": long, "claude": long, "flaky": long},
                                   message=message)
            await reader.until(ended(turn.replies.values()), timeout=30)
            took = time.monotonic() - turn.sent_at
    finally:
        stalled.close()
    for name in turn.replies:
        await assert_complete(turn, name, 600, reader, fake=fake)
    # 600 pieces 5 ms apart take 3 s; the stalled reader must not slow the stream down beyond a margin.
    assert took < 15, f"took {took:.1f} s"
    await assert_serves_a_new_turn(stack, token, conversation.pk, fake)


# --- processes dying -------------------------------------------------------------------------------------

async def test_a_worker_killed_with_sigkill_ends_its_reply_as_orphaned_with_its_text(
        processes, fake, providers, token, conversation):
    # A queue of this test's own, so the module's worker never takes these tasks.
    env = {**FAST, "WEBOX_CELERY_QUEUE": f"{settings.WEBOX_REDIS_PREFIX}-kill"}
    port, doomed_worker = await processes.daphne_and_worker(**env)
    async with ChatSocket(port, conversation.pk, token) as sock:
        turn = await send_turn(port, token, conversation.pk,
                               {"gpt": HEALTHY, "claude": HEALTHY, "flaky": "fake-echo;tokens=4000;delay_ms=25"})
        doomed = turn.replies["flaky"]
        healthy = [turn.replies["gpt"], turn.replies["claude"]]
        await sock.until(lambda log: ended(healthy)(log) and len(log.seqs[doomed]) >= 3)
        # The sweeper starts before the kill: it takes no task of this turn (acked on receipt by the first).
        await processes.worker(beat=True, **env)
        seen_before_kill = sock.log.text[doomed]
        doomed_worker.kill()
        killed_at = time.monotonic()
        await sock.until(ended([doomed]), timeout=ORPHAN_BOUND + 10)
        took = time.monotonic() - killed_at

    for name in ("gpt", "claude"):
        await assert_complete(turn, name, 30, sock, fake=fake)
    reply = await Message.objects.aget(pk=doomed)
    assert (reply.status, reply.error_code) == (ReplyStatus.ERROR, "orphaned")
    assert seen_before_kill and reply.content.startswith(seen_before_kill)
    assert "".join(expected_reply(turn.message, 4000)).startswith(reply.content)
    assert sock.log.ended[doomed]["content"] == reply.content
    assert took <= ORPHAN_BOUND, f"ended {took:.1f} s after the kill"
    assert requests_for(fake, turn.models["flaky"]) == 1
    await assert_serves_a_new_turn(port, token, conversation.pk, fake)


async def test_a_worker_stopped_with_sigterm_finishes_its_streams_first(processes, fake, providers, token,
                                                                        conversation):
    env = {**FAST, "WEBOX_CELERY_QUEUE": f"{settings.WEBOX_REDIS_PREFIX}-term"}
    port, worker = await processes.daphne_and_worker(**env)
    long = "fake-echo;tokens=80;delay_ms=25"
    async with ChatSocket(port, conversation.pk, token) as sock:
        turn = await send_turn(port, token, conversation.pk, {"gpt": HEALTHY, "claude": HEALTHY, "flaky": long})
        await sock.until(lambda log: len(log.seqs[turn.replies["flaky"]]) >= 3)
        os.killpg(worker.handle.pid, signal.SIGTERM)  # warm shutdown: finish the running tasks, take no more
        # Its successor starts meanwhile, as in a rolling restart.
        successor = asyncio.create_task(processes.worker(**env))
        await sock.until(ended(turn.replies.values()), timeout=15)
        # 80 pieces 25 ms apart: the stream needs 2 s; the worker exits once it is done.
        exit_code = await asyncio.to_thread(worker.handle.wait, 15)
        await successor

    assert exit_code == 0, worker.output()[-3000:]
    for name, tokens in (("gpt", 30), ("claude", 30), ("flaky", 80)):
        await assert_complete(turn, name, tokens, sock, fake=fake)
    await assert_serves_a_new_turn(port, token, conversation.pk, fake)


async def test_a_redis_restart_mid_turn_loses_no_text(tmp_path, processes, fake, providers, token, conversation):
    redis = RedisServer(tmp_path).start()
    try:
        env = {**FAST, "REDIS_URL": redis.url}
        port, _ = await processes.daphne_and_worker(**env)
        long = "fake-echo;tokens=120;delay_ms=30"
        async with ChatSocket(port, conversation.pk, token) as sock:
            turn = await send_turn(port, token, conversation.pk, {"gpt": long, "claude": long, "flaky": long})
            await sock.until(lambda log: all(len(log.seqs[i]) >= 5 for i in turn.replies.values()))
            # Every key (stream text, seq, queue bindings, subscriptions) is gone; the streams go on.
            await asyncio.to_thread(redis.restart)
            restarted_at = time.monotonic()
            await sock.until(ended(turn.replies.values()), timeout=30)
            took = time.monotonic() - restarted_at

        for name in turn.replies:
            await assert_complete(turn, name, 120, sock, fake=fake)
        # 120 pieces 30 ms apart take 3.6 s in all; the restart must not stall them for long.
        assert took < 10, f"ended {took:.1f} s after the restart"
        await assert_serves_a_new_turn(port, token, conversation.pk, fake, timeout=30)
    finally:
        stop_all(processes.all)
        redis.stop()


async def test_the_channel_layer_as_configured_publishes_again_right_after_a_redis_restart(tmp_path):
    """Each pooled connection that the restart closed would fail its next publish (one lost event, e.g. a
    reply's end) without the retry configured in CHANNEL_LAYERS."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    redis = RedisServer(tmp_path).start()
    layer = RedisPubSubChannelLayer(hosts=[{**config["hosts"][0], "address": redis.url}],
                                    prefix=f"{config['prefix']}-restart")
    try:
        await layer.group_send("conversation-1", {"type": "chat.events", "events": []})
        await asyncio.to_thread(redis.restart)
        await layer.group_send("conversation-1", {"type": "chat.events", "events": []})
    finally:
        await layer.flush()
        redis.stop()


def test_a_send_while_the_channel_layer_refuses_is_stored_and_its_replies_still_start(
        settings, monkeypatch, user, providers, conversation, caplog):
    """The events after a commit are best effort (a socket repairs by resync); the write and the start of its
    replies are not: a layer that refuses must neither turn the send into a 500 nor keep its replies pending."""
    from rest_framework.test import APIClient

    from chat.streaming import runners

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}}  # nothing listens there
    started = []
    monkeypatch.setattr(runners, "start_replies", started.append)
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/chat/send", {"conversation_id": conversation.pk, "message": "anyone?",
                                              "selected_providers": ["gpt", "claude"]}, format="json")
    assert response.status_code == 202, response.content
    reply_ids = [r["id"] for r in response.json()["replies"]]
    assert started == [reply_ids]
    assert Message.objects.filter(pk__in=reply_ids, status=ReplyStatus.PENDING).count() == 2
