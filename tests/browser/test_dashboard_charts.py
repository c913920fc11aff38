"""The dashboard's charts read at every period and on a phone, every series told apart."""

import contextlib
import re

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import FAST, SCREENSHOTS, column, pick, send

pytestmark = pytest.mark.browser

DATE = re.compile(r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$")

X_LABELS = """() => [...document.querySelectorAll('#chart-replies .axis.x text')].map(t => {
  const box = t.getBoundingClientRect();
  return {text: t.textContent, left: box.left, right: box.right, height: box.height};
})"""

SERIES_STYLE = """(selector) => [...document.querySelectorAll(selector)].map(el => {
  const style = getComputedStyle(el);
  return [style.stroke, style.strokeDasharray, style.strokeWidth].join(' / ');
})"""


def assert_dates_readable(page: Page, min_height: float = 0) -> None:
    labels = page.evaluate(X_LABELS)
    assert len(labels) >= 4, labels
    assert all(DATE.match(label["text"]) for label in labels), [label["text"] for label in labels]
    for before, after in zip(labels, labels[1:], strict=False):
        assert before["right"] <= after["left"], f"labels overlap: {before} {after}"
    assert min(label["height"] for label in labels) >= min_height, labels


def test_dates_read_at_every_period_and_equal_series_stay_apart(chat: Page):
    # Three providers, one reply each: three series of exactly the same values.
    pick(chat, {"openai": FAST, "anthropic": FAST, "ollama": FAST})
    send(chat, "Same for everyone")
    for provider in ("openai", "anthropic", "ollama"):
        expect(column(chat, provider)).to_have_attribute("data-status", "complete")
    chat.get_by_role("link", name="Dashboard").click()
    expect(chat.locator("svg.pygal-chart")).to_have_count(4)
    expect(chat.locator("#chart-replies .series .dot")).to_have_count(3)

    assert_dates_readable(chat)
    # One day of data: each series is a dot, all three at the same place. pygal animates a circle's
    # change of size (its CSS transition), so the sizes are read once the stylesheet's have taken hold.
    dot_widths = ("() => [...document.querySelectorAll('#chart-replies .series .dot')].map("
                  "d => d.getBoundingClientRect().width)")
    with contextlib.suppress(PlaywrightTimeout):
        chat.wait_for_function(f"() => new Set(({dot_widths})()).size === 3", timeout=3000)
    dots = chat.evaluate(dot_widths)
    assert len(set(dots)) == 3, f"dots of equal values must not hide one another: {dots}"
    # The legend shows each series' line as drawn (the same rules style both): colour, dash and width.
    legend = chat.evaluate(SERIES_STYLE, "#chart-replies .legend-sample")
    assert len(legend) == len(set(legend)) == 3, legend
    assert len({style.split(" / ", 1)[1] for style in legend}) == 3, f"the same dash and width: {legend}"

    chat.get_by_role("link", name="90 days").click()
    expect(chat.locator("#period-label")).to_contain_text("(90 days)")
    assert_dates_readable(chat)

    chat.set_viewport_size({"width": 390, "height": 844})
    chat.get_by_role("link", name="30 days").click()
    expect(chat.locator("#period-label")).to_contain_text("(30 days)")
    # 14 units drawn, shown at the phone's width: still text of at least 10 px.
    assert_dates_readable(chat, min_height=10)
    legend_text = chat.locator("#chart-replies .legends text").first.bounding_box()
    assert legend_text["height"] >= 10, legend_text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chat.locator('[data-chart="replies"]').screenshot(path=SCREENSHOTS / "dashboard-chart-phone.png")
