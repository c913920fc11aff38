"""Django's PostgreSQL backend, whose pool checks a connection without a round trip when it can.

Django's pool (``CONN_HEALTH_CHECKS``) runs an empty statement on every checkout. The streaming
engine checks a connection out for each step of each reply (webox/database.py,
``release_pooled_connections``): that round trip was a twelfth of a Celery worker's busy time.
``check_pooled_connection`` asks the server only when it may have said something: a server that
restarts, or ends a backend, sends an error and closes the socket, which makes it readable.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import OperationalError
from psycopg_pool import ConnectionPool


def check_pooled_connection(conn) -> None:
    """Raise when ``conn`` cannot be used; the pool then drops it and hands out another.

    An idle connection's socket has nothing to read unless the server wrote to it: an error before
    closing (a restart, ``pg_terminate_backend``, an idle timeout) or a notice. Only then is the
    server asked, with the pool's own check, which consumes a notice and fails on a closed socket.
    """
    if conn.closed or conn.broken:
        raise OperationalError("the connection is closed")
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # psycopg_pool takes its check only when it is built, and Django builds it with its own.
        if pool is not None and getattr(pool, "_check", None) is ConnectionPool.check_connection:
            pool._check = check_pooled_connection
        return pool
