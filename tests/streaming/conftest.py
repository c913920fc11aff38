"""Helpers for driving the chat socket in tests."""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

import pytest
from channels.testing import WebsocketCommunicator

from chat.stream_store import stream_store
from chat.streaming.publisher import Publisher
from testing.client import StreamLog
from webox.asgi import application


async def connect(user=None, conversation_id: int = 0, *, subprotocols=None, headers=None):
    """A socket on the conversation, authenticated as ``user`` by its session."""
    headers = list(headers or [(b"origin", b"http://localhost")])
    communicator = WebsocketCommunicator(
        application, f"/api/chat/ws/{conversation_id}", headers=headers, subprotocols=subprotocols
    )
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=5)  # the first connection of a session sets up Redis
    assert connected
    return communicator


async def collect_until(communicator, log: StreamLog, done, timeout: float = 20.0) -> StreamLog:
    """Read events into ``log`` until ``done(log)`` is true."""
    async with asyncio.timeout(timeout):
        while not done(log):
            log.add(await communicator.receive_json_from(timeout=timeout))
    return log


def all_ended(reply_ids):
    return lambda log: all(reply_id in log.ended for reply_id in reply_ids)


class Flush(NamedTuple):
    entries: list  # the FlushEntry of each reply with text to record
    watched: list  # the stream keys whose cancel flags it read
    at: float  # when it was made (monotonic)


@pytest.fixture
def flushes(monkeypatch) -> list[Flush]:
    """Every ``record_flush`` call (a flush's one Redis round trip), in order."""
    store, calls = stream_store(), []
    real = store.record_flush

    async def recorded(entries, watched):
        calls.append(Flush(list(entries), list(watched), time.monotonic()))
        return await real(entries, watched)

    monkeypatch.setattr(store, "record_flush", recorded)
    return calls


@pytest.fixture
async def publisher():
    """A publisher of its own, its ticking task stopped at the end."""
    publisher = Publisher()
    yield publisher
    if publisher._runner is not None:
        publisher._runner.cancel()
