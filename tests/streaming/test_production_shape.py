"""The real path: daphne, Celery worker processes, Redis and PostgreSQL, started by the tests.

Runs when DATABASE_URL (PostgreSQL) and REDIS_URL are set, as in CI; skipped on the embedded
default unless WEBOX_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

import asyncio
import json
import urllib.request

import pytest
import websockets
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import RefreshToken

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from chat.services import conversation_create
from testing.client import TERMINAL, StreamLog
from testing.fake_provider import expected_reply
from testing.processes import child_env, start_daphne, start_worker
from tests.processes import real_services

pytestmark = real_services()


@pytest.fixture
def providers(fake_provider):
    for name, kind in (("gpt", "openai"), ("claude", "anthropic"), ("local", "openai")):
        provider_create(name=name, kind=kind, api_key="test-key", model_names=["fake-echo"], default_model="fake-echo",
                        base_url=fake_provider.anthropic_url if kind == "anthropic" else fake_provider.url)


@pytest.fixture
def started(tmp_path):
    """Start workers through this; every process is stopped after the test, pass or fail."""
    processes = []

    async def worker(*, beat: bool = False, **env):
        process = await asyncio.to_thread(start_worker, tmp_path, child_env(**env), beat=beat)
        processes.append(process)
        return process

    yield worker
    for process in processes:
        process.stop()


@pytest.fixture
def server(tmp_path):
    process, port = start_daphne(tmp_path, child_env())
    yield port
    process.stop()


@pytest.fixture
def token(user):
    return str(RefreshToken.for_user(user).access_token)


def post(port: int, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body or {}).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class Socket:
    def __init__(self, port: int, conversation_id: int, token: str):
        self.url = f"ws://127.0.0.1:{port}/api/chat/ws/{conversation_id}"
        self.origin = f"http://127.0.0.1:{port}"
        self.token = token
        self.log = StreamLog()

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, subprotocols=["webox.bearer", self.token], origin=self.origin,
                                           proxy=None)
        await self.until(lambda log: log.of_type("snapshot"))
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def until(self, done, timeout: float = 30):
        async with asyncio.timeout(timeout):
            while not done(self.log):
                self.log.add(json.loads(await self.ws.recv()))
        return self.log


def ended(ids):
    return lambda log: all(i in log.ended for i in ids)


async def test_three_providers_stream_through_daphne_and_a_celery_worker(user, token, providers, server, started):
    worker = await started()
    conversation = await sync_to_async(conversation_create)(owner=user)
    models = {"gpt": "fake-echo;delay_ms=10", "claude": "fake-echo;delay_ms=10;tokens=15",
              "local": "fake-echo;delay_ms=5;tokens=25"}
    async with Socket(server, conversation.pk, token) as first, Socket(server, conversation.pk, token) as second:
        body = await asyncio.to_thread(post, server, "/api/chat/send", token, {
            "conversation_id": conversation.pk, "message": "over the real path", "selected_providers": list(models),
            "selected_models": models})
        replies = {r["provider"]: r["id"] for r in body["replies"]}
        await first.until(ended(replies.values()))
        await second.until(ended(replies.values()))
    expected = {"gpt": None, "claude": 15, "local": 25}
    for provider, reply_id in replies.items():
        stored = await Message.objects.aget(pk=reply_id)
        assert stored.status == ReplyStatus.COMPLETE, (stored.error_code, stored.error_detail)
        assert stored.content == "".join(expected_reply("over the real path", expected[provider]))
        for socket in (first, second):
            assert socket.log.text[reply_id] == stored.content
            assert socket.log.seqs[reply_id] == list(range(1, stored.seq + 1))
    assert "chat.tasks.generate_reply" in worker.output()


async def test_cancel_reaches_a_reply_running_on_a_worker(user, token, providers, server, started):
    await started()
    conversation = await sync_to_async(conversation_create)(owner=user)
    async with Socket(server, conversation.pk, token) as socket:
        body = await asyncio.to_thread(post, server, "/api/chat/send", token, {
            "conversation_id": conversation.pk, "message": "cancel me", "selected_providers": ["gpt"],
            "selected_models": {"gpt": "fake-echo;tokens=200;delay_ms=30"}})
        reply_id = body["replies"][0]["id"]
        await socket.until(lambda log: len(log.seqs[reply_id]) >= 3)
        await asyncio.to_thread(post, server, f"/api/chat/messages/{reply_id}/cancel", token)
        await socket.until(ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    assert stored.status == ReplyStatus.CANCELLED
    assert socket.log.ended[reply_id]["type"] == "message.cancelled"
    full = "".join(expected_reply("cancel me", 200))
    assert stored.content and full.startswith(stored.content) and stored.content != full
    assert socket.log.text[reply_id] == stored.content


async def test_a_killed_worker_ends_its_reply_as_error_and_leaves_the_others(user, token, providers, server,
                                                                            started):
    doomed_worker = await started()
    conversation = await sync_to_async(conversation_create)(owner=user)
    async with Socket(server, conversation.pk, token) as socket:
        body = await asyncio.to_thread(post, server, "/api/chat/send", token, {
            "conversation_id": conversation.pk, "message": "long story", "selected_providers": ["gpt"],
            "selected_models": {"gpt": "fake-echo;tokens=400;delay_ms=25"}})
        doomed = body["replies"][0]["id"]
        await socket.until(lambda log: len(log.seqs[doomed]) >= 3)
        doomed_worker.kill()
        seen_before_kill = socket.log.text[doomed]

        await started(beat=True, WEBOX_SWEEP_INTERVAL_SECONDS="1", WEBOX_REPLY_STALE_SECONDS="3")
        body = await asyncio.to_thread(post, server, "/api/chat/send", token, {
            "conversation_id": conversation.pk, "message": "still there?", "selected_providers": ["local"],
            "selected_models": {"local": "fake-echo;tokens=5"}})
        other = body["replies"][0]["id"]
        await socket.until(ended([doomed, other]), timeout=40)
    doomed_reply = await Message.objects.aget(pk=doomed)
    other_reply = await Message.objects.aget(pk=other)
    assert (doomed_reply.status, doomed_reply.error_code) == (ReplyStatus.ERROR, "orphaned")
    assert doomed_reply.content.startswith(seen_before_kill) and seen_before_kill
    assert socket.log.ended[doomed]["type"] == "message.error"
    assert socket.log.ended[doomed]["content"] == doomed_reply.content
    assert other_reply.status == ReplyStatus.COMPLETE
    assert other_reply.content == "".join(expected_reply("still there?", 5))
    assert not [e for e in socket.log.events if e["type"] in TERMINAL and e["message_id"] == doomed][1:]
