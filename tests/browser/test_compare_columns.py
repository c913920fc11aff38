"""Columns on the page: two columns of one provider from the model picker, both streamed; the live estimate."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, MEDIUM, SCREENSHOTS, pick, send

pytestmark = pytest.mark.browser


def test_two_columns_of_one_provider_both_stream_with_the_estimate_shown(chat: Page, fake_provider):
    page = chat
    pick(page, {"openai": FAST})
    page.get_by_role("button", name="+ Column").click()
    search = page.get_by_role("combobox", name="Search a model for a new column")
    search.fill("openai tokens=60")
    expect(page.get_by_role("listbox", name="Models").get_by_role("option")).to_have_count(1)
    search.press("Enter")
    expect(page.locator('.column-chip[data-column="openai#2"]')).to_contain_text(MEDIUM)

    box = page.get_by_role("textbox", name="Message")
    box.fill("Hello two columns")
    estimate = page.locator("#turn-estimate summary")
    expect(estimate).to_contain_text("tokens in")
    page.locator("#turn-estimate summary").click()
    expect(page.locator('#turn-estimate li[data-column="openai#2"]')).to_contain_text(MEDIUM)

    send(page, "Hello two columns")
    turn = page.locator("article.turn").last
    for key in ("openai", "openai#2"):
        expect(turn.locator(f'.column[data-column="{key}"] .reply')).to_have_attribute("data-status", "complete")
    expect(turn.locator('.column[data-column="openai#2"] .model-name').first).to_have_text(MEDIUM)
    models = [r["json"]["model"] for r in fake_provider.chat_requests() if "two columns" in str(r["json"])]
    assert sorted(models) == sorted([FAST, MEDIUM])
    # The reply's foot shows what its turn's estimate said (the fake endpoint's price is unknown).
    expect(turn.locator('.column[data-column="openai"] .reply-foot')).to_contain_text("estimate")
    page.screenshot(path=SCREENSHOTS / "two-columns-of-one-provider.png")

    # The added column is remembered on the conversation: after a reload it is there again.
    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(page.locator('.column-chip[data-column="openai#2"]')).to_contain_text(MEDIUM)
