"""How a socket's consumer takes its messages (chat/streaming/dispatching.py): one reader per source for
the socket's life, handlers one at a time in the order their messages came."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from chat import events
from chat.services import conversation_create
from chat.streaming import consumers

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)

DELTAS = 20


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="dispatch test")


async def joined(user, conversation):
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=10))["type"] == events.SNAPSHOT
    return comm


def deltas(first_seq: int, count: int) -> list[dict]:
    return [{"type": events.LAYER_MESSAGE_TYPE,
             "events": [events.delta(message_id=1, seq=seq, text=f"t{seq} ")]}
            for seq in range(first_seq, first_seq + count)]


async def test_layer_messages_reach_the_socket_in_order_without_a_task_made_for_each(user, conversation):
    comm = await joined(user, conversation)
    loop = asyncio.get_running_loop()
    made = []
    default_factory = loop.get_task_factory()

    def counting(loop, coro, **kwargs):
        made.append(getattr(coro, "__qualname__", ""))
        return default_factory(loop, coro, **kwargs) if default_factory else asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    try:
        layer, group = get_channel_layer(), events.conversation_group(conversation.pk)
        for message in deltas(1, DELTAS):
            await layer.group_send(group, message)
        received = [await comm.receive_json_from(timeout=5) for _ in range(DELTAS)]
    finally:
        loop.set_task_factory(default_factory)
        await comm.disconnect()

    assert [event["seq"] for event in received] == list(range(1, DELTAS + 1))
    # channels' own loop made a task for each layer message's receive.
    assert not [name for name in made if name.endswith(".receive")]


async def test_a_layer_message_waits_for_the_client_frame_being_handled(user, conversation, monkeypatch):
    handled = []

    async def slow_resync(self, content):
        handled.append("resync started")
        await asyncio.sleep(0.2)
        handled.append("resync ended")

    async def noted(self, message):
        handled.append(f"delta {message['events'][0]['seq']}")

    monkeypatch.setattr(consumers.ConversationConsumer, "client_resync", slow_resync)
    monkeypatch.setattr(consumers.ConversationConsumer, "chat_events", noted)
    comm = await joined(user, conversation)
    await comm.send_json_to({"type": "resync"})
    await asyncio.sleep(0.05)  # the resync's handler is under way
    layer, group = get_channel_layer(), events.conversation_group(conversation.pk)
    for message in deltas(1, 3):
        await layer.group_send(group, message)
    async with asyncio.timeout(5):
        while len(handled) < 5:
            await asyncio.sleep(0.01)
    await comm.disconnect()

    assert handled == ["resync started", "resync ended", "delta 1", "delta 2", "delta 3"]


async def test_nothing_is_handled_after_the_socket_has_closed(user, conversation, monkeypatch):
    handled = []
    disconnect = consumers.ConversationConsumer.websocket_disconnect

    async def slow_disconnect(self, message):
        handled.append("disconnect")
        await asyncio.sleep(0.2)  # a layer message arrives meanwhile
        await disconnect(self, message)

    async def noted(self, message):
        handled.append("delta")

    monkeypatch.setattr(consumers.ConversationConsumer, "websocket_disconnect", slow_disconnect)
    monkeypatch.setattr(consumers.ConversationConsumer, "chat_events", noted)
    comm = await joined(user, conversation)
    await comm.send_input({"type": "websocket.disconnect", "code": 1000})
    await asyncio.sleep(0.05)
    await get_channel_layer().group_send(events.conversation_group(conversation.pk), deltas(1, 1)[0])
    await comm.wait(timeout=5)  # the consumer has returned

    assert handled == ["disconnect"]
