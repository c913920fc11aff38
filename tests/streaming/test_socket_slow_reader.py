"""A client that stops reading while a long reply streams: daphne closes its socket once the output held
for it passes WEBOX_WS_MAX_PENDING_BYTES (webox/daphne_options.py), and the other socket on the same
conversation receives every token."""

import asyncio
import socket

import pytest
import websockets
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import RefreshToken

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from chat.services import conversation_create
from testing.client import ChatSocket, post
from testing.fake_provider import expected_reply
from testing.processes import child_env, start_daphne, start_worker
from tests.processes import real_services

pytestmark = real_services()


PROVIDERS = ("one", "two", "three", "four", "five", "six", "seven", "eight")
TOKENS = 4000
# About 4 s per reply, 0.8 MB/s for the eight: a rate a reading client keeps up with on a loaded machine
# (at full speed the test's own reader, sharing two cores with daphne, the worker and the fake, fell
# more than a megabyte behind), while the silent socket's backlog still grows past the bound.
DELAY_MS = 1


@pytest.fixture
def providers(fake_provider):
    for name in PROVIDERS:
        provider_create(name=name, kind="openai", api_key="test-key", model_names=["fake-echo"],
                        default_model="fake-echo", base_url=fake_provider.url)


@pytest.fixture
def daphne_and_worker(tmp_path):
    # Well under what the silent socket piles up (about 3 MB of deltas beyond the kernel's buffers),
    # well over what a reading client on a loaded machine falls behind by (64 KiB was too little, and
    # 512 KiB too, with two test suites running on two cores).
    daphne, port = start_daphne(tmp_path, child_env(WEBOX_WS_MAX_PENDING_BYTES="1048576"))
    # Replies of about 400 KB: past the default size cap of a reply, which this test is not about.
    worker = start_worker(tmp_path, child_env(WEBOX_REPLY_MAX_CHARS="0"))
    yield port, daphne
    worker.stop()
    daphne.stop()


async def silent_socket(port: int, conversation_id: int, token: str):
    """A socket whose client reads its snapshot and then nothing: a tiny receive buffer, no reads."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # Small segments too: on loopback (64 KiB segments) the server's kernel sizes its send buffer in
    # megabytes; with these it took about 540 KB before daphne held a byte (ss -tm, tb).
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", port))
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/api/chat/ws/{conversation_id}", sock=raw,
                                  subprotocols=["webox.bearer", token], origin=f"http://127.0.0.1:{port}",
                                  max_queue=1, proxy=None)
    await ws.recv()
    return ws


async def test_daphne_closes_a_socket_whose_client_stops_reading(user, providers, daphne_and_worker):
    port, daphne = daphne_and_worker
    token = await sync_to_async(lambda: str(RefreshToken.for_user(user).access_token))()
    conversation = await sync_to_async(conversation_create)(owner=user)
    # Eight replies of about 400 KB each: far more than the kernel's buffers take for the silent
    # socket (hundreds of KB, even with small segments), while every message stays under daphne's 1 MiB.
    message = " ".join(f"word{i:03d}" + "x" * 100 for i in range(100))
    silent = await silent_socket(port, conversation.pk, token)
    async with ChatSocket(port, conversation.pk, token) as reader:
        # The reading client reads while its send is answered, as a page does.
        reading = asyncio.create_task(reader.until(lambda log: len(log.ended) == len(PROVIDERS), timeout=90))
        body = await asyncio.to_thread(post, port, "/api/chat/send", token, {
            "conversation_id": conversation.pk, "message": message, "selected_providers": list(PROVIDERS),
            "selected_models": {name: f"fake-echo;tokens={TOKENS};delay_ms={DELAY_MS}" for name in PROVIDERS}})
        reply_ids = [reply["id"] for reply in body["replies"]]
        await reading
        assert sorted(reader.log.ended) == sorted(reply_ids)
    # The socket that reads got every token of every reply, in order.
    for reply_id in reply_ids:
        stored = await Message.objects.aget(pk=reply_id)
        assert stored.status == ReplyStatus.COMPLETE
        assert reader.log.text[reply_id] == stored.content == "".join(expected_reply(message, TOKENS))
        assert reader.log.seqs[reply_id] == list(range(1, stored.seq + 1))
    # The one that did not read was closed once its output passed the bound, not buffered for.
    assert "closing a socket whose client does not read" in daphne.output()
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await silent.recv()
