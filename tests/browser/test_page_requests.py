"""Every request a page makes by itself succeeds, its icon included (no 404 for /favicon.ico)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from .conftest import FAST, column, manage, pick, send, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

# Resolves with the image's width once the browser has fetched and drawn it (under the page's CSP).
DRAW_IMAGE = """src => new Promise((resolve, reject) => {
  const image = new Image();
  image.onload = () => resolve(image.naturalWidth);
  image.onerror = () => reject(new Error(`could not draw ${src}`));
  image.src = src;
})"""


def icon_href(page: Page) -> str:
    icon = page.locator('head link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    href = icon.get_attribute("href")
    assert href and href.endswith(".svg"), href
    return href


def icon_is_drawn(page: Page) -> None:
    """The page links the SVG icon, and both it and /favicon.ico load as images."""
    href = icon_href(page)
    assert page.evaluate(DRAW_IMAGE, href) == 32
    assert page.evaluate(DRAW_IMAGE, "/favicon.ico") == 32


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, (path, response and response.status)
    page.wait_for_load_state("networkidle")
    icon_is_drawn(page)


def test_the_pages_make_no_failing_request_and_show_the_icon(page: Page):
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))

    visit(page, "/accounts/login/")
    username = sign_up(page)
    pick(page, {"openai": FAST})
    send(page, "Does every request succeed?")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    page.wait_for_load_state("networkidle")
    icon_is_drawn(page)
    visit(page, "/dashboard/")
    manage("shell", "-c", "from accounts.models import User; "
           f"User.objects.filter(username={username!r}).update(is_staff=True, is_superuser=True)")
    visit(page, "/admin/")
    expect(page.locator("#site-name")).to_be_visible()  # still Django's admin, with the icon added

    failed = [(r.status, r.request.method, r.url) for r in responses if r.status >= 400]
    assert failed == []
    icons = [r for r in responses if r.url.endswith("/favicon.svg")]
    assert icons and all(r.ok and r.headers["content-type"].startswith("image/svg+xml") for r in icons)
    # What a browser that asks for /favicon.ico by itself gets (headless chromium does not ask).
    asked = page.request.get("/favicon.ico", max_redirects=0)
    assert asked.status == 302 and asked.headers["location"] == icon_href(page)
    followed = page.request.get("/favicon.ico")
    assert followed.ok and followed.headers["content-type"].startswith("image/svg+xml")
    assert followed.body().startswith(b"<svg")
    # Every page was checked: the log-in page, the chat page and its API calls, the dashboard, the admin.
    paths = {urlsplit(r.url).path for r in responses}
    assert {"/accounts/login/", "/", "/api/chat/send", "/dashboard/", "/admin/"} <= paths
