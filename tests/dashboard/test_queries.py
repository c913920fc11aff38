"""Every dashboard view and endpoint runs a fixed number of queries, however much data there is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import client_for, reply

pytestmark = pytest.mark.django_db

REQUESTS = [("/dashboard/", {"days": 90, "scope": "site"}), ("/dashboard/models.csv", {"scope": "site"}),
            ("/dashboard/daily.csv", {"scope": "site"}), ("/api/dashboard/summary", {"scope": "site"}),
            ("/api/dashboard/models", {"scope": "site"}), ("/api/dashboard/daily", {"scope": "site"}),
            ("/api/dashboard/users", {})]


def counts(client):
    out = {}
    for path, params in REQUESTS:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, params).status_code == 200
        out[path] = len(ctx.captured_queries)
    return out


def test_query_count_does_not_grow_with_replies_users_models_or_days(staff, make_user):
    client = client_for(staff)
    first_user = make_user("u0")
    reply(first_user, "p0", "m0", "complete", 0, ttft=10, dur=20, p=1, c=1)
    small = counts(client)
    for n in range(1, 6):
        someone = make_user(f"u{n}")
        for d in range(0, 60, 7):
            reply(someone, f"p{n}", f"m{n}", "error" if d % 2 else "complete", d, ttft=10 + d, dur=100 + n, p=n, c=d,
                  code="timeout" if d % 2 else "")
    assert counts(client) == small
