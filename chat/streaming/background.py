"""One long-lived event loop per process, on a daemon thread.

Celery workers run every stream of the process on it (one Redis connection pool, one channel
layer connection, instead of a new loop and connection per call), and the embedded runner falls
back to it when no ASGI server loop is running (management commands, the test client).
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
