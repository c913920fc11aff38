"""Request middleware: a request id on every request, its response and its log lines (the request's
own line also names the client address, webox.client_address); a 503, not a 500,
when no database connection is free; bad requests that Django would answer with an HTML error page
get a JSON ``detail`` instead."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from . import logging_context
from .client_address import client_address
from .database import BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS, database_busy

logger = logging.getLogger("webox.request")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy in front is kept when it is plainly an id; anything else is replaced.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# URL arguments that name a conversation or a reply (chat/api_urls.py, dashboard/urls.py).
CONVERSATION_KWARGS = ("conversation_id",)
REPLY_KWARGS = ("message_id", "reply_id")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        tokens = [(logging_context.request_id, logging_context.request_id.set(request.request_id)),
                  (logging_context.current_request, logging_context.current_request.set(request))]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            logger.info("%s %s %s", request.method, logging_context.path_for_log(request), response.status_code,
                        extra={"status": response.status_code, "method": request.method,
                               "client": client_address(request),
                               "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            return response
        finally:
            for var, token in reversed(tokens):
                var.reset(token)
            logging_context.conversation_id.set(None)
            logging_context.reply_id.set(None)

    def process_view(self, request, view_func, view_args, view_kwargs):
        for name in CONVERSATION_KWARGS:
            if name in view_kwargs:
                logging_context.conversation_id.set(view_kwargs[name])
        for name in REPLY_KWARGS:
            if name in view_kwargs:
                logging_context.reply_id.set(view_kwargs[name])
        return None


def busy_response(path: str, detail: str = BUSY_DETAIL) -> HttpResponse:
    """The 503 with Retry-After of a request the server had no room for (JSON ``detail`` under /api/)."""
    if path.startswith("/api/"):
        response = JsonResponse({"detail": detail}, status=503)
    else:
        response = HttpResponse(detail, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


class DatabaseBusyMiddleware:
    """A 503 with Retry-After instead of a 500 when no database connection is free (any view;
    the REST API's own exception handler answers the same for its views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        return busy_response(request.path) if database_busy(exc) else None


# Where a multipart body may carry a file up to WEBOX_MAX_UPLOAD_BYTES (chat/api_urls.py).
UPLOAD_PATHS = frozenset({"/api/chat/import", "/api/chat/attachments"})


class RequestLimitsMiddleware:
    """413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a file upload to ``UPLOAD_PATHS``: over
    ``WEBOX_MAX_UPLOAD_BYTES``); 400 for a body nested too deeply.

    The size is checked before anything reads the body (CSRF, the session, DRF), from the
    declared length — the same test Django makes when the body is read. Deep nesting ends in
    ``RecursionError`` wherever a view decodes JSON; DRF views get their own 400 from
    ``webox.api.JSONParser``, and this catches the rest.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The endpoints that take a file have a larger limit of their own: Django counts only a
        # multipart body's form fields, not its files (spooled to disk).
        upload = request.path in UPLOAD_PATHS and request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        limit = settings.WEBOX_MAX_UPLOAD_BYTES if upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length must be a number."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"The request body is larger than {limit} bytes."}, status=413)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RecursionError):
            return JsonResponse({"detail": "The request body is nested too deeply."}, status=400)
        return None
