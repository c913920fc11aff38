"""Keyboard shortcuts: new chat, focus the composer, search, stop all; listed in a help dialog."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import SLOW, column, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_shortcuts_work_outside_text_fields_and_are_listed(chat: Page):
    page = chat
    pick(page, {"openai": SLOW, "anthropic": SLOW})
    send(page, "A long story please")
    expect(column(page, "openai")).to_have_attribute("data-status", "streaming")
    box = page.get_by_role("textbox", name="Message")
    box.press("Escape")
    expect(box).not_to_be_focused()

    page.keyboard.press("s")
    for name in ("openai", "anthropic"):
        expect(column(page, name)).to_have_attribute("data-status", "cancelled")

    page.keyboard.press("/")
    expect(page.get_by_label("Search conversations and messages")).to_be_focused()
    page.keyboard.type("story")  # typed into the search box, not taken as shortcuts
    expect(page.get_by_label("Search conversations and messages")).to_have_value("story")
    page.locator("#thread").click()

    page.keyboard.press("c")
    expect(box).to_be_focused()
    box.press("Escape")

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.locator("dd")).to_have_text([
        "New chat", "Focus the message box", "Search", "Stop all replies still generating", "This list",
        re.compile("^Leave the message box")])
    dialog.get_by_role("button", name="Close").click()

    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    expect(page).to_have_url(re.compile(r"/$"))
