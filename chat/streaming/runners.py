"""Where replies are generated: two runners, one orchestration loop (chat/streaming/engine.py).

- ``embedded``: on the event loop of the ASGI server (daphne) that took the request.
- ``celery``: a Celery task per reply, run on the worker process's long-lived loop.

``start_replies`` listens to ``chat.hooks.replies_stored`` (connected by ``chat.streaming.listen``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Coroutine

from django.conf import settings

from chat.attachments.services import attachments_sweep
from chat.providers.registry import warm_sdks
from chat.services import replies_sweep_orphans
from webox.loops import background_loop, note_server_loop, server_loop

from . import tasks
from .db_threads import in_db_thread
from .engine import generate_reply

logger = logging.getLogger(__name__)

_tasks: set[asyncio.Task] = set()
_sweepers: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def start_replies(reply_ids: list[int]) -> None:
    if settings.WEBOX_RUNNER == "celery":
        for reply_id in reply_ids:
            tasks.generate_reply.delay(reply_id)
        return
    loop = server_loop() or background_loop()
    for reply_id in reply_ids:
        spawn(loop, generate_reply(reply_id))


def on_replies_stored(sender, *, reply_ids: list[int], **kwargs) -> None:
    """The receiver of ``chat.hooks.replies_stored``."""
    start_replies(reply_ids)


def spawn(loop: asyncio.AbstractEventLoop, coro: Coroutine) -> None:
    """Start ``coro`` as a task on ``loop`` from any thread, keeping a reference until it ends."""

    def create() -> None:
        task = loop.create_task(coro)
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)

    loop.call_soon_threadsafe(create)


def remember_server_loop(app):
    """ASGI wrapper: note the server's loop, and start the embedded orphan sweep on it."""

    async def wrapper(scope, receive, send):
        loop = asyncio.get_running_loop()
        if note_server_loop(loop) and settings.WEBOX_RUNNER == "embedded" and loop not in _sweepers:
            _sweepers.add(loop)
            spawn(loop, _sweep_forever())
            # This server calls the providers: their SDKs' first call, off the loop, before a reply's.
            loop.run_in_executor(None, warm_sdks)
        return await app(scope, receive, send)

    return wrapper


async def _sweep_forever() -> None:
    while True:
        await asyncio.sleep(settings.WEBOX_SWEEP_INTERVAL_SECONDS)
        try:
            await in_db_thread(replies_sweep_orphans)()
            await in_db_thread(attachments_sweep)()
        except Exception:
            logger.exception("orphan sweep failed")
