"""The API docs pages load every asset from /static/ (drf-spectacular-sidecar) and run no inline script."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_page_loads_its_assets_from_static_and_has_no_inline_code(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    urls = assets(html)
    assert urls
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
        else:
            assert url.startswith(path + "?"), url  # the page's own start-up script
    assert "<style" not in html and "https://" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"


def test_swagger_start_up_code_is_served_as_a_script(client):
    html = client.get("/api/docs/").content.decode()
    (own,) = [url for url in assets(html) if url.startswith("/api/docs/?")]
    response = client.get(own.replace("&amp;", "&"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode() and "/api/schema/" in response.content.decode()


def test_the_schema_lists_the_ops_endpoints(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/ops/status", "/api/ops/workers/drain", "/api/ops/workers/resume"} <= set(paths)
