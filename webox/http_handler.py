"""Django's ASGI handler, with each request's middleware and view run in one thread, in one hop.

Django's own ASGI handler builds the middleware chain for async code. Every middleware that is
not async-native (all of Django's, and ours) then runs its ``process_request`` and
``process_response`` through ``sync_to_async``, and a sync-only one in the middle switches the
rest back with ``async_to_sync``: 17 switches between a thread and the event loop for one
``GET /healthz/live``, each of which waits for the server's one busy loop while the request's
pooled database connection stays checked out. Here the chain is built for sync code, as under
WSGI, and the whole of it runs in the request's own thread (3 switches): the one that Django's
``request_started`` and ``request_finished`` handlers use (``ThreadSensitiveContext``). A pooled
connection goes back as soon as the response is built; a streaming response's iteration that
needs one again gets one, handed back when the response closes.

The process also takes the GIL from its event loop sooner (``WEBOX_SWITCH_INTERVAL_MS``): each of
a request's statements ends with its thread waiting for the GIL, its connection still checked out.
"""

from __future__ import annotations

import sys

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

from .database import release_pooled_connections


class OneHopASGIHandler(ASGIHandler):
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


def get_asgi_application() -> OneHopASGIHandler:
    """``django.core.asgi.get_asgi_application`` with this handler."""
    import django
    from django.conf import settings

    django.setup(set_prefix=False)
    switch_interval_setup(settings.WEBOX_SWITCH_INTERVAL_MS)
    return OneHopASGIHandler()


def switch_interval_setup(milliseconds: float) -> None:
    """How long a busy thread (the server's event loop) may keep the GIL from a request's thread back
    from the database; 0 leaves Python's default (5 ms)."""
    if milliseconds > 0:
        sys.setswitchinterval(milliseconds / 1000)
