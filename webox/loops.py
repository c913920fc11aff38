"""The event loops of this process: the ASGI server's, and one long-lived loop on a daemon thread.

Celery workers run every stream of the process on the long-lived loop (one Redis connection pool,
one channel layer connection, instead of a new loop and connection per call), and the embedded
runner falls back to it when no ASGI server loop is running (management commands, the test
client). Under daphne, ``chat.streaming.asgi_app`` notes the server's loop here on its first
connection, so synchronous code can hand work to it (``chat.events.publish_from_sync``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid: int | None = None
_server_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _pid
    with _lock:
        # A forked child (prefork pool) inherits a loop whose thread did not survive the fork.
        if _loop is None or _pid != os.getpid() or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            _pid = os.getpid()
            threading.Thread(target=_loop.run_forever, name="webox-loop", daemon=True).start()
        return _loop


def run_in_background(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on the process's loop and wait for it (from a worker thread)."""
    return asyncio.run_coroutine_threadsafe(coro, background_loop()).result()


def note_server_loop(loop: asyncio.AbstractEventLoop) -> bool:
    """Remember the ASGI server's running loop; True if it was not the one remembered already."""
    global _server_loop
    if loop is _server_loop:
        return False
    _server_loop = loop
    return True


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The running loop of the ASGI server this process is, if it is one."""
    if _server_loop is not None and _server_loop.is_running() and not _server_loop.is_closed():
        return _server_loop
    return None
