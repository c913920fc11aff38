"""Search from the sidebar: words inside messages and replies, a highlighted snippet, a click opens it there."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, column, pick, send

pytestmark = pytest.mark.browser


def test_a_word_inside_a_reply_is_found_and_opens_the_conversation_at_that_message(chat: Page):
    page = chat
    pick(page, {"openai": FAST, "anthropic": FAST})
    send(page, "Remember the word pelican <b>bold</b>")
    expect(column(page, "anthropic")).to_have_attribute("data-status", "complete")
    for i in range(6):  # enough turns that the first one is scrolled out of view
        send(page, f"Filler turn {i}\n\n" + "padding line\n\n" * 8)
        expect(page.locator("article.turn")).to_have_count(i + 2)
        expect(column(page, "anthropic")).to_have_attribute("data-status", "complete")
    page.get_by_role("link", name="New chat").click()

    page.get_by_label("Search conversations and messages").fill("pelic")

    hits = page.locator("#search-results .search-hit")
    expect(hits).to_have_count(3)  # the question, and both echoes of it
    expect(page.locator("#search-count")).to_have_text("(3)")
    expect(hits.first.locator(".conv-title")).to_have_text("Remember the word pelican <b>bold</b>")
    expect(hits.first.locator("mark")).to_have_text("pelican")
    expect(hits.first.locator("b")).to_have_count(0)  # escaped, shown as text
    expect(hits.first.locator(".hit-snippet")).to_contain_text("<b>bold</b>")

    reply_hit = hits.filter(has_text="anthropic:")
    reply_id = reply_hit.get_attribute("data-message-id")
    reply_hit.click()
    expect(page).to_have_url(re.compile(rf"/c/\d+/#m{reply_id}$"))
    target = page.locator(f'.reply[data-message-id="{reply_id}"]')
    expect(target).to_have_class(re.compile(r"\bfound\b"))
    expect(target).to_be_in_viewport()
    expect(page.locator("article.turn").last).not_to_be_in_viewport()

    page.reload()  # the address alone scrolls there too
    expect(page.locator(f'.reply[data-message-id="{reply_id}"]')).to_be_in_viewport()

    page.get_by_label("Search conversations and messages").fill("nosuchwordanywhere")
    expect(page.get_by_text("No message matches.")).to_be_visible()
    page.get_by_label("Search conversations and messages").fill("")
    expect(page.locator("#search-section")).to_be_hidden()
