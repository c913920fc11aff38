"""Two views for tests/webox/test_http_handler.py: a response built at once and a streamed one."""

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path


def built(request):
    return HttpResponse(b"built")


async def _parts():
    yield b"stream"
    yield b"ed"


def streamed(request):
    return StreamingHttpResponse(_parts())


urlpatterns = [path("built", built), path("streamed", streamed)]
