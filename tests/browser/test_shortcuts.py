"""Keyboard shortcuts: new chat, focus the composer, search, stop all, edit the last message, copy the
last reply, switch branches; listed in a help dialog. Single keys never fire while typing."""

import re

import pytest
from playwright.sync_api import Page, expect

from testing.fake_provider import expected_reply

from .conftest import FAST, SLOW, column, pick, send

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
    expect(dialog.locator("dl").first.locator("dd")).to_have_text([
        "New chat", "Focus the message box", "Search", "Stop all replies still generating", "Edit your last message",
        "Copy the last reply", "Previous / next branch", "This list", re.compile("^Leave the message box")])
    expect(dialog.locator("dl").last.locator("dd")).to_have_text([
        "New chat", "Focus the message box", "Copy the last reply", "This list", "Edit your last message"])
    dialog.get_by_role("button", name="Close").click()

    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    expect(page).to_have_url(re.compile(r"/$"))


def test_edit_copy_and_branch_shortcuts(chat: Page):
    page = chat
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pick(page, {"openai": FAST})
    send(page, "Say hello")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    box = page.get_by_role("textbox", name="Message")
    box.press("Escape")

    page.keyboard.press("y")
    expect(page.locator("#announcer")).to_have_text("openai reply copied")
    assert page.evaluate("navigator.clipboard.readText()") == "".join(expected_reply("Say hello"))

    page.keyboard.press("e")
    editor = page.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Say hello")
    page.keyboard.type("e [")  # typed into the editor, not taken as shortcuts
    expect(editor).to_have_value("Say helloe [")
    editor.fill("Say goodbye")
    editor.press("Enter")
    expect(page.locator(".branch-pager")).to_have_text("2 / 2")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    expect(column(page, "openai")).to_contain_text("goodbye")

    page.locator("#thread").click()
    page.keyboard.press("[")
    expect(page.locator(".branch-pager")).to_have_text("1 / 2")
    expect(column(page, "openai")).to_contain_text("hello")
    page.keyboard.press("]")
    expect(page.locator(".branch-pager")).to_have_text("2 / 2")
    expect(column(page, "openai")).to_contain_text("goodbye")


def test_ctrl_shortcuts_and_the_up_arrow_work_while_typing(chat: Page):
    page = chat
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pick(page, {"openai": FAST})
    send(page, "Tell me a fact")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()

    box.press("ControlOrMeta+Shift+C")
    assert page.evaluate("navigator.clipboard.readText()") == "".join(expected_reply("Tell me a fact"))

    box.press("ArrowUp")  # in an empty box: edit the last message
    editor = page.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    editor.press("Escape")

    search = page.get_by_label("Search conversations and messages")
    search.focus()
    search.press("Shift+Escape")
    expect(box).to_be_focused()
    box.fill("draft")
    box.press("ArrowUp")  # with text: the caret moves, no editor opens
    expect(editor).to_be_hidden()

    box.press("ControlOrMeta+/")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    box.press("ControlOrMeta+Shift+O")
    expect(page.get_by_role("heading", level=1)).to_have_text("New chat")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("article.turn")).to_have_count(0)
