"""The embedded server's start and stop: no reply says "Streaming" after the process that ran it is gone.

In the embedded default one daphne process calls the providers on its own loop, so it owns every
reply there is. When it stops (Ctrl-C, SIGTERM) it publishes and stores each streaming reply's
text so far and ends it as ``interrupted``; when it starts, it ends at once whatever a previous
process left behind (killed without a chance to do so, or stopped under the autoreloader), instead
of leaving it to the orphan sweep minutes later. With the Celery runner, or with the embedded runner
behind a Redis channel layer (where several daphne processes may each run their own replies),
other processes may own replies, so nothing here applies: the sweep ends a dead process's replies.

Both hooks hang on twisted's reactor, which runs only in a process that daphne serves (``daphne``
or ``manage.py runserver``); ``webox/asgi.py`` installs them through ``chat.streaming.routing``.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from django.conf import settings

from chat.services import replies_end_interrupted

from .db_threads import in_db_thread
from .publisher import get_publisher

logger = logging.getLogger(__name__)

STOPPED_DETAIL = "The server stopped while this reply was streaming; its text so far is kept."
LEFT_BEHIND_DETAIL = ("The server stopped while this reply was streaming; it was ended when the server "
                      "started again, with the text it had saved.")
# How long a stop may wait for the replies' last writes before the process goes anyway.
STOP_TIMEOUT_SECONDS = 10.0


def end_replies_with_server() -> bool:
    """Under daphne in the embedded default: end left-behind replies on start, and live ones on stop.

    True when the hooks were installed. Elsewhere (the test client, a management command, a Celery
    worker, a daphne that may share its replies' database with others) it does nothing.
    """
    if settings.WEBOX_RUNNER != "embedded" or settings.REDIS_URL:
        return False
    # daphne's server module installs the asyncio reactor when it is imported, before the
    # application loads; importing it here would install one in processes that serve nothing.
    if "daphne.server" not in sys.modules:
        return False
    from twisted.internet import reactor

    reactor.callWhenRunning(lambda: asyncio.ensure_future(end_left_behind()))
    reactor.addSystemEventTrigger("before", "shutdown", _before_shutdown)
    return True


def _before_shutdown():
    from twisted.internet.defer import Deferred

    # twisted waits for the Deferred a "before shutdown" trigger returns.
    return Deferred.fromFuture(asyncio.ensure_future(end_streaming_replies()))


async def end_left_behind() -> None:
    """End every reply still active in the database: no process of this server runs it any more."""
    try:
        ended = await in_db_thread(replies_end_interrupted)(detail=LEFT_BEHIND_DETAIL)
    except Exception:
        logger.exception("could not end the replies a previous server left behind")
        return
    if ended:
        logger.warning("ended %d replies that a previous server process left streaming", len(ended))


async def end_streaming_replies() -> None:
    """Stop this loop's streams, with their last text published, then end them all as interrupted."""
    try:
        await asyncio.wait_for(_end_streaming_replies(), STOP_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("could not end the streaming replies while stopping")


async def _end_streaming_replies() -> None:
    tasks = [stream.task for stream in get_publisher().streams.values() if stream.task is not None]
    for task in tasks:
        # The engine's answer to a cancel it did not ask for: publish and record the text so far
        # (chat/streaming/engine.py, _end_abandoned); the ending itself is stored below.
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    # Every active reply, with the text the stream store holds: also those claimed but not yet
    # streaming, and those still waiting for their claim.
    ended = await in_db_thread(replies_end_interrupted)(detail=STOPPED_DETAIL)
    if ended:
        logger.warning("server stopping: ended %d streaming replies as interrupted", len(ended))
