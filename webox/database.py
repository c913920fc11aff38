"""What "no database connection right now" looks like, for the REST handler and the middleware.

Apart from webox/api.py so that the middleware can use it without importing DRF's views (whose
import resolves the renderer classes that webox/api.py itself defines).
"""

from django.db import OperationalError

# Seconds a client is told to wait when the database has no connection free.
BUSY_RETRY_AFTER_SECONDS = 2
BUSY_DETAIL = "The server is busy: no database connection was free in time. Nothing was stored; try again shortly."


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "no database connection right now" (a retry later can succeed).

    Our pool waited ``DATABASE_POOL_TIMEOUT`` in vain, or PostgreSQL itself refused a client
    because its ``max_connections`` were taken.
    """
    if not isinstance(exc, OperationalError):
        return False
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # SQLite-only installs
        PoolTimeout = ()  # noqa: N806
    text = str(exc)
    return (isinstance(exc.__cause__, PoolTimeout) or "too many clients" in text
            or "too many connections for role" in text or "remaining connection slots" in text)


def release_pooled_connections() -> None:
    """Hand this thread's pooled database connections back to their pools now.

    Django hands them back when the request finishes, which under ASGI is after the response has
    been sent and its close scheduled on the event loop; a busy loop kept the connection checked
    out, idle, for most of a request's life. A connection inside a transaction is left alone, and
    one without a pool (SQLite, or PostgreSQL behind PgBouncer) keeps its usual lifetime.
    """
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
            connection.close()
