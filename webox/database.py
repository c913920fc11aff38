"""What "no database connection right now" looks like, for the REST handler and the middleware.

Apart from webox/api.py so that the middleware can use it without importing DRF's views (whose
import resolves the renderer classes that webox/api.py itself defines).
"""

import time

from django.db import OperationalError

# Seconds a client is told to wait when the database has no connection free, or its write lock stayed taken.
BUSY_RETRY_AFTER_SECONDS = 2
BUSY_DETAIL = ("The server is busy: the database could not take the request in time. "
               "Nothing was stored; try again shortly.")
# How long a reply's own writes (its claim, its end) keep trying while the database is busy: past
# this the reply is left to the orphan sweep. Longer than any burst the benchmarks have seen.
BUSY_WRITE_PATIENCE_SECONDS = 300.0


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "no database connection right now" (a retry later can succeed).

    Our pool waited ``DATABASE_POOL_TIMEOUT`` in vain, PostgreSQL itself refused a client because
    its ``max_connections`` were taken, or SQLite's write lock stayed taken for its whole timeout
    (``WEBOX_SQLITE_TIMEOUT``: hundreds of sends at once on the embedded default).
    """
    if not isinstance(exc, OperationalError):
        return False
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite-only installs
        PoolTimeout = ()  # noqa: N806
    text = str(exc)
    return (isinstance(exc.__cause__, PoolTimeout) or "too many clients" in text
            or "too many connections for role" in text or "remaining connection slots" in text
            or "database is locked" in text or "database table is locked" in text)


def retry_while_busy(write, *, patience: float | None = None):
    """``write()``, run again after a growing pause for as long as the database is busy.

    For a write that must not be lost to a burst (a reply's claim or its end): one statement in
    autocommit mode, which did nothing when it failed, so running it again is safe. Inside a
    transaction a failed statement has spoiled the transaction, so there it is not retried.
    """
    from django.db import connection

    deadline = time.monotonic() + (BUSY_WRITE_PATIENCE_SECONDS if patience is None else patience)
    pause = 0.05
    while True:
        try:
            return write()
        except OperationalError as exc:
            if connection.in_atomic_block or not database_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def release_pooled_connections() -> None:
    """Hand this thread's pooled database connections back to their pools now.

    Django hands them back when the request finishes, which under ASGI is after the response has
    been sent and its close scheduled on the event loop; a busy loop kept the connection checked
    out, idle, for most of a request's life. A connection inside a transaction is left alone, and
    one without a pool (SQLite, kept by its thread; PostgreSQL behind PgBouncer, closed after the
    request) keeps its usual lifetime.
    """
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
            connection.close()
