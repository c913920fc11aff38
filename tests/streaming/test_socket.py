"""The conversation socket in the embedded default: auth, snapshot, live stream, repair, cancel."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import RefreshToken

from chat import events
from chat.models import Message
from chat.providers import ChatMessage, ChatRequest
from chat.providers.demo import demo_reply_text
from chat.services import conversation_create, conversation_delete
from chat.streaming.publisher import get_publisher
from testing.client import StreamLog
from tests.conftest import send_turn

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture(autouse=True)
def paced_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 15
    settings.WEBOX_FLUSH_INTERVAL_MS = 20


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="socket test")


async def first_event(comm, kind):
    event = await comm.receive_json_from(timeout=10)
    assert event["type"] == kind, event
    return event


async def joined_with_a_demo_reply(user, conversation, message):
    """A socket joined to the conversation (its snapshot read), then one demo reply sent into it."""
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    result = await sync_to_async(send_turn)(user=user, conversation=conversation, message=message,
                                            selected_providers=["demo"])
    return comm, log, result.replies[0].pk


async def test_socket_without_credentials_is_closed_4401(conversation):
    comm = await connect(None, conversation.pk)
    await comm.send_json_to({"type": "resync"})
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_jwt_in_subprotocol_authenticates(user, conversation):
    token = await sync_to_async(lambda: str(RefreshToken.for_user(user).access_token))()
    comm = await connect(None, conversation.pk, subprotocols=["webox.bearer", token])
    assert (await first_event(comm, "snapshot"))["replies"] == []
    await comm.disconnect()


async def test_jwt_in_first_frame_authenticates(user, conversation):
    token = await sync_to_async(lambda: str(RefreshToken.for_user(user).access_token))()
    comm = await connect(None, conversation.pk)
    await comm.send_json_to({"type": "auth", "token": token})
    assert (await first_event(comm, "snapshot"))["conversation_id"] == conversation.pk
    await comm.disconnect()


async def test_bad_jwt_is_closed_4401(conversation):
    comm = await connect(None, conversation.pk, subprotocols=["webox.bearer", "not.a.token"])
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_another_users_conversation_and_a_missing_one_both_close_4403(other_user, conversation):
    for conversation_id in (conversation.pk, 987654):
        comm = await connect(other_user, conversation_id)
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_a_token_for_another_users_or_a_missing_conversation_closes_4403_by_subprotocol_or_frame(
        other_user, conversation):
    token = await sync_to_async(lambda: str(RefreshToken.for_user(other_user).access_token))()
    for conversation_id in (conversation.pk, 987654):
        comm = await connect(None, conversation_id, subprotocols=["webox.bearer", token])
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
        comm = await connect(None, conversation_id)
        await comm.send_json_to({"type": "auth", "token": token})
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_a_token_of_a_deactivated_user_closes_4401_even_for_their_own_conversation(user, conversation):
    token = await sync_to_async(lambda: str(RefreshToken.for_user(user).access_token))()
    user.is_active = False
    await user.asave(update_fields=["is_active"])
    comm = await connect(None, conversation.pk, subprotocols=["webox.bearer", token])
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}


async def test_wrong_origin_is_refused(user, conversation):
    from channels.testing import WebsocketCommunicator

    from webox.asgi import application

    comm = WebsocketCommunicator(application, f"/api/chat/ws/{conversation.pk}",
                                 headers=[(b"origin", b"http://evil.example")])
    comm.scope["user"] = user
    connected, _ = await comm.connect()
    assert not connected


async def test_malformed_and_unknown_frames_get_an_error_and_the_socket_stays_open(user, conversation):
    comm = await connect(user, conversation.pk)
    await first_event(comm, "snapshot")
    await comm.send_to(text_data="{not json")
    assert (await first_event(comm, "error"))["code"] == "bad_frame"
    await comm.send_json_to(["a", "list"])
    assert (await first_event(comm, "error"))["code"] == "bad_frame"
    await comm.send_json_to({"type": "launch"})
    assert (await first_event(comm, "error"))["code"] == "unknown_type"
    await comm.send_json_to({"type": "send", "message": "", "selected_providers": ["demo"]})
    error = await first_event(comm, "error")
    assert error["code"] == "invalid" and "message" in error["detail"].lower()
    await comm.send_json_to({"type": "cancel", "message_id": "abc"})
    assert (await first_event(comm, "error"))["code"] == "not_found"
    await comm.send_json_to({"type": "resync"})
    await first_event(comm, "snapshot")
    await comm.disconnect()


async def test_send_over_socket_streams_the_reply_and_stores_it(user, conversation):
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    await comm.send_json_to({"type": "send", "message": "stream me please", "selected_providers": ["demo"],
                             "selected_models": {"demo": "demo-markdown"}})
    await collect_until(comm, log, lambda lg: len(lg.of_type("message.created")) == 2)
    user_event, reply_event = log.of_type("message.created")
    assert user_event["message"]["content"] == "stream me please"
    reply_id = reply_event["message"]["id"]
    await collect_until(comm, log, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    assert log.text[reply_id] == stored.content
    assert log.seqs[reply_id] == list(range(1, stored.seq + 1))
    completed = log.ended[reply_id]
    assert completed["type"] == "message.completed"
    assert completed["content"] == stored.content and "<table>" in completed["content_html"]
    assert completed["usage"]["completion_tokens"] == stored.completion_tokens > 0
    assert completed["finish_reason"] == "stop" and completed["duration_ms"] >= completed["ttft_ms"] >= 0
    await comm.disconnect()


async def test_two_sockets_see_identical_streams(user, conversation):
    first, second = await connect(user, conversation.pk), await connect(user, conversation.pk)
    logs = [StreamLog(), StreamLog()]
    for comm, log in zip((first, second), logs, strict=True):
        await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    result = await sync_to_async(send_turn)(user=user, conversation=conversation, message="both of you",
                                                selected_providers=["demo"])
    reply_id = result.replies[0].pk
    for comm, log in zip((first, second), logs, strict=True):
        await collect_until(comm, log, all_ended([reply_id]))
    deltas = [[(e["seq"], e["text"]) for e in log.of_type("message.delta")] for log in logs]
    assert deltas[0] == deltas[1] and len(deltas[0]) > 1
    await first.disconnect()
    await second.disconnect()


async def test_reconnect_mid_stream_loses_and_doubles_nothing(user, conversation, settings):
    settings.WEBOX_DEMO_DELAY_MS = 25
    comm, before, reply_id = await joined_with_a_demo_reply(user, conversation, "a long one")
    await collect_until(comm, before, lambda lg: len(lg.seqs[reply_id]) >= 3)
    await comm.disconnect()
    await asyncio.sleep(0.2)  # deltas flushed while nobody listens

    again = await connect(user, conversation.pk)
    after = StreamLog()
    await collect_until(again, after, lambda lg: lg.of_type("snapshot"))
    [snap] = after.of_type("snapshot")[0]["replies"]
    assert snap["id"] == reply_id and snap["seq"] > before.seqs[reply_id][-1]
    assert snap["content"].startswith(before.text[reply_id])
    await collect_until(again, after, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    assert after.text[reply_id] == stored.content
    assert after.seqs[reply_id] == [snap["seq"], *range(snap["seq"] + 1, stored.seq + 1)]
    await again.disconnect()


async def test_a_lost_delta_is_detected_by_seq_and_repaired(user, conversation, monkeypatch):
    real_publish_each = events.publish_each
    calls = {"n": 0}

    async def lossy_publish_each(by_conversation):
        calls["n"] += 1
        if calls["n"] == 3:  # the channel layer "drops" the publisher's third batch
            return
        await real_publish_each(by_conversation)

    monkeypatch.setattr(events, "publish_each", lossy_publish_each)
    comm, log, reply_id = await joined_with_a_demo_reply(user, conversation, "lossy")
    await collect_until(comm, log, all_ended([reply_id]))
    connect_snapshot, repair = log.of_type("snapshot")
    assert connect_snapshot["partial"] is False
    assert repair["partial"] is True and [r["id"] for r in repair["replies"]] == [reply_id]
    stored = await Message.objects.aget(pk=reply_id)
    assert log.text[reply_id] == stored.content


async def test_a_reply_whose_last_deltas_were_lost_is_repaired_before_its_end(user, conversation, monkeypatch):
    real_publish, real_publish_each = events.publish, events.publish_each

    def losing_the_tail(batch):
        # The layer "drops" every delta after the second, the reply's final ones included; its end arrives.
        return [e for e in batch if e["type"] != "message.delta" or e["seq"] <= 2]

    async def tail_losing_publish(conversation_id, batch):
        await real_publish(conversation_id, losing_the_tail(batch))

    async def tail_losing_publish_each(by_conversation):
        await real_publish_each({cid: losing_the_tail(batch) for cid, batch in by_conversation.items()})

    monkeypatch.setattr(events, "publish", tail_losing_publish)
    monkeypatch.setattr(events, "publish_each", tail_losing_publish_each)
    comm, log, reply_id = await joined_with_a_demo_reply(user, conversation, "lossy at the end")
    await collect_until(comm, log, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    assert log.seqs[reply_id][:2] == [1, 2] and stored.seq > 3  # the deltas after the second were lost
    repair = log.of_type("snapshot")[-1]
    assert repair["partial"] is True and [r["id"] for r in repair["replies"]] == [reply_id]
    assert log.events.index(repair) < log.events.index(log.ended[reply_id])
    assert log.text[reply_id] == stored.content


async def test_cancel_keeps_partial_text(user, conversation, settings):
    settings.WEBOX_DEMO_DELAY_MS = 30
    comm, log, reply_id = await joined_with_a_demo_reply(user, conversation, "stop me")
    await collect_until(comm, log, lambda lg: len(lg.seqs[reply_id]) >= 2)
    await comm.send_json_to({"type": "cancel", "message_id": reply_id})
    await collect_until(comm, log, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    full = demo_reply_text_for("stop me")
    assert stored.status == "cancelled"
    assert log.ended[reply_id]["type"] == "message.cancelled"
    assert stored.content and full.startswith(stored.content) and stored.content != full
    assert log.text[reply_id] == stored.content == log.ended[reply_id]["content"]


def demo_reply_text_for(message: str) -> str:
    return demo_reply_text(ChatRequest(model="demo-echo", messages=(ChatMessage("user", message),)))


async def test_access_is_checked_again_on_every_client_event(user, other_user, conversation):
    comm = await connect(user, conversation.pk)
    await first_event(comm, "snapshot")
    conversation.owner = other_user
    await conversation.asave(update_fields=["owner"])
    await comm.send_json_to({"type": "send", "message": "still mine?", "selected_providers": ["demo"]})
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    assert not await Message.objects.filter(conversation=conversation).aexists()


async def test_deleting_a_conversation_stops_its_replies(user, conversation, settings):
    settings.WEBOX_DEMO_DELAY_MS = 30
    comm, log, reply_id = await joined_with_a_demo_reply(user, conversation, "delete me")
    await collect_until(comm, log, lambda lg: len(lg.seqs[reply_id]) >= 1)
    await sync_to_async(conversation_delete)(conversation=conversation)
    await collect_until(comm, log, lambda lg: lg.of_type("conversation.deleted"))
    async with asyncio.timeout(5):
        while reply_id in get_publisher().streams:
            await asyncio.sleep(0.02)
    assert not await Message.objects.filter(pk=reply_id).aexists()


async def test_streaming_text_is_checkpointed_to_the_database_as_it_grows(user, conversation, settings):
    settings.WEBOX_DEMO_DELAY_MS = 30
    settings.WEBOX_CHECKPOINT_INTERVAL_MS = 200
    comm, log, reply_id = await joined_with_a_demo_reply(user, conversation, "checkpoint me")
    checkpoint = None
    async with asyncio.timeout(10):
        while checkpoint is None:
            await asyncio.sleep(0.05)
            row = await Message.objects.aget(pk=reply_id)
            if row.status == "streaming" and row.seq > 0:
                checkpoint = row
    await collect_until(comm, log, all_ended([reply_id]))
    deltas = {e["seq"]: e["text"] for e in log.of_type("message.delta") if e["message_id"] == reply_id}
    # The checkpoint holds exactly the text of the deltas up to its seq: a reconnect can go on from it.
    assert checkpoint.content == "".join(deltas[seq] for seq in range(1, checkpoint.seq + 1))
    final = await Message.objects.aget(pk=reply_id)
    assert final.seq > checkpoint.seq and final.content.startswith(checkpoint.content)
    await comm.disconnect()


async def test_a_send_frame_with_two_columns_of_one_provider_streams_both(user, conversation):
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    await comm.send_json_to({"type": "send", "message": "two of one", "columns": [
        {"provider": "demo", "model": "demo-echo"}, {"key": "md", "provider": "demo", "model": "demo-markdown"}]})
    await collect_until(comm, log, lambda lg: len(lg.of_type("message.created")) == 3)
    replies = [event["message"] for event in log.of_type("message.created")[1:]]
    assert [(r["model"], r["column"]) for r in replies] == [("demo-echo", "demo"), ("demo-markdown", "md")]
    await collect_until(comm, log, all_ended([r["id"] for r in replies]))
    assert all(log.ended[r["id"]]["type"] == "message.completed" and log.text[r["id"]] for r in replies)
    await comm.disconnect()
