"""Fuse on the page: a two-column turn's replies combined by a picked model into a reply of its own."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, SCREENSHOTS, pick, send

pytestmark = pytest.mark.browser


def test_fusing_a_two_column_turn_streams_a_fused_reply_with_its_provenance(chat: Page, fake_provider):
    page = chat
    pick(page, {"openai": FAST, "anthropic": FAST})
    send(page, "Fuse these two")
    turn = page.locator("article.turn").last
    for provider in ("openai", "anthropic"):
        expect(turn.locator(f'.column[data-provider="{provider}"] .reply')).to_have_attribute("data-status", "complete")

    turn.get_by_role("button", name="Fuse").click()
    dialog = page.get_by_role("dialog", name="Fuse replies")
    dialog.get_by_label("Model").select_option(label=f"anthropic · {FAST}")
    expect(dialog.get_by_role("checkbox")).to_have_count(2)
    for box in dialog.get_by_role("checkbox").all():
        expect(box).to_be_checked()
    prompt = dialog.get_by_label("Prompt")
    assert "{replies}" in prompt.input_value()
    page.screenshot(path=SCREENSHOTS / "fuse-dialog.png")
    prompt.fill("Combine the answers to {question}:\n{replies}")
    dialog.get_by_role("button", name="Fuse", exact=True).click()
    expect(dialog).to_have_count(0)

    fused = turn.locator('.column[data-column="fuse"] .reply')
    expect(fused).to_have_attribute("data-status", "complete")
    expect(fused.locator(".fuse-provenance summary")).to_contain_text(f"Fused from openai · {FAST}, anthropic · {FAST}")
    [request] = [r["json"] for r in fake_provider.chat_requests() if "Combine the answers" in str(r["json"])]
    [message] = request["messages"]
    text = message["content"] if isinstance(message["content"], str) else message["content"][0]["text"]
    assert text.startswith("Combine the answers to Fuse these two:\n<reply number=\"1\">\n")
    page.screenshot(path=SCREENSHOTS / "fuse.png")
