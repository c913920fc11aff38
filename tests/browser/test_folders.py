"""Folders and pins in the sidebar: create a folder, move a conversation into it, filter by it, pin
one so it stays on top after a reload and after newer activity elsewhere, rename and delete the folder."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, pick, send
from .test_sidebar import start_conversation, titles

pytestmark = pytest.mark.browser


def choose(page: Page, title: str, action: str) -> None:
    """An action of a conversation's "more" menu in the sidebar."""
    page.get_by_role("button", name=re.compile(f"^More for “{title}”")).click()
    page.locator("#conversation-list .conv-item", has_text=title).get_by_role("button", name=action).click()


def test_a_conversation_goes_in_a_folder_is_filtered_by_it_and_a_pin_stays_on_top(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    for title in ("Alpha notes", "Beta notes", "Gamma notes"):
        start_conversation(page, title)
    expect(titles(page)).to_have_text(["Gamma notes", "Beta notes", "Alpha notes"])

    page.get_by_role("button", name="New folder").click()
    dialog = page.get_by_role("dialog", name="New folder")
    dialog.get_by_label("Name").fill("  Work ")
    dialog.get_by_label("Name").press("Enter")
    folder_filter = page.get_by_label("Show folder")
    expect(folder_filter.locator("option")).to_have_text(["All folders", "Not in a folder", "Work"])

    choose(page, "Alpha notes", "Move to folder…")
    dialog = page.get_by_role("dialog", name="Move to folder")
    dialog.get_by_label("Folder").select_option(label="Work")
    dialog.get_by_role("button", name="Move").click()
    alpha = page.locator("#conversation-list .conv-item", has_text="Alpha notes")
    expect(alpha.locator(".conv-folder")).to_have_text("Work")

    choose(page, "Alpha notes", "Pin to top")
    expect(titles(page)).to_have_text(["Alpha notes", "Gamma notes", "Beta notes"])
    expect(alpha.locator(".conv-pin-mark")).to_be_visible()
    expect(page.get_by_role("button", name="More for “Alpha notes” (pinned)")).to_be_visible()
    expect(page.locator("#conversation-list .conv-pin-mark:visible")).to_have_count(1)

    folder_filter.select_option(label="Work")
    expect(titles(page)).to_have_text(["Alpha notes"])
    folder_filter.select_option(label="Not in a folder")
    expect(titles(page)).to_have_text(["Gamma notes", "Beta notes"])

    # Stored on the server, and the filter remembered by this browser.
    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(folder_filter).to_have_value("none")
    expect(titles(page)).to_have_text(["Gamma notes", "Beta notes"])
    folder_filter.select_option(label="All folders")
    expect(titles(page)).to_have_text(["Alpha notes", "Gamma notes", "Beta notes"])
    expect(alpha.locator(".conv-pin-mark")).to_be_visible()

    # Newer activity elsewhere moves that one up, never above the pinned one.
    page.get_by_role("link", name=re.compile("Beta notes")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beta notes")
    expect(page.locator("article.turn")).to_have_count(1)
    send(page, "And one more")
    expect(page.locator("article.turn")).to_have_count(2)
    expect(titles(page)).to_have_text(["Alpha notes", "Beta notes", "Gamma notes"])
    page.reload()
    expect(titles(page)).to_have_text(["Alpha notes", "Beta notes", "Gamma notes"])

    # Renaming the folder; deleting it keeps its conversation, outside any folder.
    folder_filter.select_option(label="Work")
    page.get_by_role("button", name="Rename folder “Work”").click()
    dialog = page.get_by_role("dialog", name="Rename folder")
    dialog.get_by_label("Name").fill("Jobs")
    dialog.get_by_label("Name").press("Enter")
    expect(folder_filter.locator("option:checked")).to_have_text("Jobs")
    expect(titles(page)).to_have_text(["Alpha notes"])
    page.get_by_role("button", name="Delete folder “Jobs”").click()
    page.get_by_role("dialog", name="Delete folder?").get_by_role("button", name="Delete folder").click()
    expect(folder_filter).to_have_value("")
    expect(titles(page)).to_have_text(["Alpha notes", "Beta notes", "Gamma notes"])
    expect(alpha.locator(".conv-folder")).to_be_hidden()

    choose(page, "Alpha notes", "Unpin")
    expect(titles(page)).to_have_text(["Beta notes", "Gamma notes", "Alpha notes"])


def test_a_duplicate_folder_name_is_shown_as_an_error(chat: Page):
    page = chat
    for _ in range(2):
        page.get_by_role("button", name="New folder").click()
        dialog = page.get_by_role("dialog", name="New folder")
        dialog.get_by_label("Name").fill("Work")
        dialog.get_by_label("Name").press("Enter")
    expect(page.locator("#sidebar-error")).to_contain_text("already have a folder named “Work”")
    expect(page.get_by_label("Show folder").locator("option")).to_have_count(3)


def test_a_tab_with_the_conversation_open_hears_of_its_pin_and_move(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    start_conversation(page, "Older notes")
    start_conversation(page, "Shared notes")
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(other.locator("#connection-status")).to_have_attribute("data-state", "online")
    expect(titles(other)).to_have_text(["Shared notes", "Older notes"])

    # Pinned and moved in the first tab: the second one's list follows without a reload.
    choose(page, "Older notes", "Pin to top")
    expect(titles(page)).to_have_text(["Older notes", "Shared notes"])
    choose(page, "Shared notes", "Pin to top")
    expect(titles(page)).to_have_text(["Shared notes", "Older notes"])
    expect(other.locator("#conversation-list .conv-item", has_text="Shared notes").locator(".conv-pin-mark")
           ).to_be_visible()
    page.get_by_role("button", name="New folder").click()
    page.get_by_role("dialog", name="New folder").get_by_label("Name").fill("Work")
    page.get_by_role("dialog", name="New folder").get_by_label("Name").press("Enter")
    choose(page, "Shared notes", "Move to folder…")
    dialog = page.get_by_role("dialog", name="Move to folder")
    dialog.get_by_label("Folder").select_option(label="Work")
    dialog.get_by_role("button", name="Move").click()
    expect(other.locator("#conversation-list .conv-item", has_text="Shared notes").locator(".conv-folder")
           ).to_have_text("Work")
    other.close()
