"""What a layer message costs a socket: no database hop before it, each event one JSON frame, as before."""

import json

import pytest

from chat import events
from chat.services import conversation_create
from chat.streaming import consumers
from chat.streaming.consumers import ConversationConsumer

from .conftest import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="frames")


@pytest.fixture
def old_connection_closes(monkeypatch):
    """How often the consumer closed old database connections before a handler (channels' thread hop)."""
    calls = []

    async def counted():
        calls.append(1)

    monkeypatch.setattr(consumers, "aclose_old_connections", counted)
    return calls


async def test_layer_messages_reach_the_socket_without_closing_old_database_connections_first(
        user, conversation, old_connection_closes):
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    before = len(old_connection_closes)
    assert before == 0  # websocket.connect: its database work runs in in_db_thread
    reply_id = 10**9
    await events.publish(conversation.pk, [events.delta(message_id=reply_id, seq=seq, text=f"t{seq} ")
                                           for seq in (1, 2, 3)])
    for seq in (1, 2, 3):
        assert await comm.receive_json_from(timeout=5) == events.delta(message_id=reply_id, seq=seq, text=f"t{seq} ")
    assert len(old_connection_closes) == before
    await comm.disconnect()


async def test_only_a_client_frame_closes_old_database_connections_first(user, conversation, old_connection_closes):
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    await comm.send_json_to({"type": "resync"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "snapshot"
    assert len(old_connection_closes) == 1
    await comm.disconnect()
    assert len(old_connection_closes) == 1


async def test_each_event_is_a_text_frame_of_its_own_with_non_ascii_text_as_it_is(user, conversation):
    comm = await connect(user, conversation.pk)
    await comm.receive_json_from(timeout=5)
    sent = [events.delta(message_id=10**9, seq=1, text="naïve 日本 🙂"),
            events.delta(message_id=10**9, seq=2, text='"quoted" \\ and\nnewline')]
    await events.publish(conversation.pk, sent)
    frames = [await comm.receive_output(timeout=5) for _ in sent]
    assert all(frame["type"] == "websocket.send" and "bytes" not in frame for frame in frames)
    assert [json.loads(frame["text"]) for frame in frames] == sent
    assert "naïve 日本 🙂" in frames[0]["text"]  # UTF-8, not \u escapes: the same JSON, fewer bytes
    await comm.disconnect()


@pytest.mark.parametrize("content", [{"text": "lone \ud800 surrogate"}, {"big": 2**70}, {"usage": {1: 2}}])
async def test_what_orjson_refuses_still_goes_out_as_json(content):
    assert await ConversationConsumer.encode_json(content) == json.dumps(content)


async def test_a_frame_for_a_socket_the_client_is_closing_is_dropped_without_an_error():
    # daphne (autobahn) raises when a layer message reaches a socket between the client's close
    # frame and its disconnect; that logged an application error (seen in an end-to-end run).
    from autobahn.exception import Disconnected

    consumer = ConversationConsumer()
    tried = []

    async def closing(message):
        tried.append(message)
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.send_frame = closing
    await consumer.send_json(events.error(code="invalid", detail="late"))

    assert [json.loads(m["text"])["detail"] for m in tried] == ["late"]
