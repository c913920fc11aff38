"""Replies that end together record their last text in one flush, each getting back its own deltas."""

import asyncio
import uuid

import pytest

from chat.stream_store import stream_store
from chat.streaming.publisher import Publisher

CONVERSATION = 990_002


@pytest.fixture(autouse=True)
def no_ticks(settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 60_000


def open_reply(publisher: Publisher, reply_id: int):
    return publisher.open(reply_id=reply_id, conversation_id=CONVERSATION, key=f"{reply_id}:{uuid.uuid4().hex}")


async def test_replies_ending_in_one_turn_share_one_flush_and_each_gets_its_own_last_deltas(
        publisher, flushes):
    streams = [open_reply(publisher, reply_id) for reply_id in (1, 2, 3)]
    for stream in streams:
        stream.append("first")
    await asyncio.sleep(0.05)  # the first texts' own flush
    flushes.clear()
    streams[0].append(" end of one")
    streams[2].append(" end of three")
    finals = await asyncio.gather(*(publisher.close(stream) for stream in streams))
    assert [[entry.key for entry in flush.entries] for flush in flushes] == [[streams[0].key, streams[2].key]]
    assert finals == [[{"type": "message.delta", "message_id": 1, "seq": 2, "text": " end of one"}], [],
                      [{"type": "message.delta", "message_id": 3, "seq": 2, "text": " end of three"}]]
    assert publisher.streams == {}
    states = await stream_store().read([stream.key for stream in streams])
    assert [(states[s.key].text, states[s.key].seq) for s in streams] == [
        ("first end of one", 2), ("first", 1), ("first end of three", 2)]


async def test_a_reply_ending_while_a_flush_waits_goes_in_the_next_one(publisher, monkeypatch):
    first, second = open_reply(publisher, 1), open_reply(publisher, 2)
    first.append("a")
    second.append("b")
    await asyncio.sleep(0.05)
    store, calls, redis_answers = stream_store(), [], asyncio.Event()
    real = store.record_flush

    async def slow_redis(entries, watched):
        calls.append([entry.key for entry in entries])
        await redis_answers.wait()
        return await real(entries, watched)

    monkeypatch.setattr(store, "record_flush", slow_redis)
    first.append("c")
    closing_first = asyncio.ensure_future(publisher.close(first))
    while not calls:
        await asyncio.sleep(0)
    second.append("d")
    closing_second = asyncio.ensure_future(publisher.close(second))
    await asyncio.sleep(0.01)
    redis_answers.set()
    assert await closing_first == [{"type": "message.delta", "message_id": 1, "seq": 2, "text": "c"}]
    assert await closing_second == [{"type": "message.delta", "message_id": 2, "seq": 2, "text": "d"}]
    assert calls == [[first.key], [second.key]]


async def test_a_failed_final_flush_still_ends_the_reply_with_no_deltas(publisher, monkeypatch, caplog):
    stream = open_reply(publisher, 1)
    stream.append("a")
    await asyncio.sleep(0.05)

    async def redis_away(entries, watched):
        raise ConnectionError("redis away")

    monkeypatch.setattr(stream_store(), "record_flush", redis_away)
    stream.append("b")
    assert await publisher.close(stream) == []
    assert publisher.streams == {} and "final flush of reply 1 failed" in caplog.text
