import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, column, pick, send, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_another_users_conversation_is_not_found(chat: Page, new_context):
    pick(chat, {"openai": FAST})
    send(chat, "My private notes")
    expect(column(chat, "openai")).to_have_attribute("data-status", "complete")
    expect(chat).to_have_url(re.compile(r"/c/\d+/$"))
    private_url = chat.url

    stranger = new_context().new_page()
    sign_up(stranger)
    response = stranger.goto(private_url)
    assert response.status == 404
    stranger.goto("/")
    expect(stranger.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(stranger.locator("#conversation-list .conv-title")).to_have_count(0)
    expect(stranger.get_by_text("My private notes")).to_have_count(0)
