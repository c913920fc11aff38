"""Every reply's footer shows its figures with its cost (or "price unknown") as soon as it ends,
stopped and failed ones too, and the dashboard's Cost card shows a known zero as zero."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import BROKEN, FAST, SLOW, column, manage, pick, send

pytestmark = pytest.mark.browser

FREE = "fake-echo;delay_ms=20;id=free-of-charge"


@pytest.fixture
def free_model(live_server_url: str):
    """An operator's price: this one model of ollama costs nothing."""
    manage("shell", "-c", f"from chat.usage.models import ModelPrice; ModelPrice.objects.create("
                          f"provider='ollama', model={FREE!r}, free=True)")
    yield FREE
    manage("shell", "-c",
           f"from chat.usage.models import ModelPrice; ModelPrice.objects.filter(model={FREE!r}).delete()")


def test_footers_show_cost_and_ended_replies_show_figures_at_once(chat: Page, free_model: str):
    page = chat
    pick(page, {"openai": FAST, "anthropic": SLOW, "ollama": free_model})
    send(page, "What does it cost?")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    expect(column(page, "ollama")).to_have_attribute("data-status", "complete")
    expect(column(page, "openai").locator(".stats")).to_contain_text("tokens · price unknown")
    expect(column(page, "ollama").locator(".stats")).to_contain_text("tokens · 0.00 USD")

    stopped = column(page, "anthropic")
    expect(stopped).to_have_attribute("data-status", "streaming")
    stopped.get_by_role("button", name="Stop anthropic reply").click()
    expect(stopped).to_have_attribute("data-status", "cancelled")
    # From the event itself: no reload, no refetch.
    expect(stopped.locator(".stats")).to_contain_text("total")
    expect(stopped.locator(".stats")).to_contain_text("to first token")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator('[data-figure="cost"] .card-value')).to_have_text("0.00 USD")


def test_a_failed_reply_without_text_shows_its_figures_and_offers_no_copy(chat: Page):
    page = chat
    pick(page, {"openai": BROKEN})
    send(page, "Fail, please")
    failed = column(page, "openai")
    expect(failed).to_have_attribute("data-status", "error")
    expect(failed.locator(".stats")).to_contain_text("total")
    expect(failed.get_by_role("button", name="Copy openai reply")).to_be_hidden()
    expect(failed.get_by_role("button", name="Regenerate openai reply")).to_be_visible()
