"""``GET /api/``: the root of the browsable API, every endpoint under ``/api/`` by group.

Read from the URL map itself, so an endpoint added to any app's ``api_urls`` is listed without
touching this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import view_name

# The docs' views are drf-spectacular's, named by their URL names here.
LABELS = {"api-schema": "OpenAPI schema", "api-docs": "Swagger UI", "api-redoc": "ReDoc"}
GROUP_OF = {"schema": "docs", "docs": "docs", "redoc": "docs"}
ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


def api_patterns(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern of the site with its whole route (``api/chat/conversations/<int:conversation_id>``)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_patterns(pattern.url_patterns, route)
        elif route.startswith("api/") and route != "api/":
            yield route, pattern


def endpoint_groups(request) -> dict[str, dict[str, str]]:
    """{group: {plain name: URL}}; a route that takes an id shows it as ``{conversation_id}``."""
    groups: dict[str, dict[str, str]] = {}
    for route, pattern in api_patterns():
        group = route.split("/")[1]
        group = GROUP_OF.get(group, group)
        view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
        label = LABELS.get(pattern.name) or (view_name(view) if view is not None else pattern.name or route)
        if ARGUMENT.search(route):  # a template to fill in, not a link (build_absolute_uri would quote the braces)
            url = request.build_absolute_uri("/") + ARGUMENT.sub(r"{\1}", route)
        else:
            url = request.build_absolute_uri(reverse(pattern.name) if pattern.name else "/" + route)
        groups.setdefault(group, {})[label] = url
    return groups


class ApiRootView(APIView):
    """Every endpoint of the webox API, by group. Open one to read what it does and to try it here:
    the pages that write (sending a message, renaming a conversation, preferences) have a form.

    Log in at /accounts/login/ to use the API from this browser (the session's cookie), or send
    `Authorization: Bearer <access token>` from `POST /api/auth/token`. Replies stream over the
    WebSocket `/api/chat/ws/{conversation_id}`; see `docs/api.md`.
    """

    name = "webox API"
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        return Response(endpoint_groups(request))
