"""The browsable API as a person uses it: from the root to a form that sends a message."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import SCREENSHOTS, csp_violations

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_from_the_api_root_a_logged_in_user_sends_a_message_through_the_form(chat: Page):
    page = chat
    page.goto("/api/")
    expect(page.get_by_role("heading", name="webox API")).to_be_visible()
    for group in ("auth", "chat", "dashboard", "ops", "docs"):
        expect(page.locator(".response-info")).to_contain_text(f'"{group}"')

    page.locator("a", has_text=re.compile(r"/api/chat/send$")).click()
    expect(page.get_by_role("heading", name="Send a message")).to_be_visible()
    expect(page.locator(".content-main")).to_contain_text("Send one message to 1 to 8 columns")
    form = page.locator("#post-object-form")
    form.locator("[name=message]").fill("Hello from the browsable API")
    form.locator("[name=selected_providers]").select_option("openai")
    form.get_by_role("button", name="POST").click()

    expect(page.locator(".response-info")).to_contain_text("HTTP 202 Accepted")
    expect(page.locator(".response-info")).to_contain_text("Hello from the browsable API")
    assert csp_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "browsable-api-send.png")
