"""A consumer's message loop (chat/streaming/dispatch_loop.py): every message handled, one at a time,
a source's failure raised, and no reader left behind."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from chat.streaming.dispatch_loop import dispatch_in_turn


class Source:
    """A receive callable fed by the test; records whether a pending receive was cancelled."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.cancelled = False

    async def __call__(self):
        try:
            item = await self.queue.get()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if isinstance(item, BaseException):
            raise item
        return item


async def test_every_message_of_each_source_is_handled_in_its_order_and_one_at_a_time():
    frames, layer = Source(), Source()
    handled, running = [], []

    async def dispatch(message):
        running.append(message)
        assert len(running) == 1, "two handlers ran at once"
        await asyncio.sleep(0.001)  # a handler that waits: the readers go on meanwhile
        handled.append(message)
        running.remove(message)
        if message == "stop":
            raise StopConsumer

    for n in range(20):
        layer.queue.put_nowait(f"layer {n}")
    for n in range(5):
        frames.queue.put_nowait(f"frame {n}")
    loop = asyncio.create_task(dispatch_in_turn([frames, layer], dispatch))
    await asyncio.sleep(0.2)
    frames.queue.put_nowait("stop")

    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 5)
    assert [m for m in handled if m.startswith("layer")] == [f"layer {n}" for n in range(20)]
    assert [m for m in handled if m.startswith("frame")] == [f"frame {n}" for n in range(5)]
    assert handled[-1] == "stop"
    # The layer's reader was waiting for its next message: cancelled, as channels cancels its tasks.
    assert layer.cancelled


async def test_a_sources_failure_ends_the_loop_with_it_and_cancels_the_other_reader():
    frames, layer = Source(), Source()
    handled = []

    async def dispatch(message):
        handled.append(message)

    layer.queue.put_nowait("before")
    layer.queue.put_nowait(RuntimeError("the layer failed"))

    with pytest.raises(RuntimeError, match="the layer failed"):
        await asyncio.wait_for(dispatch_in_turn([frames, layer], dispatch), 5)
    assert handled == ["before"]
    assert frames.cancelled


async def test_cancelling_the_loop_cancels_its_readers():
    frames, layer = Source(), Source()

    async def dispatch(message):
        pass

    loop = asyncio.create_task(dispatch_in_turn([frames, layer], dispatch))
    await asyncio.sleep(0.01)
    loop.cancel()

    with pytest.raises(asyncio.CancelledError):
        await loop
    assert frames.cancelled and layer.cancelled


async def test_a_reader_takes_at_most_one_message_ahead_of_a_busy_handler():
    layer = Source()
    release = asyncio.Event()

    async def dispatch(message):
        await release.wait()

    for n in range(10):
        layer.queue.put_nowait(n)
    loop = asyncio.create_task(dispatch_in_turn([layer], dispatch))
    await asyncio.sleep(0.05)

    # One being handled, one in the one-place inbox, one held by the reader: the rest still in the source.
    assert layer.queue.qsize() == 7
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
