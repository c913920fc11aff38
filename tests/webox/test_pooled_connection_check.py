"""A pooled PostgreSQL connection is checked out without a round trip, and never handed out dead.

The pool's check (webox/postgresql/base.py) asks the server only when its socket has something to
read: what a restart or a terminated backend leaves behind. Skipped on SQLite.
"""

import os
import threading
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from webox.database import release_pooled_connections
from webox.postgresql.base import check_pooled_connection

postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
if not postgres and os.environ.get("WEBOX_REQUIRE_SERVICES") == "1":
    raise RuntimeError("WEBOX_REQUIRE_SERVICES=1 but DATABASE_URL (PostgreSQL) is not set")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not postgres, reason="needs DATABASE_URL (PostgreSQL)"),
]


def connect(**kwargs) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                           password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True, **kwargs)


def in_thread(func):
    """``func()`` on a thread of its own, its pooled connection handed back after, as a database thread does."""
    result = {}

    def run():
        try:
            result["value"] = func()
        except BaseException as exc:  # handed to the test below
            result["error"] = exc
        finally:
            release_pooled_connections()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if "error" in result:
        raise result["error"]
    return result["value"]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_checking_an_idle_healthy_connection_asks_the_server_nothing():
    with connect(application_name="webox-check-idle") as checked, connect() as observer:
        checked.execute("SELECT 41 + 1")
        check_pooled_connection(checked)
        # A round trip would have made the empty statement the backend's latest query.
        [(query,)] = observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s",
                                      [checked.info.backend_pid]).fetchall()
        assert query == "SELECT 41 + 1"


def test_a_connection_whose_backend_was_ended_fails_the_check():
    with connect() as checked, connect() as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [checked.info.backend_pid])
        wait_until_gone(killer, [checked.info.backend_pid])
        with pytest.raises(psycopg.OperationalError):
            check_pooled_connection(checked)


def test_after_the_pooled_backends_are_ended_the_next_checkout_gets_a_working_connection():
    before = {in_thread(backend_pid) for _ in range(3)}
    keep = backend_pid()  # the test's own connection, which pytest-django needs afterwards
    with connect() as killer:
        ended = [pid for (pid,) in killer.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid NOT IN (%s, %s)",
            [keep, killer.info.backend_pid]).fetchall()]
        assert before - {keep} <= set(ended)
        for pid in ended:
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        wait_until_gone(killer, ended)
    # What a PostgreSQL restart does to every idle connection of the pool: none of them is handed out.
    after = [in_thread(backend_pid) for _ in range(3)]
    assert not set(after) & set(ended)


def wait_until_gone(conn: psycopg.Connection, pids: list[int]) -> None:
    deadline = time.monotonic() + 10
    while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]).fetchone()[0]:
        assert time.monotonic() < deadline, "the backends did not end"
        time.sleep(0.02)
