"""Votes in a real browser: a blind turn names no provider until the vote, and the leaderboard ranks it."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, pick, send

pytestmark = pytest.mark.browser


def blind_conversation(page: Page) -> int:
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post("/api/chat/conversations", data={"blind": True}, headers={"X-CSRFToken": csrf})
    assert response.status == 201
    return response.json()["id"]


def test_a_blind_turn_names_no_provider_until_the_vote_and_the_leaderboard_ranks_it(chat: Page):
    page = chat
    page.goto(f"/c/{blind_conversation(page)}/")
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    pick(page, {"openai": FAST, "anthropic": FAST})
    send(page, "Who are you?")
    turn = page.locator("article.turn").last
    expect(turn.locator('.reply[data-status="complete"]')).to_have_count(2)
    expect(turn.locator(".provider-name")).to_have_text(["Model A", "Model B"])
    before = turn.inner_text().lower()
    assert "openai" not in before and "anthropic" not in before and "fake-echo" not in before
    expect(turn.get_by_role("button", name="Best")).to_be_disabled()

    turn.get_by_role("checkbox", name="Model A").check()
    turn.get_by_role("button", name="Best").click()
    expect(turn.locator(".vote-status")).to_have_text(re.compile(r"^Best: (openai|anthropic) \(Model A\)$"))
    expect(turn.locator(".provider-name").first).to_have_text(re.compile(r"^(openai|anthropic) \(Model A\)$"))
    expect(turn.locator(".model-name").first).to_have_text(FAST)

    page.reload()  # the vote is stored: shown again from the server
    expect(page.locator("article.turn").last.locator(".vote-status")).to_contain_text("Best:")

    page.goto("/dashboard/leaderboard/")
    rows = page.locator("#leaderboard-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".rating")).to_have_text(re.compile(r"^1\d{3}$"))
    page.get_by_label("Which votes").select_option("only")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#leaderboard-table tbody tr")).to_have_count(2)
    expect(page.get_by_text("1 vote, blind votes cast before the reveal only")).to_be_visible()
