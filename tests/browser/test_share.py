"""A share link made on the page opens in a fresh browser context, with no session: the branch as
it was, rendered by the server, with nothing private on it; revoked from the owner's page, it is gone."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import CSP_LISTENER, FAST, SCREENSHOTS, column, csp_violations, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_a_share_link_opens_without_a_session_and_stops_when_revoked(chat: Page, browser: Browser,
                                                                     browser_context_args: dict):
    page = chat
    pick(page, {"openai": FAST, "anthropic": FAST})
    send(page, "Share **this** plan")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    expect(column(page, "anthropic")).to_have_attribute("data-status", "complete")

    page.get_by_role("button", name="Share", exact=True).click()
    dialog = page.get_by_role("dialog", name="Share a read-only link")
    expect(dialog.get_by_label("Show models and costs")).not_to_be_checked()
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.get_by_label("Link")
    expect(link).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{43}/$"))
    url = link.input_value()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "share-dialog.png")
    dialog.get_by_role("button", name="Copy link").click()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # A fresh context: no cookie, no session.
    visitor = browser.new_context(**browser_context_args)
    visitor.add_init_script(CSP_LISTENER)
    try:
        assert visitor.cookies() == []
        shared = visitor.new_page()
        response = shared.goto(url)
        assert response.status == 200
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        expect(shared.get_by_role("heading", level=1)).to_have_text("Share this plan")
        expect(shared.locator(".shared-user strong")).to_have_text("this")
        expect(shared.locator(".shared-reply")).to_have_count(2)
        expect(shared.locator(".shared-reply").first).to_contain_text("You said: Share this plan")
        expect(shared.get_by_role("link", name="Log in")).to_be_visible()
        text = shared.locator("body").inner_text()
        for private in ("openai", "anthropic", "fake-echo", "tokens", "USD"):
            assert private not in text.lower(), private
        assert shared.locator('meta[name="robots"]').get_attribute("content") == "noindex, nofollow"
        assert csp_violations(shared) == []
        shared.screenshot(path=SCREENSHOTS / "shared-page.png", full_page=True)
        assert "sessionid" not in {cookie["name"] for cookie in visitor.cookies()}

        # The owner revokes it from their list of links.
        page.goto("/shares/")
        row = page.locator(f'tr:has(a[href$="{url.rsplit("/s/", 1)[1]}"])')
        expect(row).to_contain_text("Share this plan")
        page.screenshot(path=SCREENSHOTS / "share-links.png")
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_text("You have no share links.")).to_be_visible()

        assert shared.goto(url).status == 404
    finally:
        visitor.close()
