"""Sending while the server cannot be reached: the draft stays, and the page says why in words."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, pick, send

pytestmark = pytest.mark.browser


def test_a_send_that_cannot_reach_the_server_keeps_the_draft_and_says_so(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    page.route("**/api/chat/send", lambda route: route.abort("connectionrefused"))
    send(page, "Written while the server was down")

    error = page.locator("#composer-error")
    expect(error).to_contain_text("Could not reach the webox server")
    expect(error).to_contain_text("Your message is kept")
    expect(error).not_to_contain_text("Failed to fetch")
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Written while the server was down")
    expect(page.locator("article.turn")).to_have_count(0)
