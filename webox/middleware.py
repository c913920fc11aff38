"""Bad requests that Django would answer with an HTML error page get a JSON ``detail`` instead."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse


class RequestLimitsMiddleware:
    """413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``; 400 for a body nested too deeply.

    The size is checked before anything reads the body (CSRF, the session, DRF), from the
    declared length — the same test Django makes when the body is read. Deep nesting ends in
    ``RecursionError`` wherever a view decodes JSON; DRF views get their own 400 from
    ``webox.api.JSONParser``, and this catches the rest.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
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
