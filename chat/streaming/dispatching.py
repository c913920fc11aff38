"""A socket consumer's two sources, its client's frames and its layer messages, dispatched one at a time
without a task per message.

channels' ``await_many_dispatch`` makes a new task for every message a source yields and waits on
both sources with ``asyncio.wait`` (a callback added to and removed from each task, a waiter future):
for a layer message, one per flush per socket, that was a task made, two wake-ups and the wait's
bookkeeping. Here each source is read by one task for the socket's life, which dispatches what it
got under a lock: handlers still run one at a time, and a source is read again only once its last
message was handled, as in channels.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

Receive = Callable[[], Awaitable[dict]]


async def serve(consumer, scope, receive: Receive, send) -> None:
    """What channels' ``AsyncConsumer.__call__`` does, with ``dispatch_each`` for its dispatch loop."""
    consumer.scope = scope
    consumer.channel_layer = get_channel_layer(consumer.channel_layer_alias)
    sources = [receive]
    if consumer.channel_layer is not None:
        consumer.channel_name = await consumer.channel_layer.new_channel()
        consumer.channel_receive = functools.partial(consumer.channel_layer.receive, consumer.channel_name)
        sources.append(consumer.channel_receive)
    consumer.base_send = send
    try:
        await dispatch_each(sources, consumer.dispatch)
    except StopConsumer:
        pass


async def dispatch_each(sources: list[Receive], dispatch: Callable[[dict], Awaitable[None]]) -> None:
    """Hand every message of every source to ``dispatch``, one at a time, until a dispatch raises.

    Raises what the dispatch raised (channels' ``StopConsumer`` when the socket has closed); every
    source's read is cancelled first, as channels cancels its tasks (a layer's receive then leaves
    its groups' subscriptions).
    """
    one_at_a_time = asyncio.Lock()
    stopped = False

    async def read(source: Receive) -> None:
        nonlocal stopped
        while True:
            message = await source()
            async with one_at_a_time:
                if stopped:  # the other source's last dispatch raised: as in channels, nothing more is handled
                    return
                try:
                    await dispatch(message)
                except BaseException:
                    stopped = True
                    raise

    readers = [asyncio.ensure_future(read(source)) for source in sources]
    try:
        done, _ = await asyncio.wait(readers, return_when=asyncio.FIRST_EXCEPTION)
        for reader in done:
            reader.result()
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
