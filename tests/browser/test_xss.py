"""Whatever a message, a reply or a title holds, the page shows it as text and runs none of it."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import MEDIUM, column, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

PAYLOAD = (
    "<img src=x onerror=alert(document.domain)> "
    "[x](javascript:alert(1)) "
    "<script>window.__xss=1;alert(2)</script> "
    '<a href="javascript:alert(3)">link</a>'
)


def assert_nothing_injected(page: Page) -> None:
    for selector in ("main img", "main script", "main iframe", 'main a[href^="javascript"]', "main [onerror]"):
        expect(page.locator(selector)).to_have_count(0)
    assert page.evaluate("window.__xss") is None


def test_payloads_in_a_message_a_reply_and_a_title_show_as_text(chat: Page):
    page = chat
    pick(page, {"openai": MEDIUM, "anthropic": MEDIUM})
    send(page, PAYLOAD)

    # While streaming the reply arrives as plain text, payload included.
    streaming = column(page, "openai").locator(".stream-text")
    expect(streaming).to_contain_text("<script>window.__xss=1;alert(2)</script>")
    expect(column(page, "openai")).to_have_attribute("data-status", "streaming")
    assert_nothing_injected(page)

    expect(page.locator(".user-message")).to_contain_text("<img src=x onerror=alert(document.domain)>")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^<img src=x onerror="))
    expect(page.locator(".conv-title").first).to_have_text(re.compile(r"^<img src=x onerror="))

    for name in ("openai", "anthropic"):
        reply = column(page, name)
        expect(reply).to_have_attribute("data-status", "complete")
        expect(reply.locator(".md")).to_contain_text("<img src=x onerror=alert(document.domain)>")
        expect(reply.locator(".md")).to_contain_text("<script>window.__xss=1;alert(2)</script>")
        expect(reply.locator(".md")).to_contain_text("[x](javascript:alert(1))")
    assert_nothing_injected(page)

    title = "<img src=y onerror=alert(4)><b>bold?</b>"
    page.locator(".conv-item").first.hover()
    page.get_by_role("button", name=re.compile(r"^Rename")).first.click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".conv-title").first).to_have_text(title)

    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(column(page, "openai").locator(".md")).to_contain_text("<img src=x onerror=alert(document.domain)>")
    assert_nothing_injected(page)
