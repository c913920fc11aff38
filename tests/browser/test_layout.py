"""Any screen: 390 px without horizontal scroll, replies as tabs; four providers at 1280 px, names whole."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, PROVIDERS, SCREENSHOTS, WORDY, column, pick, send

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]

WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def test_a_turn_on_a_390px_phone_has_tabs_and_nothing_wider_than_the_screen(chat: Page):
    page = chat
    page.set_viewport_size({"width": 390, "height": 844})
    pick(page, {"openai": FAST, "anthropic": WORDY, "ollama": FAST})
    send(page, "Compare | a | table\n\n```python\nprint('hi')\n```")
    tabs = page.locator("article.turn").last.get_by_role("tab")
    expect(tabs).to_have_count(3)
    expect(tabs.filter(has_text="anthropic")).to_contain_text("streaming")
    expect(tabs.filter(has_text="openai")).to_contain_text("done")
    tabs.filter(has_text="anthropic").click()
    expect(page.locator('.column[data-provider="anthropic"]')).to_be_visible()
    expect(page.locator('.column[data-provider="openai"]')).to_be_hidden()
    expect(column(page, "anthropic")).to_have_attribute("data-status", "complete")
    expect(tabs.filter(has_text="anthropic")).to_contain_text("done")
    tabs.filter(has_text="anthropic").press("ArrowRight")
    expect(page.locator('.column[data-provider="ollama"]')).to_be_visible()

    wide = page.evaluate(WIDER_THAN_VIEWPORT)
    assert not wide, wide[:20]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    picker = page.locator("#composer .provider-picker").bounding_box()
    assert picker["x"] >= 0 and picker["x"] + picker["width"] <= 390
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "turn-narrow.png")


def test_four_columns_at_1280px_show_each_model_name_whole(chat: Page):
    page = chat
    page.set_viewport_size({"width": 1280, "height": 800})
    long_model = "fake-echo;delay_ms=20;id=a-rather-long-model-name"
    pick(page, {"openai": long_model, "anthropic": FAST, "ollama": FAST})
    send(page, "Four at once?")
    expect(column(page, "ollama")).to_have_attribute("data-status", "complete")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    column(page, "openai").get_by_role("button", name="Regenerate openai reply").click()  # a 2nd version
    for name in PROVIDERS:
        model = column(page, name).locator(".model-name")
        assert model.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), f"{name}'s model name is cut"
    expect(column(page, "openai").locator(".model-name")).to_have_text(long_model)
    assert page.evaluate("document.querySelector('.replies').scrollWidth <= "
                         "document.querySelector('.replies').clientWidth + 1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "turn-wide.png")
