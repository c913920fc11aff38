"""How many requests run in threads at once (webox/http_handler.py, ``WEBOX_REQUEST_THREADS``): the rest
wait on the event loop for a turn, and one that waits too long is answered 503, never run."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings

from testing.asgi import asgi_response
from webox.http_handler import OneHopASGIHandler, get_asgi_application

from .test_http_handler import http_scope


class HeldHandler(OneHopASGIHandler):
    """Each request's thread waits for ``release`` before it is served; counts how many wait at once."""

    def __init__(self, max_threads: int, turn_timeout: float = 10.0):
        super().__init__()
        self.max_threads, self.turn_timeout = max_threads, turn_timeout
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = self.most_running = self.served = 0

    def _serve(self, scope, body_file):
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.release.wait(10)
        with self.lock:
            self.running -= 1
            self.served += 1
        return super()._serve(scope, body_file)


async def requests_at_once(app, count: int, path: str = "/healthz/live") -> list[asyncio.Task]:
    return [asyncio.create_task(asgi_response(ApplicationCommunicator(app, http_scope(path)))) for _ in range(count)]


async def until(condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


@pytest.mark.asyncio
async def test_no_more_requests_than_the_bound_run_in_threads_at_once_and_the_rest_run_after():
    app = HeldHandler(max_threads=2)
    tasks = await requests_at_once(app, 6)
    await until(lambda: app.running == 2)
    await asyncio.sleep(0.2)  # time for any further request to have started, had it been let through

    assert app.running == 2
    app.release.set()
    answers = await asyncio.gather(*tasks)
    assert [start["status"] for start, _ in answers] == [200] * 6
    assert app.served == 6 and app.most_running == 2


@pytest.mark.asyncio
async def test_with_no_bound_every_request_gets_its_thread_at_once():
    app = HeldHandler(max_threads=0)
    tasks = await requests_at_once(app, 6)
    await until(lambda: app.running == 6)
    app.release.set()
    answers = await asyncio.gather(*tasks)
    assert [start["status"] for start, _ in answers] == [200] * 6


@pytest.mark.asyncio
async def test_a_request_that_waits_past_the_timeout_is_answered_503_with_retry_after_and_never_runs():
    app = HeldHandler(max_threads=1, turn_timeout=0.3)
    first = (await requests_at_once(app, 1))[0]
    await until(lambda: app.running == 1)
    start, body = await asgi_response(ApplicationCommunicator(app, http_scope("/api/chat/conversations")))
    app.release.set()
    await first

    headers = {name.lower(): value for name, value in start["headers"]}
    assert start["status"] == 503 and headers[b"retry-after"] == b"2"
    assert b"busy" in body and body.startswith(b'{"detail":')
    assert app.served == 1  # the refused request never reached a thread


@pytest.mark.asyncio
async def test_a_turn_lasts_as_long_as_its_thread_even_when_the_client_has_gone():
    app = HeldHandler(max_threads=1)
    leaving = ApplicationCommunicator(app, http_scope("/healthz/live"))
    await leaving.send_input({"type": "http.request", "body": b""})
    await until(lambda: app.running == 1)
    await leaving.send_input({"type": "http.disconnect"})
    waiting = (await requests_at_once(app, 1))[0]
    await asyncio.sleep(0.3)

    assert app.running == 1 and app.served == 0  # the gone client's thread still holds the one turn
    app.release.set()
    start, _ = await waiting
    await leaving.wait(5)
    assert start["status"] == 200 and app.served == 2


def test_the_servers_handler_takes_its_bound_and_timeout_from_the_settings():
    handler = get_asgi_application()
    assert handler.max_threads == settings.WEBOX_REQUEST_THREADS > 0
    assert handler.turn_timeout == settings.DATABASE_POOL_TIMEOUT
