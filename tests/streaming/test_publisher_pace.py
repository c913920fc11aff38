"""The publisher's pace (``Publisher.pace``): a reply reads its provider at once until its first text, then
at the next periodic flush, which takes what the woken streams read in that same flush."""

import asyncio
import uuid

import pytest

CONVERSATION = 990_003


@pytest.fixture(autouse=True)
def ticks(settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 50
    settings.WEBOX_MAX_FLUSH_INTERVAL_MS = 150


def open_reply(publisher, reply_id: int):
    return publisher.open(reply_id=reply_id, conversation_id=CONVERSATION, key=f"{reply_id}:{uuid.uuid4().hex}")


async def test_a_reply_reads_at_once_until_its_first_text_then_at_the_next_tick(publisher):
    stream = open_reply(publisher, 1)
    pace = publisher.pace(stream)
    assert pace() is None

    stream.append("first")
    waiting = pace()
    assert not waiting.done()
    await asyncio.wait_for(waiting, timeout=1)  # the next tick wakes it


async def test_what_a_woken_stream_reads_goes_out_in_the_flush_that_woke_it(publisher, flushes):
    stream = open_reply(publisher, 1)
    stream.append("first")
    await asyncio.sleep(0.02)  # the first text's own flush

    async with asyncio.timeout(1):
        await publisher.pace(stream)()  # awaited as a stream's task awaits it: woken in the tick's first turn
    stream.append(" read after the wake")  # as the stream's task does, before the flush goes on
    await asyncio.sleep(0.01)  # far less than the 50 ms to the next tick

    assert [entry.chunk for entry in flushes[-1].entries] == [" read after the wake"]


async def test_a_cancelled_wait_leaves_the_other_streams_waiting_for_the_tick(publisher):
    first, second = open_reply(publisher, 1), open_reply(publisher, 2)
    first.append("a")
    second.append("b")

    async def read_at_the_next_tick(stream):
        await publisher.pace(stream)()

    cancelled = asyncio.create_task(read_at_the_next_tick(first))
    waiting = asyncio.create_task(read_at_the_next_tick(second))
    await asyncio.sleep(0)
    cancelled.cancel()  # cancels the future its task awaits: the other stream's must not be that one
    await asyncio.wait([waiting], timeout=1)

    assert cancelled.cancelled()
    assert waiting.done() and not waiting.cancelled()
