"""Database connections under a burst: bounded by the pool, and a 503 (never a 500) past it.

Real daphne against the test's PostgreSQL database (skipped on SQLite unless
WEBOX_REQUIRE_SERVICES=1). Replies run on daphne's own loop with the demo provider, so the
engine's connections count against the same bound as the requests'.
"""

import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from chat.models import Conversation, Message, Role
from testing.processes import child_env, database_url, start_daphne

postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
if not postgres and os.environ.get("WEBOX_REQUIRE_SERVICES") == "1":
    raise RuntimeError("WEBOX_REQUIRE_SERVICES=1 but DATABASE_URL (PostgreSQL) is not set")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not postgres, reason="needs DATABASE_URL (PostgreSQL)"),
]


class ConnectionCounter:
    """Samples how many connections the server holds, by their application_name, until stopped."""

    def __init__(self, application_name: str):
        self.application_name = application_name
        self.most = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        s = connection.settings_dict
        with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                             password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True) as conn:
            while not self._stop.is_set():
                count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                                     [self.application_name]).fetchone()[0]
                self.most = max(self.most, count)
                self.samples += 1
                time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def burst_server(tmp_path, **env):
    name = f"webox-burst-{uuid.uuid4().hex[:8]}"
    # One user sends the whole burst: the per-user send throttle and active-reply cap (tested in
    # tests/chat/test_limits.py) are off, so only the database pool can refuse a request.
    process, port = start_daphne(tmp_path, child_env(DATABASE_URL=f"{database_url()}?application_name={name}",
                                                     WEBOX_RUNNER="embedded", WEBOX_DEMO_DELAY_MS="1",
                                                     WEBOX_SEND_RATE="0/60", WEBOX_MAX_ACTIVE_REPLIES="0", **env))
    return process, port, name


def call(port: int, token: str, method: str, path: str, body: dict | None = None):
    """(status, JSON body, Retry-After) of one request."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), response.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw.decode(errors="replace")
        return exc.code, data, exc.headers.get("Retry-After")


def burst(port: int, token: str, requests: int):
    def one(i):
        if i % 2:
            return "list", call(port, token, "GET", "/api/chat/conversations")
        return "send", call(port, token, "POST", "/api/chat/send",
                            {"message": f"burst {i}", "selected_providers": ["demo"]})

    with ThreadPoolExecutor(max_workers=requests) as pool:
        return list(pool.map(one, range(requests)))


def wait_for_replies(expected: int, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Message.objects.filter(role=Role.ASSISTANT, status="complete").count() >= expected:
            return
        time.sleep(0.1)


def test_a_burst_of_requests_holds_no_more_connections_than_the_pool(tmp_path, user):
    process, port, name = burst_server(tmp_path, DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="4",
                                       DATABASE_POOL_TIMEOUT="30")
    token = str(RefreshToken.for_user(user).access_token)
    try:
        with ConnectionCounter(name) as counter:
            results = burst(port, token, 80)
            wait_for_replies(40)
        output = process.output()
    finally:
        process.stop()
    statuses = [status for _, (status, _, _) in results]
    assert statuses.count(500) == 0, output[-3000:]
    # A pool timeout of 30 s is far longer than the burst: every request waited its turn and succeeded.
    assert sorted(set(statuses)) == [200, 202], statuses
    assert counter.samples > 10
    assert 1 <= counter.most <= 4, counter.most
    sent = sum(1 for kind, _ in results if kind == "send")
    assert Message.objects.filter(role=Role.USER).count() == sent
    assert Message.objects.filter(role=Role.ASSISTANT, status="complete").count() == sent


def test_past_the_pool_a_request_gets_503_with_retry_after_and_nothing_is_stored(tmp_path, user):
    process, port, name = burst_server(tmp_path, DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="1",
                                       DATABASE_POOL_TIMEOUT="0.02")
    token = str(RefreshToken.for_user(user).access_token)
    try:
        with ConnectionCounter(name) as counter:
            results = burst(port, token, 60)
        output = process.output()
    finally:
        process.stop()
    statuses = [status for _, (status, _, _) in results]
    assert statuses.count(500) == 0, output[-3000:]
    assert set(statuses) <= {200, 202, 503}, statuses
    refused = [(data, retry_after) for _, (status, data, retry_after) in results if status == 503]
    assert refused, "a pool of one connection with a 20 ms wait should have refused some of 60 requests"
    for data, retry_after in refused:
        assert "busy" in data["detail"]
        assert int(retry_after) > 0
    assert counter.most <= 1
    accepted = [data for kind, (status, data, _) in results if kind == "send" and status == 202]
    # Every accepted send is stored whole; a refused one left nothing behind.
    assert Message.objects.filter(role=Role.USER).count() == len(accepted)
    assert Conversation.objects.count() == len(accepted)
    assert {c["conversation"]["id"] for c in accepted} == set(Conversation.objects.values_list("pk", flat=True))
