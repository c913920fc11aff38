"""Each column its own: per-provider settings reach that provider, a typed model, ignored settings shown."""

import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import FAST, column, open_settings, pick, send

pytestmark = pytest.mark.browser


def sent(server, model: str) -> dict:
    [request] = [r["json"] for r in server.chat_requests() if r["json"].get("model") == model]
    return request


def test_per_column_settings_and_a_typed_model_reach_each_provider(chat: Page, fake_provider, fake_ollama):
    page = chat
    typed = f"fake-echo;delay_ms=20;id={uuid.uuid4().hex[:8]}"  # in no endpoint's list
    other = f"fake-echo;delay_ms=20;id={uuid.uuid4().hex[:8]}"
    pick(page, {"openai": typed, "anthropic": other, "ollama": FAST})
    open_settings(page)
    page.get_by_label("Max tokens", exact=True).fill("300")
    expect(page.get_by_text("Each model keeps its own thread")).to_be_visible()
    open_settings(page, "openai")
    page.get_by_label("Temperature for openai").fill("1.2")
    page.get_by_label("System prompt for openai").fill("Answer like a pirate.")
    open_settings(page, "anthropic")
    expect(page.get_by_label("Temperature for anthropic")).to_be_disabled()
    expect(page.get_by_text("Not sent: anthropic ignores this setting.")).to_be_visible()
    page.get_by_label("Max tokens for anthropic").fill("40")
    send(page, "Hello columns")
    for name in ("openai", "anthropic", "ollama"):
        expect(column(page, name)).to_have_attribute("data-status", "complete")
    expect(column(page, "openai").locator(".model-name")).to_have_text(typed)

    openai = sent(fake_provider, typed)
    assert openai["temperature"] == 1.2
    assert openai["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    assert openai.get("max_completion_tokens", openai.get("max_tokens")) == 300
    anthropic = sent(fake_provider, other)
    assert anthropic["max_tokens"] == 40 and "temperature" not in anthropic and "system" not in anthropic

    # Remembered on the conversation, and as the user's default on the server (a new browser gets them).
    page.reload()
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(page.get_by_label("Model for openai")).to_have_value(typed)
    expect(page.get_by_label("Temperature for openai")).to_have_value("1.2")
    expect(page.get_by_label("System prompt for openai")).to_have_value("Answer like a pirate.")
    fresh = page.context.browser.new_context(base_url=page.url.split("/c/")[0],
                                             storage_state=page.context.storage_state())
    other_page = fresh.new_page()
    other_page.goto("/")
    expect(other_page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(other_page.get_by_label("Model for openai")).to_have_value(typed)
    expect(other_page.get_by_label("Max tokens for anthropic")).to_have_value("40")
    fresh.close()


def test_a_reply_cut_by_max_tokens_says_so(chat: Page):
    page = chat
    pick(page, {"openai": FAST, "ollama": FAST})
    open_settings(page, "openai")
    page.get_by_label("Max tokens for openai").fill("3")
    send(page, "Tell me everything about the sea and its many creatures")
    cut, whole = column(page, "openai"), column(page, "ollama")
    expect(cut).to_have_attribute("data-status", "complete")
    expect(whole).to_have_attribute("data-status", "complete")
    expect(cut.get_by_text("Cut by max tokens")).to_be_visible()
    expect(whole.get_by_text("Cut by max tokens")).to_be_hidden()
