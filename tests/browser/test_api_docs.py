"""The API docs render offline and under a CSP that forbids inline scripts."""

import pytest
from playwright.sync_api import BrowserContext, Route, expect

pytestmark = pytest.mark.browser

# ReDoc runs its search in a Web Worker made from a blob: URL; worker-src allows that and only that.
STRICT_CSP = ("default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data:")

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_swagger_ui_and_redoc_render_offline_under_script_src_self(context: BrowserContext, live_server_url: str):
    # A page of its own, not the `page` fixture: this test sets a stricter policy and checks every
    # violation itself, allowing only ReDoc's one hard-coded logo (see the end).
    page = context.new_page()
    outside: list[str] = []
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))

    def handle(route: Route) -> None:
        if not route.request.url.startswith(live_server_url):
            outside.append(route.request.url)
            route.abort()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/*", handle)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("webox API")
    expect(page.locator(".opblock-summary-path", has_text="/api/chat/send").first).to_be_visible()
    page.goto("/api/redoc/")
    expect(page.locator("h1", has_text="webox API").first).to_be_visible()
    # ReDoc's bundle hard-codes one decorative image (its "by Redocly" logo) on a CDN; blocked or
    # offline it hides itself. Nothing else may come from outside or break the policy.
    assert not [url for url in outside if url != REDOC_LOGO], outside
    assert not [text for text in violations if REDOC_LOGO not in text], violations
