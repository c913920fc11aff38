"""The conversation list: newest activity first, filter, rename, archive, delete."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, column, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def start_conversation(page: Page, text: str) -> None:
    page.get_by_role("link", name="New chat").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    send(page, text)
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def titles(page: Page):
    return page.locator("#conversation-list .conv-title")


def test_conversations_can_be_filtered_renamed_archived_and_deleted(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    start_conversation(page, "Alpha river notes")
    start_conversation(page, "Beta mountain notes")
    expect(titles(page)).to_have_text(["Beta mountain notes", "Alpha river notes"])

    # New activity moves a conversation to the top.
    page.get_by_role("link", name=re.compile("Alpha river notes")).click()
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))
    expect(page.locator("article.turn")).to_have_count(1)
    send(page, "One more thing")
    expect(page.locator("article.turn")).to_have_count(2)
    expect(titles(page)).to_have_text(["Alpha river notes", "Beta mountain notes"])

    page.get_by_label("Search conversations and messages").fill("mountain")
    expect(titles(page)).to_have_text(["Beta mountain notes"])
    page.get_by_label("Search conversations and messages").fill("")
    expect(titles(page)).to_have_count(2)

    page.get_by_role("button", name="Rename “Beta mountain notes”").click()
    dialog = page.get_by_role("dialog", name="Rename conversation")
    dialog.get_by_label("Title").fill("Gamma peaks")
    dialog.get_by_label("Title").press("Enter")
    expect(titles(page)).to_have_text(["Alpha river notes", "Gamma peaks"])

    page.get_by_role("button", name="Archive “Alpha river notes”").click()
    expect(titles(page)).to_have_text(["Gamma peaks"])
    page.get_by_role("button", name="Archived").click()
    expect(titles(page)).to_have_text(["Alpha river notes"])
    page.get_by_role("button", name="Unarchive “Alpha river notes”").click()
    expect(titles(page)).to_have_count(0)
    page.get_by_role("button", name="Active", exact=True).click()
    expect(titles(page)).to_have_count(2)

    page.get_by_role("link", name=re.compile("Gamma peaks")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gamma peaks")
    page.get_by_role("button", name="Delete “Gamma peaks”").click()
    page.get_by_role("dialog", name="Delete conversation?").get_by_role("button", name="Delete").click()
    expect(titles(page)).to_have_text(["Alpha river notes"])
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    expect(page).to_have_url("/")


def test_titles_and_previews_show_markdown_as_plain_text(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    send(page, "Plan a **trip** to `Oslo` with [maps](https://example.com/maps)")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan a trip to Oslo with maps")
    expect(titles(page)).to_have_text(["Plan a trip to Oslo with maps"])

    # The preview (the latest message, here the echoed reply) comes with the list.
    page.reload()
    expect(titles(page)).to_have_text(["Plan a trip to Oslo with maps"])
    expect(page.locator("#conversation-list .conv-preview")).to_have_text(["You said: Plan a trip to Oslo with maps"])
