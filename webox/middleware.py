"""Site-wide middleware."""

from django.http import HttpResponse, JsonResponse

from .api import BUSY_DETAIL, BUSY_RETRY_AFTER_SECONDS, database_busy


class DatabaseBusyMiddleware:
    """A 503 with Retry-After instead of a 500 when no database connection is free (any view;
    the REST API's own exception handler answers the same for its views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exc):
        if not database_busy(exc):
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": BUSY_DETAIL}, status=503)
        else:
            response = HttpResponse(BUSY_DETAIL, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
        return response
