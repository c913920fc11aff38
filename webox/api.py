"""Shared REST API pieces."""

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus a top-level ``detail`` on validation errors so every 4xx has a message."""
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        fields = response.data
        first = next(iter(fields.values()), None)
        message = first[0] if isinstance(first, list) and first else first
        response.data = {"detail": str(message) if message else "Invalid input.", "errors": fields}
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": str(response.data[0]) if response.data else "Invalid input."}
    return response
