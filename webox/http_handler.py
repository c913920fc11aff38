"""Django's ASGI handler, with each request's middleware and view run in one thread, in one hop.

Django's own ASGI handler builds the middleware chain for async code. Every middleware that is
not async-native (all of Django's, and ours) then runs its ``process_request`` and
``process_response`` through ``sync_to_async``, and a sync-only one in the middle switches the
rest back with ``async_to_sync``: 17 switches between a thread and the event loop for one
``GET /healthz/live``, each of which waits for the server's one busy loop while the request's
pooled database connection stays checked out. Here the chain is built for sync code, as under
WSGI, and the whole of it runs in one thread (one of ``WEBOX_REQUEST_THREADS``, kept from request
to request, as a WSGI server's) in one switch, with Django's ``request_started`` signal before it
and, for a response that is not streamed (its body already built), its close
(``request_finished``) after it: Django makes those two a switch each. A streamed response still
closes after it has been sent. A pooled connection goes back as soon as the response is built; a
streaming response's iteration that needs one again gets one, handed back when the response
closes.

The process also takes the GIL from its event loop sooner (``WEBOX_SWITCH_INTERVAL_MS``): each of
a request's statements ends with its thread waiting for the GIL, its connection still checked out.

At most ``WEBOX_REQUEST_THREADS`` requests run their middleware and view at once; the others wait
on the loop, without a thread, and are answered 503 with Retry-After past ``DATABASE_POOL_TIMEOUT``.
Their work is Python under one GIL, so more threads finish none of them sooner; each one that is
runnable takes turns at the GIL with the event loop, which delivers every socket's text: under a
burst of 200 sends, unbounded threads kept tokens from their sockets for seconds.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

from .database import release_pooled_connections
from .middleware import busy_response

SERVER_BUSY_DETAIL = "The server is busy: it could not take the request in time. Nothing was stored; try again shortly."


class OneHopASGIHandler(ASGIHandler):
    # How many requests may run in threads at once (0: no bound), and how long one waits for its turn.
    max_threads = 0
    turn_timeout = 10.0

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self._respond, thread_sensitive=True)(request)

    def _respond(self, request):
        try:
            return self.get_response(request)
        finally:
            # Not when the response has been sent: the connection would wait, idle, for the loop.
            release_pooled_connections()

    async def handle(self, scope, receive, send):
        """Django's ``ASGIHandler.handle`` with one switch to the request's thread (``_serve``), not three.

        As Django's: the view is not waited for once the client has gone (``request_finished`` is
        then sent here), and a streamed response closes once it has been sent.
        """
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))

        async def process_request():
            response = await self._serve_in_turn(scope, body_file)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while it was sent
            return response

        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)), asyncio.create_task(process_request())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            if response.streaming:
                await sync_to_async(response.close)()
        body_file.close()

    async def _serve_in_turn(self, scope, body_file):
        """``_serve`` in the request's thread once fewer than ``max_threads`` run; a 503 if none frees up in
        ``turn_timeout`` seconds. A turn lasts as long as its thread, even if the client has gone."""
        turns = self._turns()
        if turns is None:
            return await sync_to_async(self._serve, thread_sensitive=True)(scope, body_file)
        serve = sync_to_async(self._serve, thread_sensitive=False, executor=self._threads())
        try:
            await asyncio.wait_for(turns.acquire(), self.turn_timeout)
        except TimeoutError:
            return busy_response(scope["path"], SERVER_BUSY_DETAIL)
        served = asyncio.ensure_future(serve(scope, body_file))

        def turn_ended(task) -> None:
            turns.release()
            if not task.cancelled():
                task.exception()  # retrieved: a client that went away no longer waits for it

        served.add_done_callback(turn_ended)
        return await asyncio.shield(served)

    def _turns(self) -> asyncio.Semaphore | None:
        """This loop's semaphore of request threads (a semaphore belongs to one loop; tests run several)."""
        if self.max_threads <= 0:
            return None
        loop = asyncio.get_running_loop()
        if getattr(self, "_turns_loop", None) is not loop:
            self._turns_loop, self._turns_semaphore = loop, asyncio.Semaphore(self.max_threads)
        return self._turns_semaphore

    def _threads(self) -> ThreadPoolExecutor:
        """The ``max_threads`` threads that serve requests, kept: a new thread per request (Django's
        ``ThreadSensitiveContext``) rebuilt what each keeps per thread, Celery's producer and result
        backend and Django's database wrapper among them (about 1 ms of CPU a send)."""
        if getattr(self, "_executor", None) is None:
            self._executor = ThreadPoolExecutor(self.max_threads, thread_name_prefix="webox-request")
        return self._executor

    def _serve(self, scope, body_file):
        """In the request's thread: ``request_started``, the request, its response and, unless it is
        streamed, its close (``request_finished``: nothing of the response is left to build)."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        try:
            if request is not None:
                response = self.get_response(request)
                response._handler_class = self.__class__
                if isinstance(response, FileResponse):
                    response.block_size = self.chunk_size  # as Django's run_get_response
            if not response.streaming:
                response.close()
            return response
        finally:
            release_pooled_connections()


def get_asgi_application() -> OneHopASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    import django
    from django.conf import settings

    django.setup(set_prefix=False)
    switch_interval_setup(settings.WEBOX_SWITCH_INTERVAL_MS)
    handler = OneHopASGIHandler()
    handler.max_threads, handler.turn_timeout = settings.WEBOX_REQUEST_THREADS, settings.DATABASE_POOL_TIMEOUT
    return handler


def switch_interval_setup(milliseconds: float) -> None:
    """How long a busy thread (the server's event loop) may keep the GIL from a request's thread back
    from the database; 0 leaves Python's default (5 ms)."""
    if milliseconds > 0:
        sys.setswitchinterval(milliseconds / 1000)
