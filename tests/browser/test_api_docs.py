"""The API docs render offline and under the site's own strict CSP: no inline script, no inline style
without the page's nonce."""

import pytest
from playwright.sync_api import BrowserContext, Route, expect

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_swagger_ui_and_redoc_render_offline_under_the_sites_strict_csp(context: BrowserContext, live_server_url: str):
    # A page of its own, not the `page` fixture: this test checks every violation itself, allowing
    # only ReDoc's one hard-coded logo (see the end).
    page = context.new_page()
    outside: list[str] = []
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(
        f"{page.url}: {message.text}"))

    def handle(route: Route) -> None:
        if not route.request.url.startswith(live_server_url):
            outside.append(route.request.url)
            route.abort()
            return
        route.continue_()

    page.route("**/*", handle)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("webox API")
    expect(page.locator(".opblock-summary-path", has_text="/api/chat/send").first).to_be_visible()

    response = page.goto("/api/redoc/")
    policy = response.headers["content-security-policy"]
    style_src = next(part for part in policy.split(";") if part.strip().startswith("style-src "))
    assert "'nonce-" in style_src and "unsafe-inline" not in style_src, policy
    expect(page.locator("h1", has_text="webox API").first).to_be_visible()
    expect(page.get_by_text("Something went wrong")).to_have_count(0)
    # Styled: the menu is a column of its own beside the operations, not text run together.
    menu = page.locator(".menu-content").bounding_box()
    assert menu is not None and menu["width"] > 150, menu
    # ReDoc's bundle hard-codes one decorative image (its "by Redocly" logo) on a CDN; blocked or
    # offline it hides itself. Nothing else may come from outside or break the policy.
    assert not [url for url in outside if url != REDOC_LOGO], outside
    assert not [text for text in violations if REDOC_LOGO not in text], violations
