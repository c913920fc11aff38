"""The embedded default's SQLite backend (webox/sqlite/base.py): under DEBUG a statement is run alone and
kept in no log; a test that counts statements still sees them."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default's backend"),
]


def statements_sqlite_ran(action) -> list[str]:
    connection.ensure_connection()
    ran = []
    connection.connection.set_trace_callback(ran.append)
    try:
        action()
    finally:
        connection.connection.set_trace_callback(None)
    return ran


def test_under_debug_a_statement_runs_alone_and_is_kept_in_no_log(settings):
    settings.DEBUG = True
    connection.queries_log.clear()

    ran = statements_sqlite_ran(lambda: get_user_model().objects.filter(username="nobody").exists())

    # Django's debug cursor followed each statement with a SELECT QUOTE(?) of its parameters for its log.
    assert len(ran) == 1 and ran[0].startswith("SELECT") and "QUOTE(" not in ran[0]
    assert connection.queries == []


def test_a_test_that_counts_statements_still_sees_them(settings):
    settings.DEBUG = True
    with CaptureQueriesContext(connection) as captured:
        get_user_model().objects.filter(username="nobody").exists()
    assert len(captured.captured_queries) == 1
    assert "nobody" in captured.captured_queries[0]["sql"]
