"""The dashboard in a real browser: figures after a turn, the period changes charts and table, a phone."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from .conftest import BROKEN, FAST, MEDIUM, SCREENSHOTS, column, pick, send

pytestmark = pytest.mark.browser


def test_the_dashboard_shows_a_turn_and_follows_the_period(chat: Page):
    pick(chat, {"openai": FAST, "anthropic": MEDIUM, "ollama": BROKEN})
    send(chat, "How fast are you all?")
    for provider, status in (("openai", "complete"), ("anthropic", "complete"), ("ollama", "error")):
        expect(column(chat, provider)).to_have_attribute("data-status", status)

    chat.get_by_role("link", name="Dashboard").click()
    expect(chat.get_by_role("heading", name="Your usage")).to_be_visible()
    table = chat.locator("#models-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    ollama = table.locator('tr[data-model^="ollama/"]')
    expect(ollama.locator('td[data-label="Error rate"]')).to_have_text("100.0 %")
    expect(ollama.locator('td[data-label="Top errors"]')).to_contain_text("×1")
    expect(table.locator('tr[data-model^="openai/"] td[data-label="Cost"]')).to_have_text("unknown")
    expect(chat.locator('[data-figure="replies"] .card-value')).to_have_text("3")
    expect(chat.locator("svg.pygal-chart")).to_have_count(4)
    replies_chart = chat.locator("#chart-replies-desc")
    today = date.today()
    expect(replies_chart).to_contain_text(f"to {today.isoformat()}")
    expect(chat.locator("#chart-replies .series .dot")).to_have_count(3)

    chat.get_by_role("link", name="90 days").click()
    expect(chat.locator("#period-label")).to_contain_text("(90 days)")
    expect(replies_chart).to_contain_text(f"from {(today - timedelta(days=89)).isoformat()}")
    expect(table.locator("tbody tr")).to_have_count(3)

    chat.get_by_label("From", exact=True).fill((today - timedelta(days=40)).isoformat())
    chat.get_by_label("To", exact=True).fill((today - timedelta(days=35)).isoformat())
    chat.get_by_role("button", name="Apply").click()
    expect(chat.locator("#no-replies")).to_be_visible()
    expect(chat.locator("#models-table")).to_have_count(0)
    expect(chat.locator("#chart-replies .series .dot")).to_have_count(0)
    expect(chat.locator('[data-figure="replies"] .card-value')).to_have_text("0")

    chat.get_by_role("link", name="7 days").click()
    expect(table.locator("tbody tr")).to_have_count(3)
    folder = SCREENSHOTS  # a temporary folder; `make screenshots` copies it into docs/
    folder.mkdir(parents=True, exist_ok=True)
    chat.screenshot(path=folder / "dashboard.png", full_page=True)
    chat.emulate_media(color_scheme="dark")
    chat.screenshot(path=folder / "dashboard-dark.png", full_page=True)

    chat.set_viewport_size({"width": 390, "height": 844})
    chat.emulate_media(color_scheme="light")
    widths = chat.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways on a phone: {widths}"
    scroller = chat.locator(".table-scroll").first
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth"), "the wide table should scroll in its box"
    chat.screenshot(path=folder / "dashboard-phone.png", full_page=True)
