"""The embedded default keeps one SQLite connection per thread (webox/database_settings.py): a request
does not open, set up and close its own, which cost about a tenth of the server's CPU under a burst."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created

from webox.http_handler import get_asgi_application

from .test_http_handler import get

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's connections are pooled, not kept"),
]


@pytest.mark.asyncio
async def test_requests_one_after_another_reuse_their_threads_sqlite_connection():
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(connection)

    connection_created.connect(count)
    try:
        app = get_asgi_application()
        for _ in range(30):
            status, _, _ = await get(app, "/healthz/ready")  # reads the database
            assert status == 200
    finally:
        connection_created.disconnect(count)

    # At most one per kept request thread (sequential requests mostly reuse one), not one per request.
    assert 1 <= len(opened) <= settings.WEBOX_REQUEST_THREADS < 30
