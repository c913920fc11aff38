"""Django's SQLite backend, which records statements only where asked, not for every one under DEBUG.

The embedded default runs with ``DJANGO_DEBUG`` on. Django then passes every statement through its
debug cursor, which keeps its SQL in the connection's query log and, on SQLite, runs a second
statement (``SELECT QUOTE(?), …``) to quote the parameters of the first for that log: 4–5 % of the
embedded server's CPU while it streams (py-spy, docs/performance.md). The log of a database thread
is never reset (only a request's start resets its own), so it also held up to 9,000 statements a
thread. Tests that count statements (``CaptureQueriesContext``, ``assertNumQueries``) ask for the
debug cursor themselves (``force_debug_cursor``) and still get it.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def queries_logged(self) -> bool:
        return self.force_debug_cursor
