"""The conversation's page in the Django admin, as an operator sees it in a real browser."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, MEDIUM, column, manage, pick, send, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

QUESTION = "Compare **two** cities <img src=x onerror=alert(1)>"


def test_admin_shows_a_conversation_as_a_readable_thread(page: Page):
    username = sign_up(page)
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    pick(page, {"openai": FAST, "anthropic": MEDIUM})
    send(page, QUESTION)
    for provider in ("openai", "anthropic"):
        expect(column(page, provider)).to_have_attribute("data-status", "complete")
    manage("shell", "-c", "from accounts.models import User; "
           f"User.objects.filter(username={username!r}).update(is_staff=True, is_superuser=True)")

    page.goto("/admin/chat/conversation/")
    row = page.locator("#result_list tbody tr").first
    expect(row.locator(".field-turns")).to_have_text("1")
    expect(row.locator(".field-providers_display")).to_have_text("anthropic, openai")
    row.locator(".field-title_display a").click()

    thread = page.locator(".webox-thread")
    turn = thread.locator(".webox-turn").first
    expect(turn.locator(".webox-user-message")).to_contain_text("<img src=x onerror=alert(1)>")
    columns = turn.locator(".webox-column")
    expect(columns).to_have_count(2)
    # Side by side on a wide screen: same top, the second to the right of the first.
    first, second = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 2 and second["x"] >= first["x"] + first["width"]
    for provider in ("openai", "anthropic"):
        reply = turn.locator(f'.webox-column[data-provider="{provider}"] .webox-reply')
        expect(reply.locator(".webox-status")).to_have_text("Complete")
        # The echoed Markdown is rendered, and the payload in it stays text.
        expect(reply.locator(".webox-md strong").first).to_have_text("two")
        expect(reply.locator(".webox-md")).to_contain_text("<img src=x onerror=alert(1)>")
        expect(reply.locator(".webox-figures")).to_contain_text("completion")
        expect(reply.locator(".webox-figures")).to_contain_text(" ms")
    expect(page.locator("main img[src='x'], #content img[src='x']")).to_have_count(0)
    # Settings read as text, not JSON boxes; nothing wider than the window.
    expect(page.locator('textarea[name="default_params"]')).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not [url for url in failed if "/admin/" in url or "/static/" in url or "code.css" in url], failed
