"""The composer: provider picks remembered per user and per conversation; Copy and Regenerate."""

import re

import pytest
from playwright.sync_api import Page, expect

from testing.fake_provider import expected_reply

from .conftest import FAST, MEDIUM, column, open_settings, pick, send

pytestmark = pytest.mark.browser


def checked(page: Page) -> dict[str, str]:
    picks = {}
    for name in ("openai", "anthropic", "ollama"):
        if page.get_by_role("checkbox", name=name, exact=True).is_checked():
            picks[name] = page.get_by_label(f"Model for {name}").input_value()
    return picks


def test_provider_picks_are_remembered_per_user_and_per_conversation(chat: Page):
    page = chat
    pick(page, {"anthropic": FAST, "ollama": MEDIUM})
    open_settings(page)
    page.get_by_label("Temperature", exact=True).fill("0.3")
    page.get_by_label("Max tokens", exact=True).fill("500")
    send(page, "First conversation")
    expect(column(page, "ollama")).to_have_attribute("data-status", "complete")
    first_url = page.url

    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    assert checked(page) == {"anthropic": FAST, "ollama": MEDIUM}
    expect(page.get_by_label("Temperature", exact=True)).to_have_value("0.3")

    page.get_by_role("link", name="New chat").click()
    assert checked(page) == {"anthropic": FAST, "ollama": MEDIUM}, "the user's default"
    pick(page, {"openai": FAST})
    send(page, "Second conversation")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")

    page.goto(first_url)
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    assert checked(page) == {"anthropic": FAST, "ollama": MEDIUM}, "the conversation's picks"
    page.get_by_role("link", name="New chat").click()
    assert checked(page) == {"openai": FAST}, "the latest picks became the default"


def test_copy_and_regenerate_a_reply(chat: Page):
    page = chat
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pick(page, {"openai": FAST})
    send(page, "Name three colours")
    reply = column(page, "openai")
    expect(reply).to_have_attribute("data-status", "complete")

    reply.get_by_role("button", name="Copy openai reply").click()
    assert page.evaluate("navigator.clipboard.readText()") == "".join(expected_reply("Name three colours"))

    reply.get_by_role("button", name="Regenerate openai reply").click()
    versions = page.locator('.column[data-provider="openai"] .reply')
    expect(versions).to_have_count(2)
    latest = column(page, "openai")
    expect(latest.locator(".pager")).to_have_text("2/2")
    expect(latest).to_have_attribute("data-status", "complete")
    latest.get_by_role("button", name="Earlier openai reply").click()
    expect(column(page, "openai").locator(".pager")).to_have_text("1/2")
    expect(versions.nth(1)).to_be_hidden()
    expect(page.locator("article.turn")).to_have_count(1)
    expect(page.get_by_role("textbox", name="Message")).to_have_value(re.compile("^$"))


def test_choosing_the_reply_that_follow_ups_see(chat: Page):
    page = chat
    pick(page, {"openai": FAST, "anthropic": FAST})
    open_settings(page)
    page.get_by_label("Follow-ups see").select_option("chosen")
    send(page, "Pick your favourite")
    for name in ("openai", "anthropic"):
        expect(column(page, name)).to_have_attribute("data-status", "complete")

    page.get_by_role("button", name="Choose anthropic reply for follow-ups").click()
    expect(column(page, "anthropic").locator(".chosen-badge")).to_be_visible()
    page.get_by_role("button", name="Choose openai reply for follow-ups").click()
    expect(column(page, "openai").locator(".chosen-badge")).to_be_visible()
    expect(column(page, "anthropic").locator(".chosen-badge")).to_be_hidden()

    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(page.get_by_label("Follow-ups see")).to_have_value("chosen")
    expect(page.get_by_role("button", name="Choose openai reply for follow-ups")).to_have_attribute(
        "aria-pressed", "true")
    expect(column(page, "anthropic").locator(".chosen-badge")).to_be_hidden()
