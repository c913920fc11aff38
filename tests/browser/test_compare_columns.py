"""Columns on the page: two columns of one provider from the model picker, both streamed; the live estimate."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, MEDIUM, SCREENSHOTS, open_settings, pick, send

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
    # The added chip is a column of its own: its settings popover sets that column's temperature.
    open_settings(page, "column openai#2")
    page.get_by_label("Temperature for column openai#2").fill("0.3")
    page.keyboard.press("Escape")

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
    sent = {r["json"]["model"]: r["json"] for r in fake_provider.chat_requests() if "two columns" in str(r["json"])}
    assert sorted(sent) == sorted([FAST, MEDIUM])
    assert sent[MEDIUM]["temperature"] == 0.3 and "temperature" not in sent[FAST]
    # Each column's colour follows its key: the same in its chip and in the turn, two of one provider apart.
    for key in ("openai", "openai#2"):
        chip_tint = page.locator(f'.provider-chip[data-column="{key}"]').get_attribute("data-tint")
        expect(turn.locator(f'.column[data-column="{key}"]')).to_have_attribute("data-tint", chip_tint)
    # The reply's foot shows what its turn's estimate said (the fake endpoint's price is unknown).
    foot = turn.locator('.column[data-column="openai"] .reply-foot')
    expect(foot).to_contain_text("price unknown")
    expect(foot).to_contain_text("estimate: price unknown")
    assert foot.inner_text().count("price unknown") == 2, "the cost once, beside the estimate"
    page.screenshot(path=SCREENSHOTS / "two-columns-of-one-provider.png")

    # The added column is remembered on the conversation: after a reload it is there again.
    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(page.locator('.column-chip[data-column="openai#2"]')).to_contain_text(MEDIUM)


def test_an_added_column_chip_is_removed_from_the_bar_and_the_send(chat: Page, fake_provider):
    page = chat
    pick(page, {"openai": FAST})
    page.get_by_role("button", name="+ Column").click()
    page.get_by_role("combobox", name="Search a model for a new column").fill("openai tokens=60")
    page.get_by_role("combobox", name="Search a model for a new column").press("Enter")
    chip = page.locator('.column-chip[data-column="openai#2"]')
    expect(chip).to_be_visible()
    chip.get_by_role("button", name=f"Remove column openai · {MEDIUM}").click()
    expect(chip).to_have_count(0)
    send(page, "Hello one column again")
    turn = page.locator("article.turn").last
    expect(turn.locator('.column[data-column="openai"] .reply')).to_have_attribute("data-status", "complete")
    expect(turn.locator(".column")).to_have_count(1)
