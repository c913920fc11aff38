"""The ASGI handler for HTTP (webox/http_handler.py): a request's middleware and view run in one
thread hop, and a pooled database connection goes back as soon as the response is built."""

from __future__ import annotations

import sys
import threading

import asgiref.sync
import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import connection
from django.test import RequestFactory
from rest_framework_simplejwt.tokens import AccessToken

from testing.asgi import asgi_response
from webox.http_handler import OneHopASGIHandler

postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def http_scope(path: str, headers: list[tuple[bytes, bytes]] = ()) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 1234),
            "server": ("localhost", 80)}


async def get(app, path: str, headers=()) -> tuple[int, dict[bytes, bytes], bytes]:
    communicator = ApplicationCommunicator(app, http_scope(path, headers))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    body = await communicator.receive_output(10)
    await communicator.wait(10)
    return start["status"], {name.lower(): value for name, value in start["headers"]}, body["body"]


@pytest.fixture
def hops(monkeypatch):
    """Counts every switch between the event loop and a thread (asgiref's two adapters)."""
    counted = {"to thread": 0, "to loop": 0}
    to_thread, to_loop = asgiref.sync.SyncToAsync.__call__, asgiref.sync.AsyncToSync.__call__

    async def counting_to_thread(self, *args, **kwargs):
        counted["to thread"] += 1
        return await to_thread(self, *args, **kwargs)

    def counting_to_loop(self, *args, **kwargs):
        counted["to loop"] += 1
        return to_loop(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__call__", counting_to_thread)
    monkeypatch.setattr(asgiref.sync.AsyncToSync, "__call__", counting_to_loop)
    return counted


@pytest.mark.asyncio
async def test_a_request_switches_to_a_thread_for_its_whole_middleware_chain_once_not_per_middleware(hops):
    status, headers, _ = await get(OneHopASGIHandler(), "/healthz/live")
    ours = dict(hops)
    hops.update({"to thread": 0, "to loop": 0})
    stock_status, _, _ = await get(ASGIHandler(), "/healthz/live")
    stock = dict(hops)

    assert status == stock_status == 200
    # Every middleware still ran: the request id and the security headers are on the response.
    assert b"x-request-id" in headers and b"content-security-policy" in headers
    assert ours["to loop"] == 0  # nothing in the chain waits for the loop
    # request_started, the chain and response.close in one: Django's own handler makes many times as many.
    assert ours["to thread"] == 1
    assert stock["to thread"] + stock["to loop"] >= 3 * ours["to thread"]


@pytest.fixture
def finished(monkeypatch):
    """Each request_finished in order with each response message sent."""
    from django.core import signals

    order = []

    def on_finished(**kwargs):
        order.append("request_finished")

    signals.request_finished.connect(on_finished, dispatch_uid="test-finished")
    yield order
    signals.request_finished.disconnect(dispatch_uid="test-finished")


@pytest.mark.asyncio
async def test_a_built_response_finishes_its_request_and_a_streamed_one_once_it_has_been_sent(finished, settings):
    settings.ROOT_URLCONF = "tests.webox.streaming_urls"
    for path, expected in (("/built", b"built"), ("/streamed", b"streamed")):
        finished.clear()
        start, body = await asgi_response(ApplicationCommunicator(OneHopASGIHandler(), http_scope(path)))
        assert start["status"] == 200 and body == expected
        assert finished == ["request_finished"], path


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not postgres, reason="a pool needs PostgreSQL (DATABASE_URL)")
def test_the_pooled_connection_goes_back_when_the_response_is_built_not_when_it_has_been_sent(user):
    request = RequestFactory().get("/api/chat/conversations",
                                   HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    seen = {}

    def respond():
        response = OneHopASGIHandler()._respond(request)
        seen["status"] = response.status_code
        seen["connection after"] = connection.connection  # this thread's; None once handed back

    thread = threading.Thread(target=respond)
    thread.start()
    thread.join(30)

    assert seen["status"] == 200
    assert seen["connection after"] is None


def test_the_web_process_takes_the_gil_back_from_its_event_loop_after_the_configured_interval():
    from webox.http_handler import switch_interval_setup

    before = sys.getswitchinterval()
    try:
        switch_interval_setup(1.0)
        assert sys.getswitchinterval() == pytest.approx(0.001)
        switch_interval_setup(0)  # 0: left as it is
        assert sys.getswitchinterval() == pytest.approx(0.001)
    finally:
        sys.setswitchinterval(before)
