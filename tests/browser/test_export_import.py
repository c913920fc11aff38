"""Export from the page, import the file back through the page: the same conversation, again."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import BROKEN, FAST, column, open_settings, pick, send

pytestmark = pytest.mark.browser

SAME = ("role", "content", "provider", "model", "status", "error_code", "error_detail", "usage", "ttft_ms",
        "duration_ms", "finish_reason", "parameters", "chosen", "seq", "created_at", "completed_at")


def stored(page: Page, conversation_id: int) -> dict:
    return page.request.get(f"/api/chat/conversations/{conversation_id}").json()


def test_a_conversation_exported_from_the_page_imports_back_the_same(chat: Page, tmp_path):
    page = chat
    pick(page, {"openai": FAST, "anthropic": BROKEN})
    open_settings(page)
    page.get_by_label("Temperature", exact=True).fill("0.3")
    send(page, "Export **me**")
    expect(column(page, "anthropic")).to_have_attribute("data-status", "error")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    column(page, "openai").get_by_role("button", name="Regenerate openai reply").click()
    expect(page.locator('.column[data-provider="openai"] .reply')).to_have_count(2)
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    original_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.get_by_text("Export", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="This conversation as JSON").click()
    path = tmp_path / "export.json"
    download.value.save_as(path)
    assert json.loads(path.read_text())["conversations"][0]["id"] == original_id

    page.get_by_text("Export", exact=True).click()  # the menu closed after the first choice
    with page.expect_download() as markdown:
        page.get_by_role("link", name="This conversation as Markdown").click()
    assert "## Turn 1" in markdown.value.path().read_text()

    page.get_by_text("Export / import").click()
    page.locator("#import-file").set_input_files(path)
    expect(page.get_by_text("Imported 1 conversation.")).to_be_visible()
    expect(page.locator("#conversation-list .conv-title")).to_have_text(["Export me", "Export me"])

    ids = [int(i) for i in page.locator("#conversation-list .conv-item").evaluate_all(
        "items => items.map(item => item.dataset.id)")]
    [copy_id] = set(ids) - {original_id}
    original, copy = stored(page, original_id), stored(page, copy_id)
    assert len(copy["messages"]) == len(original["messages"]) == 4
    for theirs, ours in zip(original["messages"], copy["messages"], strict=True):
        assert {k: theirs[k] for k in SAME} == {k: ours[k] for k in SAME}
    assert [m["parameters"] for m in copy["messages"][1:]] == [{"temperature": 0.3}] * 3

    page.get_by_text("Export / import").click()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "webox.conversations", "version": 1, "conversations": [{"title": 7}]}')
    page.locator("#import-file").set_input_files(bad)
    expect(page.get_by_text("Nothing imported: Conversation 1: title must be text.")).to_be_visible()
    expect(page.locator("#conversation-list .conv-item")).to_have_count(2)


def test_a_chatgpt_export_imported_from_the_page_says_what_was_left_out(chat: Page):
    page = chat
    page.get_by_text("Export / import").click()
    page.locator("#import-file").set_input_files(
        Path(__file__).parent.parent / "chat" / "imports" / "fixtures" / "chatgpt_conversations.json")
    expect(page.get_by_text("Imported 2 conversations. Not imported: 5 parts (image, reasoning, a call to python, "
                            "tool message, system message).")).to_be_visible()
    expect(page.locator("#conversation-list .conv-title")).to_have_text(["Haiku", "Trip ideas"])
