"""A consumer's message loop: channels' ``await_many_dispatch`` with one reader task per source.

channels waits on its sources (the client's frames and the channel layer) with ``asyncio.wait`` and
starts a new task for the next message of a source each time one arrives: per layer message (one per
flush per socket, the largest share of daphne's loop under load) a task made and run, a waiter and
two done-callbacks. Here each source has one reader for the socket's life, which hands what it
receives over a one-place queue; the loop takes them in turn and awaits ``dispatch`` for each, so
handlers still run one at a time, and each source still has at most one message taken and not yet
handled beyond the one in the queue. A source's exception ends the loop with it; the readers are
cancelled when it ends (as channels cancels its tasks: the layer's ``receive`` cleans up then).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def dispatch_in_turn(sources: list[Callable[[], Awaitable]], dispatch: Callable[[dict], Awaitable]) -> None:
    inbox: asyncio.Queue = asyncio.Queue(maxsize=1)

    async def read(source) -> None:
        while True:
            try:
                message = await source()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # the loop raises it, as channels' task.result() would
                await inbox.put((None, exc))
                return
            await inbox.put((message, None))

    loop = asyncio.get_running_loop()
    readers = [loop.create_task(read(source)) for source in sources]
    try:
        while True:
            message, failure = await inbox.get()
            if failure is not None:
                raise failure
            await dispatch(message)
    finally:
        for reader in readers:
            reader.cancel()
        for reader in readers:
            try:
                await reader
            except asyncio.CancelledError:
                pass
