"""The smaller things people notice on the chat page: menus that close, the message limit said in
words before sending, long messages folded, every sign-up error at once, a column's colour that
follows its provider, a new conversation's preview, and the search hit marked in the reply."""

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

from .conftest import FAST, column, pick, send, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.same_in_both_modes]


def test_export_menus_close_after_a_choice_and_when_a_dialog_opens(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    send(page, "Export me")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")
    menu = page.locator("#conversation-menu")
    menu.get_by_text("Export", exact=True).click()
    with page.expect_download():
        page.get_by_role("link", name="This conversation as JSON").click()
    expect(menu).not_to_have_attribute("open", "")

    page.get_by_text("Export / import").click()
    expect(page.get_by_role("link", name="All conversations as JSON")).to_be_visible()
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    expect(page.get_by_role("link", name="All conversations as JSON")).to_be_hidden()


def test_the_message_limit_is_counted_near_it_and_said_in_words(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    box = page.get_by_role("textbox", name="Message")
    limit = page.locator("#message-limit")
    box.fill("x" * 1000)
    expect(limit).to_be_hidden()
    box.fill("x" * 95_000)
    expect(limit).to_have_text("5,000 characters left of 100,000")
    box.fill("x" * 100_050)
    expect(limit).to_contain_text("50 characters over the limit of 100,000")
    box.press("Enter")
    expect(page.locator("#composer-error")).to_have_text(
        "The message is too long: at most 100,000 characters, this one is 50 over.")
    expect(page.locator("article.turn")).to_have_count(0)


def test_a_long_message_is_folded_until_show_all(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    send(page, "A long one. " + "word " * 1500)
    bubble = page.locator(".user-message .bubble")
    expect(bubble).to_have_class("bubble md folded")
    assert bubble.bounding_box()["height"] < 300
    page.get_by_role("button", name="Show all").click()
    assert bubble.bounding_box()["height"] > 300
    expect(page.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")


def test_sign_up_shows_every_error_at_once(page: Page):
    taken = sign_up(page)
    # Leave the chat page first: its requests, answered 401 once the cookies are gone, would send
    # it to the sign-in page in the middle of the next navigation.
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto("/accounts/register/")
    page.get_by_label("Username").fill(taken)
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password").fill("123")
    page.get_by_role("button", name="Sign up").click()
    errors = page.locator(".auth .error")
    expect(errors.filter(has_text="That username is taken.")).to_have_count(1)
    expect(errors.filter(has_text="valid email")).to_have_count(1)
    expect(errors.filter(has_text="too short")).to_have_count(1)
    assert PASSWORD  # a valid password would be accepted: the errors are about these fields only


def test_a_columns_colour_follows_its_provider_not_its_place(chat: Page):
    page = chat
    pick(page, {"openai": FAST, "ollama": FAST})
    send(page, "Two columns")
    expect(column(page, "ollama")).to_have_attribute("data-status", "complete")
    pick(page, {"ollama": FAST})
    send(page, "One column")
    expect(column(page, "ollama")).to_have_attribute("data-status", "complete")
    colour = "e => getComputedStyle(e).borderTopColor"
    second_place = column(page, "ollama", turn=0).evaluate(colour)
    first_place = column(page, "ollama", turn=1).evaluate(colour)
    assert second_place == first_place
    assert column(page, "openai", turn=0).evaluate(colour) != first_place
    chip = page.locator('.provider-chip[data-provider="ollama"]').evaluate("e => getComputedStyle(e).borderLeftColor")
    assert chip == first_place


def test_a_new_conversation_has_its_preview_and_a_search_hit_is_marked_in_the_reply(chat: Page):
    page = chat
    word = f"zebra{uuid.uuid4().hex[:6]}"
    pick(page, {"openai": FAST})
    send(page, f"Tell me about the {word} crossing")
    expect(page.locator("#conversation-list .conv-preview").first).to_have_text(f"Tell me about the {word} crossing")
    expect(column(page, "openai")).to_have_attribute("data-status", "complete")

    page.get_by_role("link", name="New chat").click()
    page.get_by_label("Search conversations and messages").fill(word)
    hit = page.locator("#search-results .search-hit").filter(has_text="openai")
    hit.first.click()
    marked = page.wait_for_function(
        "() => { const h = CSS.highlights.get('search-hit'); return h && [...h].map(String); }")
    assert {text.lower() for text in marked.json_value()} == {word}
