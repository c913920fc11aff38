"""Where replies are generated: two runners, one orchestration loop (chat/engine.py).

- ``embedded``: on the event loop of the ASGI server (daphne) that took the request.
- ``celery``: a Celery task per reply, run on the worker process's long-lived loop.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Coroutine

from django.conf import settings

from .background import background_loop

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_tasks: set[asyncio.Task] = set()
_sweepers: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def start_replies(reply_ids: list[int]) -> None:
    if settings.WEBOX_RUNNER == "celery":
        from .tasks import generate_reply

        for reply_id in reply_ids:
            generate_reply.delay(reply_id)
        return
    from .engine import generate_reply

    loop = _embedded_loop()
    for reply_id in reply_ids:
        spawn(loop, generate_reply(reply_id))


def spawn(loop: asyncio.AbstractEventLoop, coro: Coroutine) -> None:
    """Start ``coro`` as a task on ``loop`` from any thread, keeping a reference until it ends."""

    def create() -> None:
        task = loop.create_task(coro)
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    loop.call_soon_threadsafe(create)


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop of the ASGI server this process is, if it is one."""
    if _server_loop is not None and _server_loop.is_running() and not _server_loop.is_closed():
        return _server_loop
    return None


def _embedded_loop() -> asyncio.AbstractEventLoop:
    return server_loop() or background_loop()


def remember_server_loop(app):
    """ASGI wrapper: note the server's loop, and start the embedded orphan sweep on it."""

    async def wrapper(scope, receive, send):
        global _server_loop
        loop = asyncio.get_running_loop()
        if loop is not _server_loop:
            _server_loop = loop
            if settings.WEBOX_RUNNER == "embedded" and loop not in _sweepers:
                _sweepers.add(loop)
                spawn(loop, _sweep_forever())
        return await app(scope, receive, send)

    return wrapper


async def _sweep_forever() -> None:
    from chat.services import replies_sweep_orphans

    from .db import db

    while True:
        await asyncio.sleep(settings.WEBOX_SWEEP_INTERVAL_SECONDS)
        try:
            await db(replies_sweep_orphans)()
        except Exception:
            logger.exception("orphan sweep failed")
