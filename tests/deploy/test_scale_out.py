"""The scaled-out shape, with real processes: Debian's nginx with deploy/nginx/webox.conf in front of two
daphne servers, two Celery workers and beat, all started with deploy/Procfile's commands, sharing
PostgreSQL and a private Redis (restarted by one case). Every client goes through nginx unless a case
is about one instance.

The cases run in order on one set of processes (starting them is most of the time): the shape is
proven by what each case leaves for the next (a killed worker, a successor, a stopped instance).
Runs when DATABASE_URL (PostgreSQL) and REDIS_URL are set, as in CI; skipped on the embedded default
(one process, nothing to scale) unless WEBOX_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import http.client
import json
import os
import re
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from chat.models import Message, ReplyStatus
from chat.services import conversation_create
from testing.client import ChatSocket
from testing.deploy import Nginx, nginx_binary, procfile_args, procfile_process, start_web
from testing.fake_provider import FakeProviderServer, expected_reply
from testing.processes import WORKER_READY, Process, child_env, started, stop_all
from tests.processes import (
    FAST,
    ORPHAN_BOUND,
    RedisServer,
    assert_complete,
    ended,
    providers_create,
    real_services,
    requests_for,
    send_turn,
)

pytestmark = real_services()

QUEUE = f"{settings.WEBOX_REDIS_PREFIX}-scale"
# "extra"'s replies have a queue of their own (WEBOX_CELERY_PROVIDER_QUEUES), which only w1 consumes: the
# worker killed below surely runs one reply that is still streaming when it dies.
EXTRA_QUEUE = f"{QUEUE}-extra"
LOGIN_LIMIT = 3
LONG = "fake-echo;tokens=100;delay_ms=25"  # 2.5 s: still streaming when a process is stopped
LONGER = "fake-echo;tokens=300;delay_ms=25"  # 7.5 s: every reply has started, none ended, on a busy machine
PROVIDERS = ("gpt", "claude", "local", "extra")
# The fault matrix's bound for a dead worker's reply (staleness + a sweep + the last heartbeat's age + margin),
# with room for this shape's eight processes sharing a 2-core machine with the test itself: about 10 s on a
# quiet machine, 16-20 s measured while other suites ran beside it. Without the sweep it would be never.
KILLED_WORKER_BOUND = ORPHAN_BOUND + 15


@dataclass
class Stack:
    tmp: Path
    redis: RedisServer
    env: dict[str, str]
    nginx: Nginx | None = None
    webs: dict[str, tuple[Process, int]] = field(default_factory=dict)
    workers: dict[str, Process] = field(default_factory=dict)
    others: list[Process] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.nginx.port

    def start_worker(self, name: str, *queues: str) -> Process:
        """The Procfile's worker, with a node name and (as the systemd unit's WEBOX_WORKER_ARGS may) -Q.

        One process rather than the Procfile's one per core (``auto``): the faults below kill a worker
        and count on its replies alone being cut."""
        extra = ["-Q", ",".join(queues)] if queues else []
        args = ["1" if arg == "auto" else arg for arg in procfile_args("worker", self.env)]
        process = started(Process([*args, "-n", f"{name}@%h", *extra], self.env, self.tmp / f"{name}.log"),
                          says=WORKER_READY)
        self.workers[name] = process
        return process

    def all(self) -> list[Process]:
        return [p for p, _ in self.webs.values()] + list(self.workers.values()) + self.others + (
            [self.nginx.process] if self.nginx and hasattr(self.nginx, "process") else [])


def received(worker: Process, since: int = 0) -> int:
    """Replies ``worker`` took since its log had ``since`` characters."""
    return len(re.findall(r"Task chat\.tasks\.generate_reply\[[\w-]+\] received", worker.output()[since:]))


@pytest.fixture(scope="module")
def fake():
    server = FakeProviderServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    if not nginx_binary():
        if os.environ.get("WEBOX_REQUIRE_SERVICES") == "1":
            pytest.fail("nginx is missing: scripts/ensure-nginx (run by `make test`) installs it")
        pytest.skip("nginx is not installed (scripts/ensure-nginx installs it)")
    tmp = tmp_path_factory.mktemp("scale")
    redis = RedisServer(tmp).start()
    env = child_env(**FAST, REDIS_URL=redis.url, WEBOX_CELERY_QUEUE=QUEUE, WEBOX_CELERY_CONCURRENCY="20",
                    WEBOX_CELERY_PROVIDER_QUEUES=f"extra={EXTRA_QUEUE}",
                    WEBOX_TRUSTED_PROXIES="127.0.0.1", WEBOX_LOGIN_RATE_IP=f"{LOGIN_LIMIT}/300")
    stack = Stack(tmp, redis, env)
    static = tmp / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.0123abcd.css").write_text("body { color: black; }\n" * 50)
    (static / "css" / "site.0123abcd.css.gz").write_bytes(gzip.compress(b"body { color: black; }\n" * 50))
    try:
        with ThreadPoolExecutor(5) as pool:
            webs = [pool.submit(start_web, tmp, env) for _ in range(2)]
            workers = [pool.submit(stack.start_worker, "w1", QUEUE, EXTRA_QUEUE),
                       pool.submit(stack.start_worker, "w2", QUEUE)]
            beat = procfile_process("beat", env, tmp / "beat.log", "--schedule", str(tmp / "beat-schedule"))
            stack.others.append(beat)
            # Every process that started is in ``stack`` (and stopped below) before any failure is raised.
            stack.webs.update((name, web.result()) for name, web in zip("AB", webs, strict=True)
                              if web.exception() is None)
            for future in (*webs, *workers):
                future.result()
        beat.wait_for_output("beat: Starting")
        stack.nginx = Nginx(tmp / "nginx", [port for _, port in stack.webs.values()], static).start()
        yield stack
    finally:
        stop_all(stack.all())
        redis.stop()


@pytest.fixture
def providers(fake):
    providers_create(fake, {name: "anthropic" if name == "claude" else "openai" for name in PROVIDERS})


@pytest.fixture
def token(user):
    return str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user)


@pytest.fixture
def other_conversation(user):
    """For a turn sent while another streams: the fake provider echoes the conversation so far."""
    return conversation_create(owner=user)


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def log_in_from(address: str, port: int, forwarded_for: str) -> int:
    """A wrong-password token request from the loopback ``address``, claiming to be ``forwarded_for``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(address, 0))
    connection.request("POST", "/api/auth/token", body=json.dumps({"username": "alice", "password": "wrong"}),
                       headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
    status = connection.getresponse().status
    connection.close()
    return status


def test_health_static_files_and_the_api_answer_through_nginx(stack, token):
    assert get(stack.port, "/healthz/ready").status == 200
    health = get(stack.port, "/healthz")
    assert health.status == 200 and json.loads(health.body)["redis"] == "ok"
    css = get(stack.port, "/static/css/site.0123abcd.css", **{"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.getheader("Content-Encoding") == "gzip"  # the file compressed beforehand, sent as it is
    assert css.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    request = urllib.request.Request(f"http://127.0.0.1:{stack.port}/api/auth/me",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["username"] == "alice"


def test_per_address_limits_count_the_address_nginx_saw_not_the_one_claimed(stack, user):
    # Loopback has many addresses: each "client" is one, nginx appends it to X-Forwarded-For, webox reads
    # the header from the right past its trusted proxy (nginx, 127.0.0.1). Claiming another address is no use.
    statuses = [log_in_from("127.0.0.2", stack.port, f"198.51.100.{i}") for i in range(LOGIN_LIMIT + 1)]
    assert statuses == [401] * LOGIN_LIMIT + [429]
    assert log_in_from("127.0.0.3", stack.port, "127.0.0.2") == 401  # another client: its own count


async def test_a_turn_sent_through_one_instance_streams_token_for_token_on_the_other_and_spreads_over_the_workers(
        stack, fake, providers, token, conversation, other_conversation):
    (_, port_a), (_, port_b) = stack.webs["A"], stack.webs["B"]
    offsets = {name: len(worker.output()) for name, worker in stack.workers.items()}
    models = {name: "fake-echo;tokens=30;delay_ms=10" for name in PROVIDERS}
    async with ChatSocket(port_a, conversation.pk, token) as on_a, \
            ChatSocket(stack.port, conversation.pk, token) as through_nginx, \
            ChatSocket(stack.port, other_conversation.pk, token) as other:
        turn = await send_turn(port_b, token, conversation.pk, models)
        other_turn = await send_turn(stack.port, token, other_conversation.pk, models)
        await on_a.until(ended(turn.replies.values()))
        await through_nginx.until(ended(turn.replies.values()))
        await other.until(ended(other_turn.replies.values()))
    for name in PROVIDERS:
        await assert_complete(turn, name, 30, on_a, through_nginx, fake=fake)
        await assert_complete(other_turn, name, 30, other, fake=fake)
        reply_id = turn.replies[name]
        assert on_a.log.seqs[reply_id] == list(range(1, len(on_a.log.seqs[reply_id]) + 1))  # every delta, in order
    taken = {name: received(worker, offsets[name]) for name, worker in stack.workers.items()}
    assert sum(taken.values()) == 2 * len(PROVIDERS) and all(taken.values()), taken

    # A task delivered again (a redelivery after the visibility timeout, a duplicate) finds its reply claimed
    # and does nothing: the provider is not asked twice and the stored reply stays as it was.
    reply_id = turn.replies["gpt"]
    before = await Message.objects.aget(pk=reply_id)
    broker = Celery(broker=stack.redis.url, set_as_current=False)
    broker.conf.broker_transport_options = {"global_keyprefix": f"{settings.WEBOX_REDIS_PREFIX}:"}  # as the processes
    task = broker.send_task("chat.tasks.generate_reply", args=[reply_id], queue=QUEUE)
    deadline = time.monotonic() + 10
    while not any(f"[{task.id}] succeeded" in worker.output() for worker in stack.workers.values()):
        assert time.monotonic() < deadline, "the duplicate task was not run"
        await asyncio.sleep(0.1)
    after = await Message.objects.aget(pk=reply_id)
    assert (after.status, after.content, after.seq) == (before.status, before.content, before.seq)
    assert requests_for(fake, turn.models["gpt"]) == 1


async def end_times(sock: ChatSocket, reply_ids, timeout: float) -> dict[int, float]:
    """When each of ``reply_ids`` ended on ``sock`` (time.monotonic)."""
    reply_ids, times = set(reply_ids), {}
    deadline = time.monotonic() + timeout
    while len(times) < len(reply_ids):
        await sock.until(lambda log: len(set(log.ended) & reply_ids) > len(times), timeout=deadline - time.monotonic())
        times.update((i, time.monotonic()) for i in set(sock.log.ended) & reply_ids if i not in times)
    return times


async def test_worker_faults_end_only_their_own_replies_and_a_new_worker_takes_the_next(
        stack, fake, providers, token, conversation, other_conversation):
    doomed, survivor = stack.workers["w1"], stack.workers["w2"]
    offsets = {worker.pid: len(worker.output()) for worker in (doomed, survivor)}
    async with ChatSocket(stack.port, conversation.pk, token) as sock:
        # SIGKILL mid-turn: the dead worker's replies end as errors with their text; the other's complete.
        first = await send_turn(stack.port, token, conversation.pk, {name: LONGER for name in PROVIDERS})
        # Every reply streaming (extra's surely on w1): what the kill cuts has text to keep, even when the
        # machine is so busy that a reply w1 took had not had its first token yet.
        await sock.until(lambda log: all(log.seqs[i] for i in first.replies.values()))
        doomed.kill()
        killed_at = time.monotonic()
        # A worker started mid-load (a replacement) while the turn still streams.
        successor = await asyncio.to_thread(stack.start_worker, "w3")
        ended_at = await end_times(sock, first.replies.values(), timeout=KILLED_WORKER_BOUND + 10)

        # SIGTERM (a rolling restart): the worker's streams run to their end, it takes no new reply, exits 0.
        survivor_offset = len(survivor.output())
        first_on_survivor = received(survivor, offsets[survivor.pid])
        successor_offset = len(successor.output())
        second = await send_turn(stack.port, token, conversation.pk, {name: LONG for name in PROVIDERS})
        await sock.until(lambda log: all(len(log.seqs[i]) >= 3 for i in second.replies.values()))
        os.killpg(survivor.pid, signal.SIGTERM)
        async with ChatSocket(stack.port, other_conversation.pk, token) as other:
            third = await send_turn(stack.port, token, other_conversation.pk,
                                    {name: "fake-echo;tokens=10" for name in PROVIDERS})
            await other.until(ended(third.replies.values()), timeout=20)
        await sock.until(ended(second.replies.values()), timeout=20)
        exit_code = await asyncio.to_thread(survivor.handle.wait, 15)

    orphaned = [name for name in PROVIDERS
                 if (await Message.objects.aget(pk=first.replies[name])).status == ReplyStatus.ERROR]
    # Only the killed worker's replies end (those it had not finished by the kill: surely "extra"'s), and
    # every reply of the other worker completes.
    assert "extra" in orphaned
    assert len(orphaned) <= received(doomed, offsets[doomed.pid])
    assert len(PROVIDERS) - len(orphaned) >= first_on_survivor
    took = max(ended_at[first.replies[name]] for name in orphaned) - killed_at
    assert took <= KILLED_WORKER_BOUND, f"ended {took:.1f} s after the kill"
    for name in PROVIDERS:
        reply = await Message.objects.aget(pk=first.replies[name])
        full = "".join(expected_reply(first.message, 300))
        if name in orphaned:
            assert reply.error_code == "orphaned" and reply.content and full.startswith(reply.content)
            assert sock.log.text[reply.pk] == reply.content == sock.log.ended[reply.pk]["content"]
            assert requests_for(fake, first.models[name]) == 1
        else:
            await assert_complete(first, name, 300, sock, fake=fake)
    assert exit_code == 0
    for name in PROVIDERS:  # finished by whichever worker had them, each asked once
        # A column whose first reply ended without an answer has two questions in a row in its thread;
        # the Anthropic format sends them as one user message (chat/providers/anthropic_messages.py).
        asked = second
        if name == "claude" and name in orphaned:
            asked = dataclasses.replace(second, message=f"{first.message}\n\n{second.message}")
        await assert_complete(asked, name, 100, sock, fake=fake)
        await assert_complete(third, name, 10, other, fake=fake)
    # The worker stopped took none of the turn sent after its SIGTERM; the successor took them all.
    assert received(survivor, survivor_offset) + received(successor, successor_offset) == 2 * len(PROVIDERS)
    assert received(successor, successor_offset) >= len(PROVIDERS)


async def test_a_redis_restart_mid_turn_loses_no_stored_text(stack, fake, providers, token, conversation):
    async with ChatSocket(stack.port, conversation.pk, token) as sock:
        turn = await send_turn(stack.port, token, conversation.pk, {name: LONG for name in PROVIDERS})
        await sock.until(lambda log: all(len(log.seqs[i]) >= 5 for i in turn.replies.values()))
        await asyncio.to_thread(stack.redis.restart)
        await sock.until(ended(turn.replies.values()), timeout=30)
    for name in PROVIDERS:
        await assert_complete(turn, name, 100, sock, fake=fake)


async def follow(port: int, conversation_id: int, token: str, reply_ids, timeout: float = 30):
    """A browser tab: reads its socket until the replies end, reconnecting (through nginx) when it is closed.
    Returns the last socket's log and how many times it reconnected."""
    reconnects = 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with ChatSocket(port, conversation_id, token) as sock:
                await sock.until(ended(reply_ids), timeout=deadline - time.monotonic())
                return sock.log, reconnects
        except (ConnectionClosed, InvalidHandshake, OSError):  # closed by the stopping instance, or refused by it
            reconnects += 1
            await asyncio.sleep(0.2)


async def test_stopping_an_instance_moves_its_clients_through_nginx_to_the_other_without_loss(
        stack, fake, providers, token, conversation):
    # Through nginx's round robin, the tabs are spread over both instances; A then stops.
    async with ChatSocket(stack.port, conversation.pk, token):
        pass  # the conversation's first socket sets up its Redis subscription paths on both sides
    turn = await send_turn(stack.port, token, conversation.pk, {name: LONG for name in PROVIDERS[:3]})
    tabs = [asyncio.create_task(follow(stack.port, conversation.pk, token, turn.replies.values())) for _ in range(4)]
    await asyncio.sleep(0.8)  # well inside the 2.5 s streams
    process_a, _ = stack.webs.pop("A")
    await asyncio.to_thread(process_a.stop)
    results = await asyncio.gather(*tabs)

    assert sum(reconnects for _, reconnects in results) >= 1, "no tab was on the stopped instance"
    for log, _ in results:
        for name, reply_id in turn.replies.items():
            reply = await Message.objects.aget(pk=reply_id)
            assert reply.content == "".join(expected_reply(turn.message, 100)), name
            assert log.text[reply_id] == reply.content  # the snapshot on reconnect, then every later delta once
            seqs = log.seqs[reply_id]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert requests_for(fake, turn.models[name]) == 1
