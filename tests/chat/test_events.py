"""Publishing from synchronous code: handed to the ASGI server's loop without waiting, in order;
elsewhere (no server loop) the caller waits until the layer has the events."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from chat import events
from webox import loops


class GatedLayer:
    """A channel layer whose ``group_send`` waits for a gate, and records what it was given."""

    def __init__(self, gate: asyncio.Event | None = None):
        self.gate = gate
        self.arrived: list[dict] = []  # in the order the publishes reached the layer
        self.sent: list[tuple[str, dict]] = []

    async def group_send(self, group, message):
        self.arrived.append(message)
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append((group, message))


@pytest.fixture
def server_loop(monkeypatch):
    """A running loop on its own thread, remembered as the ASGI server's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(loops, "_server_loop", loop)
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def on_loop(loop, func):
    """``func()`` called on ``loop``'s thread; its result."""
    async def call():
        return func()
    return asyncio.run_coroutine_threadsafe(call(), loop).result(5)


def test_under_the_server_a_publish_returns_before_the_layer_has_it_and_publishes_keep_their_order(
        server_loop, monkeypatch):
    gate = on_loop(server_loop, asyncio.Event)
    layer = GatedLayer(gate)
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)

    started = time.monotonic()
    for n in range(3):
        events.publish_from_sync(7, [{"type": "message.delta", "seq": n}])
    returned_after = time.monotonic() - started

    assert returned_after < 1.0
    assert layer.sent == []  # not waited for: the layer is still held at its gate
    deadline = time.monotonic() + 5
    while len(layer.arrived) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [message["events"][0]["seq"] for message in layer.arrived] == [0, 1, 2]  # started in order
    server_loop.call_soon_threadsafe(gate.set)
    deadline = time.monotonic() + 5
    while len(layer.sent) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [message["events"][0]["seq"] for _, message in layer.sent] == [0, 1, 2]
    assert {group for group, _ in layer.sent} == {events.conversation_group(7)}


def test_a_failed_publish_under_the_server_is_logged_not_raised(server_loop, monkeypatch, caplog):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("the layer is down")

    monkeypatch.setattr(events, "get_channel_layer", lambda: BrokenLayer())
    with caplog.at_level("ERROR", logger="chat.events"):
        events.publish_from_sync(9, [{"type": "conversation.updated"}])
        deadline = time.monotonic() + 5
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "publishing to conversation 9 failed" in caplog.text
    assert "the layer is down" in caplog.text


def test_without_a_server_loop_the_caller_waits_until_the_layer_has_the_events(monkeypatch):
    monkeypatch.setattr(loops, "_server_loop", None)
    layer = GatedLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)

    events.publish_from_sync(3, [{"type": "message.created"}])

    assert layer.sent == [(events.conversation_group(3), {"type": events.LAYER_MESSAGE_TYPE,
                                                           "events": [{"type": "message.created"}]})]


async def test_publishing_several_conversations_at_once_gives_each_its_own_events_in_one_message_in_order():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()  # the Redis pub/sub layer in the production shape, in memory otherwise
    channels = {}
    for conversation_id in (991_001, 991_002, 991_003):
        channels[conversation_id] = await layer.new_channel()
        await layer.group_add(events.conversation_group(conversation_id), channels[conversation_id])
    try:
        batches = {
            991_001: [events.delta(message_id=1, seq=1, text="one"), events.delta(message_id=2, seq=4, text="two")],
            991_002: [],  # nothing to send: no message
            991_003: [events.delta(message_id=3, seq=1, text="three")],
        }
        await events.publish_each(batches)
        await events.publish_each({991_002: [events.delta(message_id=4, seq=1, text="later")]})
        for conversation_id, expected in ((991_001, batches[991_001]), (991_003, batches[991_003]),
                                          (991_002, [events.delta(message_id=4, seq=1, text="later")])):
            message = await asyncio.wait_for(layer.receive(channels[conversation_id]), timeout=5)
            assert message == {"type": events.LAYER_MESSAGE_TYPE, "events": expected}
    finally:
        for conversation_id, channel in channels.items():
            await layer.group_discard(events.conversation_group(conversation_id), channel)
