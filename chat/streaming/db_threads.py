"""Database calls from the streaming loops: in one bounded thread pool, each connection handed back.

Hundreds of streams share one event loop, so their database work runs in threads. A thread that
kept its connection would hold one of the process's pooled PostgreSQL connections for good, so
every call returns it to the pool when it ends (with SQLite, each thread keeps its own file
connection: cheap, and bounded by the threads). The threads are as many as the pool's connections:
more would only wait for one inside the pool.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from webox.database import release_pooled_connections

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            pooled = connection.settings_dict.get("OPTIONS", {}).get("pool")
            size = settings.DATABASE_POOL_MAX if pooled else 8
            _executor = ThreadPoolExecutor(max_workers=max(size, 1), thread_name_prefix="webox-db")
        return _executor


def in_db_thread(func):
    """``await in_db_thread(func)(...)``: run ``func`` in a database thread, then give the connection back."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            release_pooled_connections()

    return sync_to_async(call, thread_sensitive=False, executor=_pool())
