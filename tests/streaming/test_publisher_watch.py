"""How often the publisher's ticks read the cancel flags: with every flush that records text (in the same
round trip), and with nothing to record only once per widest flush interval; either way a cancel stops
the reply."""

import asyncio
import itertools
import time
import uuid

import pytest

from chat.stream_store import stream_store
from chat.streaming.publisher import Publisher

CONVERSATION = 990_003


@pytest.fixture(autouse=True)
def fast_ticks(settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 20
    settings.WEBOX_MAX_FLUSH_INTERVAL_MS = 100


def open_reply(publisher: Publisher, reply_id: int):
    return publisher.open(reply_id=reply_id, conversation_id=CONVERSATION, key=f"{reply_id}:{uuid.uuid4().hex}")


async def test_ticks_with_nothing_to_record_read_the_cancel_flags_once_per_widest_interval(publisher, flushes):
    stream = open_reply(publisher, 1)
    await asyncio.sleep(0.55)  # about 27 ticks of 20 ms
    await publisher.close(stream)
    watches = [at for entries, watched, at in flushes if watched]
    assert 3 <= len(watches) <= 7
    assert all(later - earlier >= 0.09 for earlier, later in itertools.pairwise(watches))  # 100 ms, less half a tick
    assert all(not entries for entries, watched, _ in flushes if watched)


async def test_every_tick_that_records_text_also_reads_the_cancel_flags(publisher, flushes):
    writing, waiting = open_reply(publisher, 1), open_reply(publisher, 2)
    writing.append("first")
    await asyncio.sleep(0.01)
    flushes.clear()
    for _ in range(10):
        writing.append(" more")
        await asyncio.sleep(0.025)
    ticks = [(len(entries), len(watched)) for entries, watched, _ in flushes]
    assert len(ticks) >= 5
    assert all(watched == 2 for entries, watched in ticks if entries)
    await asyncio.gather(publisher.close(writing), publisher.close(waiting))


async def test_a_cancel_stops_a_waiting_reply_within_the_widest_interval(publisher):
    async def waiting_reply():
        stream = open_reply(publisher, 3)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return stream, time.monotonic()
        return stream, None

    task = asyncio.create_task(waiting_reply())
    await asyncio.sleep(0.3)
    stream = publisher.streams[3]
    asked = time.monotonic()
    await asyncio.to_thread(stream_store().request_cancel, [stream.key])
    stream, stopped = await asyncio.wait_for(task, 2)
    assert stopped is not None and stream.cancel_requested
    assert stopped - asked < 0.1 + 0.1  # the widest interval, and a loaded machine's slack
    await publisher.close(stream)


@pytest.fixture
def ticks(publisher, monkeypatch):
    """When each of the publisher's periodic ticks ran (its flushes of everything)."""
    at, real = [], publisher.flush

    async def counted(only=None, publish=True):
        if only is None:
            at.append(time.monotonic())
        return await real(only, publish)

    monkeypatch.setattr(publisher, "flush", counted)
    return at


async def test_while_every_reply_waits_for_its_first_text_the_publisher_wakes_once_per_widest_interval(
        publisher, ticks):
    stream = open_reply(publisher, 4)
    await asyncio.sleep(0.55)  # 27 ticks of 20 ms; 5 of 100 ms
    assert 3 <= len(ticks) <= 7
    await publisher.close(stream)


async def test_after_a_first_text_ticks_come_again_at_the_base_interval(publisher, ticks, flushes):
    stream = open_reply(publisher, 5)
    await asyncio.sleep(0.15)  # halfway through a wait of the widest interval (from 120 ms to 220 ms)
    stream.append("first")
    await asyncio.sleep(0.005)
    flushes.clear()
    stream.append(" more")
    appended = time.monotonic()
    await asyncio.sleep(0.08)
    recorded = [at for entries, _, at in flushes if entries]
    assert recorded and recorded[0] - appended < 0.045  # a 20 ms tick, not the rest of the wait
    ticks.clear()
    await asyncio.sleep(0.2)
    assert len(ticks) >= 7  # 200 ms at 20 ms
    await publisher.close(stream)
