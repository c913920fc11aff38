"""The whole path in the embedded default: REST or socket in, fake providers through the real SDKs, socket out."""

import time
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.models import Message, ReplyStatus
from chat.providers import StreamResult, provider_create
from chat.services import conversation_create, conversation_update, replies_sweep_orphans, reply_choose, reply_start
from chat.stream_store import FlushEntry, stream_store
from chat.streaming.engine import Outcome, end_reply
from testing.client import StreamLog
from testing.fake_provider import expected_reply

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture
def providers(fake_provider, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 20
    made = {}
    for name, kind in (("gpt", "openai"), ("claude", "anthropic"), ("local", "openai"), ("extra", "openai")):
        made[name] = provider_create(
            name=name, kind=kind, api_key="test-key", model_names=["fake-echo"], default_model="fake-echo",
            base_url=fake_provider.anthropic_url if kind == "anthropic" else fake_provider.url,
        )
    return made


async def rest_send(client, **body):
    response = await sync_to_async(client.post)("/api/chat/send", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()


async def open_socket(user, conversation_id):
    comm = await connect(user, conversation_id)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    return comm, log


async def test_one_message_to_three_providers_streams_every_reply_token_for_token(user, auth_client, providers):
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    models = {"gpt": "fake-echo;delay_ms=10", "claude": "fake-echo;delay_ms=10;tokens=12",
              "local": "fake-echo;delay_ms=5;tokens=30"}
    body = await rest_send(auth_client, conversation_id=conversation.pk, message="the quick brown fox",
                           selected_providers=list(models), selected_models=models)
    replies = {r["provider"]: r["id"] for r in body["replies"]}
    await collect_until(comm, log, all_ended(replies.values()))
    expected = {
        "gpt": expected_reply("the quick brown fox"),
        "claude": expected_reply("the quick brown fox", 12),
        "local": expected_reply("the quick brown fox", 30),
    }
    for provider, reply_id in replies.items():
        stored = await Message.objects.aget(pk=reply_id)
        assert stored.status == ReplyStatus.COMPLETE, (provider, stored.error_code, stored.error_detail)
        assert stored.content == "".join(expected[provider])
        assert log.text[reply_id] == stored.content
        assert log.seqs[reply_id] == list(range(1, stored.seq + 1))
        assert stored.completion_tokens == len(expected[provider])
        assert stored.prompt_tokens and stored.ttft_ms is not None and stored.duration_ms >= stored.ttft_ms
        assert log.ended[reply_id]["usage"]["completion_tokens"] == len(expected[provider])
    await comm.disconnect()


async def test_a_turn_of_four_slow_providers_takes_about_as_long_as_one(user, auth_client, providers):
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    slow = "fake-echo;tokens=10;delay_ms=100"  # about one second each
    names = ["gpt", "claude", "local", "extra"]

    async def turn_time(providers: list[str]) -> float:
        started = time.monotonic()
        body = await rest_send(auth_client, conversation_id=conversation.pk, message="slow please",
                               selected_providers=providers, selected_models=dict.fromkeys(providers, slow))
        await collect_until(comm, log, all_ended([r["id"] for r in body["replies"]]))
        return time.monotonic() - started

    # The baseline: one such reply alone, measured now, on this machine under its present load (a fixed
    # bound in seconds failed on a busy CI machine). One after another, four would take four times as long.
    one = await turn_time(["gpt"])
    four = await turn_time(names)
    assert all(event["type"] == "message.completed" for event in log.ended.values())
    assert len(log.ended) == 5
    assert four < 2.5 * one, f"4 replies took {four:.2f} s, one alone {one:.2f} s: they did not run concurrently"
    await comm.disconnect()


async def test_one_failing_provider_keeps_its_partial_text_and_leaves_the_others(user, auth_client, providers):
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    models = {"gpt": "fake-echo;delay_ms=10;tokens=8", "claude": "fake-echo;delay_ms=10;error=500;error_after=3"}
    body = await rest_send(auth_client, conversation_id=conversation.pk, message="one of you fails",
                           selected_providers=list(models), selected_models=models)
    replies = {r["provider"]: r["id"] for r in body["replies"]}
    await collect_until(comm, log, all_ended(replies.values()))
    failed = await Message.objects.aget(pk=replies["claude"])
    ok = await Message.objects.aget(pk=replies["gpt"])
    assert failed.status == ReplyStatus.ERROR and failed.error_code
    assert failed.content == "".join(expected_reply("one of you fails")[:3])
    assert log.ended[failed.pk]["type"] == "message.error" and log.ended[failed.pk]["detail"]
    assert log.ended[failed.pk]["content"] == failed.content
    assert ok.status == ReplyStatus.COMPLETE and ok.content == "".join(expected_reply("one of you fails", 8))
    await comm.disconnect()


async def test_a_retry_reaches_the_socket_before_its_wait_and_the_reply_then_completes(
        user, auth_client, providers, settings):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 3
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    flaky = "fake-echo;error=429;retry_after=1;fail_times=1"
    body = await rest_send(auth_client, conversation_id=conversation.pk, message="try again",
                           selected_providers=["gpt"], selected_models={"gpt": flaky})
    reply_id = body["replies"][0]["id"]
    await collect_until(comm, log, lambda lg: lg.of_type("message.retrying"))
    announced_at = time.monotonic()
    await collect_until(comm, log, lambda lg: lg.seqs[reply_id])
    first_text_after = time.monotonic() - announced_at
    await collect_until(comm, log, all_ended([reply_id]))

    [retrying] = log.of_type("message.retrying")
    assert retrying == {"type": "message.retrying", "message_id": reply_id, "retry": 1, "max_retries": 3,
                        "code": "rate_limited", "retry_in_ms": 1000}
    # Sent when the wait began, not when it ended: the text came a Retry-After later.
    assert first_text_after >= 0.8
    kinds = [e["type"] for e in log.events if e.get("message_id") == reply_id]
    assert kinds[0] == "message.retrying" and kinds[-1] == "message.completed"
    stored = await Message.objects.aget(pk=reply_id)
    assert stored.status == ReplyStatus.COMPLETE and stored.content == "".join(expected_reply("try again"))
    await comm.disconnect()


async def test_a_socket_that_joins_during_a_retry_wait_is_told_right_after_its_snapshot(
        user, auth_client, providers):
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    body = await rest_send(auth_client, conversation_id=conversation.pk, message="late joiner",
                           selected_providers=["gpt"],
                           selected_models={"gpt": "fake-echo;error=503;retry_after=2;fail_times=1"})
    reply_id = body["replies"][0]["id"]
    await collect_until(comm, log, lambda lg: lg.of_type("message.retrying"))

    late, late_log = await open_socket(user, conversation.pk)
    await collect_until(late, late_log, lambda lg: lg.of_type("message.retrying"))
    assert [e["type"] for e in late_log.events] == ["snapshot", "message.retrying"]
    replayed = late_log.events[1]
    assert {k: v for k, v in replayed.items() if k != "retry_in_ms"} == {
        "type": "message.retrying", "message_id": reply_id, "retry": 1, "max_retries": 3, "code": "upstream_error"}
    assert 0 < replayed["retry_in_ms"] <= 2000
    await collect_until(late, late_log, all_ended([reply_id]))
    await collect_until(comm, log, all_ended([reply_id]))

    # Ended: the retry is forgotten, and a socket joining now is not told of it.
    stored = await Message.objects.aget(pk=reply_id)
    assert stored.status == ReplyStatus.COMPLETE
    assert stream_store().retries_sync([stored.stream_key]) == {}
    after, after_log = await open_socket(user, conversation.pk)
    assert after_log.of_type("snapshot")[0]["replies"] == []
    assert await after.receive_nothing(timeout=0.3)
    for socket in (comm, late, after):
        await socket.disconnect()


async def test_a_provider_that_hangs_mid_stream_ends_as_timeout_with_its_text(user, auth_client, providers, settings):
    settings.WEBOX_PROVIDER_IDLE_TIMEOUT = 0.5
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    body = await rest_send(auth_client, conversation_id=conversation.pk, message="hang on",
                           selected_providers=["gpt"], selected_models={"gpt": "fake-echo;hang_after=2"})
    reply_id = body["replies"][0]["id"]
    await collect_until(comm, log, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    assert (stored.status, stored.error_code) == (ReplyStatus.ERROR, "timeout")
    assert stored.content == "".join(expected_reply("hang on")[:2])
    await comm.disconnect()


async def test_each_provider_is_sent_its_own_thread(user, auth_client, providers, fake_provider):
    conversation = await sync_to_async(conversation_create)(owner=user, system_prompt="Answer briefly.")
    comm, log = await open_socket(user, conversation.pk)
    models = {"gpt": "fake-echo;tokens=4", "claude": "fake-echo;tokens=6"}
    first = await rest_send(auth_client, conversation_id=conversation.pk, message="first question",
                            selected_providers=list(models), selected_models=models)
    await collect_until(comm, log, all_ended([r["id"] for r in first["replies"]]))
    fake_provider.reset()
    second = await rest_send(auth_client, conversation_id=conversation.pk, message="second question",
                             selected_providers=list(models), selected_models=models)
    await collect_until(comm, log, all_ended([r["id"] for r in second["replies"]]))
    by_path = {("anthropic" if "/anthropic/" in r["path"] else "openai"): r["json"]
               for r in fake_provider.chat_requests()}
    assert by_path["openai"]["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "".join(expected_reply("first question", 4))},
        {"role": "user", "content": "second question"},
    ]
    assert by_path["anthropic"]["system"] == "Answer briefly."
    assert [(m["role"], m["content"] if isinstance(m["content"], str) else m["content"][0]["text"])
            for m in by_path["anthropic"]["messages"]] == [
        ("user", "first question"),
        ("assistant", "".join(expected_reply("first question", 6))),
        ("user", "second question"),
    ]
    await comm.disconnect()


async def test_chosen_context_mode_gives_every_provider_the_chosen_reply(user, auth_client, providers, fake_provider):
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    models = {"gpt": "fake-echo;tokens=4", "claude": "fake-echo;tokens=6"}
    first = await rest_send(auth_client, conversation_id=conversation.pk, message="pick one",
                            selected_providers=list(models), selected_models=models)
    await collect_until(comm, log, all_ended([r["id"] for r in first["replies"]]))
    claude_reply = await Message.objects.aget(pk=next(r["id"] for r in first["replies"] if r["provider"] == "claude"))
    await sync_to_async(reply_choose)(reply=claude_reply)
    await sync_to_async(conversation_update)(conversation=conversation, context_mode="chosen")
    fake_provider.reset()
    second = await rest_send(auth_client, conversation_id=conversation.pk, message="and now",
                             selected_providers=["gpt"], selected_models=models)
    await collect_until(comm, log, all_ended([r["id"] for r in second["replies"]]))
    [request] = fake_provider.chat_requests()
    assert request["json"]["messages"][1] == {"role": "assistant", "content": claude_reply.content}
    await comm.disconnect()


def make_turn(conversation, *, status, content="", updated_ago=0):
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    reply = Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="fake-echo",
                                   reply_to=question, status=status, content=content,
                                   stream_id="" if status == ReplyStatus.PENDING else uuid.uuid4().hex)
    Message.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - timedelta(seconds=updated_ago))
    return reply


async def test_orphan_sweep_ends_a_stalled_reply_as_error_with_its_latest_text(user, settings):
    settings.WEBOX_REPLY_STALE_SECONDS = 30
    conversation = await sync_to_async(conversation_create)(owner=user)
    stalled = await sync_to_async(make_turn)(conversation, status=ReplyStatus.STREAMING, content="Hel",
                                             updated_ago=120)
    fresh = await sync_to_async(make_turn)(conversation, status=ReplyStatus.STREAMING, content="ok", updated_ago=1)
    await stream_store().record_flush([FlushEntry(stalled.stream_key, "lo", 2, "Hello")], [])
    comm, log = await open_socket(user, conversation.pk)
    ended = await sync_to_async(replies_sweep_orphans)()
    assert [m.pk for m in ended] == [stalled.pk]
    await collect_until(comm, log, all_ended([stalled.pk]))
    stalled = await Message.objects.aget(pk=stalled.pk)
    assert (stalled.status, stalled.error_code, stalled.content) == (ReplyStatus.ERROR, "orphaned", "Hello")
    assert log.ended[stalled.pk]["content"] == "Hello"
    assert (await Message.objects.aget(pk=fresh.pk)).status == ReplyStatus.STREAMING
    await comm.disconnect()


def test_a_reply_can_be_claimed_only_once(user):
    conversation = conversation_create(owner=user)
    reply = make_turn(conversation, status=ReplyStatus.PENDING)
    assert reply_start(reply_id=reply.pk) is not None
    assert reply_start(reply_id=reply.pk) is None


def test_one_stale_reply_that_cannot_be_ended_does_not_stop_the_sweep_ending_the_others(
        user, settings, monkeypatch, caplog):
    from chat.services import replies

    settings.WEBOX_REPLY_STALE_SECONDS = 30
    conversation = conversation_create(owner=user)
    first, bad, last = (make_turn(conversation, status=ReplyStatus.STREAMING, content=text, updated_ago=120)
                        for text in ("one", "two", "three"))
    real_usage_fields = replies.usage_fields

    def usage_fields(*, reply, **kwargs):
        if reply.pk == bad.pk:
            raise ValueError("a price row this reply alone trips over")
        return real_usage_fields(reply=reply, **kwargs)

    monkeypatch.setattr(replies, "usage_fields", usage_fields)
    ended = replies_sweep_orphans()
    assert sorted(m.pk for m in ended) == [first.pk, last.pk]
    statuses = dict(Message.objects.filter(pk__in=[first.pk, bad.pk, last.pk]).values_list("pk", "status"))
    assert statuses == {first.pk: ReplyStatus.ERROR, bad.pk: ReplyStatus.STREAMING, last.pk: ReplyStatus.ERROR}
    assert f"could not end stale reply {bad.pk}" in caplog.text
    # Left for the next sweep, which ends it once whatever tripped it is fixed.
    monkeypatch.setattr(replies, "usage_fields", real_usage_fields)
    assert [m.pk for m in replies_sweep_orphans()] == [bad.pk]


async def test_a_reply_whose_last_text_could_not_be_recorded_still_reaches_its_sockets_whole(
        user, settings, monkeypatch, publisher):
    # The final flush fails (Redis away): the end is stored with the whole text and a seq past the last
    # delta, so a socket that has every delta sees it lacks text and repairs before the end event.
    settings.WEBOX_FLUSH_INTERVAL_MS = 60_000  # no tick sends " world": only the final flush would
    conversation = await sync_to_async(conversation_create)(owner=user)
    pending = await sync_to_async(make_turn)(conversation, status=ReplyStatus.PENDING)
    reply = await sync_to_async(reply_start)(reply_id=pending.pk)
    comm, log = await open_socket(user, conversation.pk)
    stream = publisher.open(reply_id=reply.pk, conversation_id=conversation.pk, key=reply.stream_key)
    stream.append("Hello")  # a first text goes out at once
    await collect_until(comm, log, lambda lg: lg.text[reply.pk] == "Hello")

    async def redis_away(entries, watched):
        raise ConnectionError("redis away")

    monkeypatch.setattr(stream_store(), "record_flush", redis_away)
    stream.append(" world")
    final = await publisher.close(stream)
    await end_reply(reply, stream, Outcome(result=StreamResult("stop")), final, config=None, override=None)
    await collect_until(comm, log, all_ended([reply.pk]))

    stored = await Message.objects.aget(pk=reply.pk)
    assert (stored.status, stored.content, stored.seq) == (ReplyStatus.COMPLETE, "Hello world", 2)
    assert log.text[reply.pk] == "Hello world"
    assert log.ended[reply.pk]["seq"] == 2
    await comm.disconnect()
