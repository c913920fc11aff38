"""Shared REST API pieces."""

from csp.constants import UNSAFE_INLINE
from rest_framework import parsers, renderers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.utils import formatting
from rest_framework.views import exception_handler as drf_exception_handler

from .database import BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS, database_busy


class JSONParser(parsers.JSONParser):
    """DRF's parser, with a body nested too deeply (``[[[[…``) refused as a 400 instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML pages use inline styles (never inline script): allow those styles on these pages only."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # Read by django-csp's middleware. Attributes: replaced, as hashes would void 'unsafe-inline'.
            response._csp_update = {"style-src": [UNSAFE_INLINE]}
            response._csp_replace = {"style-src-attr": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)


def view_name(view) -> str:
    """A view's title on the browsable API: its ``name`` ("Send a message"), else its class name in words.

    ``ConversationListApi`` becomes "Conversation list", not DRF's "Conversation List Api".
    """
    name = getattr(view, "name", None)
    if name is not None:
        return name
    cls = view if isinstance(view, type) else type(view)
    words = cls.__name__
    for suffix in ("Api", "APIView", "View"):
        words = formatting.remove_trailing_string(words, suffix)
    words = formatting.camelcase_to_spaces(words)
    return words[:1] + words[1:].lower()


def first_message(errors) -> str:
    """The first human-readable message in DRF's nested error structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            message = first_message(value)
            if message:
                return message if key == "non_field_errors" else f"{key}: {message}"
        return ""
    if isinstance(errors, list):
        return next((m for m in map(first_message, errors) if m), "")
    return str(errors)


def exception_handler(exc, context):
    """DRF's handler, plus a top-level ``detail`` on validation errors so every 4xx has a message,
    and a 503 with Retry-After, never a 500, when the database has no connection free."""
    if database_busy(exc):
        return Response({"detail": BUSY_DETAIL}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        response.data = {"detail": first_message(response.data) or "Invalid input.", "errors": response.data}
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": first_message(response.data) or "Invalid input."}
    return response
