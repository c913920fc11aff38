"""The site's icon: linked from every page, and ``/favicon.ico`` answers for browsers that ask for it."""

import pytest
from django.templatetags.static import static


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("webox/favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]


def test_favicon_ico_only_answers_reads(client):
    assert client.head("/favicon.ico").status_code == 302
    assert client.post("/favicon.ico").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/redoc/"])
def test_pages_link_the_svg_icon(client, path):
    html = client.get(path).content.decode()
    assert f'<link rel="icon" href="{static("webox/favicon.svg")}" type="image/svg+xml">' in html

