"""One message, several providers: the columns stream, finish, stop, fail and survive reloads and drops."""

import json
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from testing.fake_provider import expected_reply

from .conftest import BROKEN, FAST, MEDIUM, PROVIDERS, SCREENSHOTS, SLOW, WORDY, column, pick, proxy_sockets, send

pytestmark = pytest.mark.browser

STATS = re.compile(r"^12 tokens · price unknown · \d+ ms to first token · [\d.]+ s total$")


def full_text(message: str, tokens: int | None = None) -> str:
    return "".join(expected_reply(message, tokens))


def test_one_message_streams_into_three_columns_side_by_side(chat: Page):
    page = chat
    pick(page, {name: WORDY for name in PROVIDERS})
    box = page.get_by_role("textbox", name="Message")
    box.fill("Compare **bold**, *italic*, `inline code`,")
    box.press("Shift+Enter")
    box.type("~~struck~~ and a [link](https://example.com/docs) please")
    expect(box).to_have_value(
        "Compare **bold**, *italic*, `inline code`,\n~~struck~~ and a [link](https://example.com/docs) please")
    box.press("Enter")

    turn = page.locator("article.turn")
    expect(turn).to_have_count(1)
    expect(turn.locator(".user-message strong")).to_have_text("bold")
    for name in PROVIDERS:
        reply = column(page, name)
        expect(reply.locator(".provider-name")).to_have_text(name)
        expect(reply.locator(".model-name")).to_have_text(WORDY)
        expect(reply).to_have_attribute("data-status", "streaming")
        expect(reply.locator(".stream-text")).to_have_text(re.compile(r"^You said: Compare"))
        expect(reply.get_by_role("button", name=f"Stop {name} reply")).to_be_visible()

    for name in PROVIDERS:
        reply = column(page, name)
        expect(reply).to_have_attribute("data-status", "complete")
        markdown = reply.locator(".md")
        expect(markdown.locator("strong")).to_have_text("bold")
        expect(markdown.locator("em")).to_have_text("italic")
        expect(markdown.locator("code")).to_have_text("inline code")
        expect(markdown.locator("s, del")).to_have_text("struck")
        expect(markdown.get_by_role("link", name="link")).to_have_attribute("href", "https://example.com/docs")
        expect(reply.locator(".stats")).to_have_text(STATS)
        expect(reply.get_by_role("button", name=f"Copy {name} reply")).to_be_visible()
        expect(reply.get_by_role("button", name=f"Regenerate {name} reply")).to_be_visible()
        expect(reply.get_by_role("button", name=f"Stop {name} reply")).to_be_hidden()

    boxes = [page.locator(f'.column[data-provider="{name}"]').bounding_box() for name in PROVIDERS]
    assert len({round(b["y"]) for b in boxes}) == 1, "side by side on a wide screen"
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    # The automatic title is the message as plain text (issue 13).
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Compare bold, italic, inline code, struck and a link please")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "three-providers.png")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=SCREENSHOTS / "three-providers-dark.png")

    # A narrow screen shows one column at a time behind tabs (issue 13; they used to stack).
    page.set_viewport_size({"width": 420, "height": 900})
    tabs = page.locator("article.turn").last.get_by_role("tab")
    expect(tabs).to_have_text([f"{name}done" for name in PROVIDERS])
    for name in PROVIDERS:
        tabs.filter(has_text=name).click()
        expect(page.locator(f'.column[data-provider="{name}"]')).to_be_visible()
        for other in set(PROVIDERS) - {name}:
            expect(page.locator(f'.column[data-provider="{other}"]')).to_be_hidden()


def test_stopping_one_reply_keeps_its_partial_text_and_the_others_go_on(chat: Page):
    page = chat
    pick(page, {name: SLOW for name in PROVIDERS})
    send(page, "Tell me a long story")
    stopped = column(page, "openai")
    expect(stopped.locator(".stream-text")).to_have_text(re.compile(r"^You said: Tell me a long story You"))

    stopped.get_by_role("button", name="Stop openai reply").click()
    expect(stopped).to_have_attribute("data-status", "cancelled")
    expect(stopped.locator(".status-badge")).to_have_text("Stopped")
    partial = stopped.locator(".reply-body").inner_text()
    assert partial.startswith("You said: Tell me a long story You")
    assert len(partial) < len(full_text("Tell me a long story", 400))
    for name in ("anthropic", "ollama"):
        expect(column(page, name)).to_have_attribute("data-status", "streaming")

    page.get_by_role("button", name="Stop all").click()
    for name in ("anthropic", "ollama"):
        expect(column(page, name)).to_have_attribute("data-status", "cancelled")
        expect(column(page, name).locator(".reply-body")).to_have_text(re.compile(r"^You said: Tell"))
    assert stopped.locator(".reply-body").inner_text() == partial

    page.reload()
    expect(column(page, "openai")).to_have_attribute("data-status", "cancelled")
    expect(column(page, "openai").locator(".reply-body")).to_have_text(partial)


def test_a_failed_provider_shows_its_error_while_the_others_finish(chat: Page):
    page = chat
    pick(page, {"openai": BROKEN, "anthropic": FAST, "ollama": FAST})
    send(page, "Hello there")
    failed = column(page, "openai")
    expect(failed).to_have_attribute("data-status", "error")
    expect(failed.get_by_role("alert")).to_contain_text("The provider refused the request.")
    expect(failed.locator(".status-badge")).to_have_text("Failed")
    expect(failed.get_by_role("button", name="Regenerate openai reply")).to_be_visible()
    for name in ("anthropic", "ollama"):
        expect(column(page, name)).to_have_attribute("data-status", "complete")
        expect(column(page, name).locator(".reply-body")).to_have_text(full_text("Hello there"))


def test_a_reply_says_it_is_retrying_until_its_text_arrives(chat: Page):
    page = chat
    # Rate limited twice (Retry-After 1 s), then answered; the live server allows 3 retries.
    flaky = f"fake-echo;delay_ms=20;error=429;retry_after=1;fail_times=2;id={uuid.uuid4().hex[:8]}"
    pick(page, {"openai": flaky, "anthropic": FAST})
    send(page, "Are you there")
    retried, steady = column(page, "openai"), column(page, "anthropic")
    badge = retried.locator(".status-badge")
    expect(badge).to_have_text("Retrying (1 of 3)…")
    expect(badge).to_have_attribute("title", "The provider is rate limiting requests. Next try in 1.0 s.")
    expect(steady).to_have_attribute("data-status", "complete")
    expect(badge).to_have_text("Retrying (2 of 3)…")
    expect(page.locator("#announcer")).to_have_text("openai reply: retrying, 2 of 3")

    expect(retried).to_have_attribute("data-status", "complete")
    expect(retried.locator(".reply-body")).to_have_text(full_text("Are you there"))
    expect(badge).to_be_hidden()
    expect(retried).not_to_have_attribute("data-retrying", "")


def test_reloading_mid_stream_continues_each_reply_where_it_was(chat: Page):
    page = chat
    message = "Describe the river delta"
    pick(page, {name: MEDIUM for name in PROVIDERS})
    send(page, message)
    expect(column(page, "anthropic").locator(".stream-text")).to_have_text(re.compile(r"^You said: Describe"))
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))

    page.reload()
    for name in PROVIDERS:
        reply = column(page, name)
        expect(reply).to_have_attribute("data-status", "streaming")
        expect(reply.locator(".stream-text")).to_have_text(re.compile(r"^You said: Describe"))
    for name in PROVIDERS:
        reply = column(page, name)
        expect(reply).to_have_attribute("data-status", "complete")
        # No piece lost and none doubled across the reload.
        expect(reply.locator(".reply-body")).to_have_text(full_text(message, 60))


def test_a_dropped_socket_reconnects_and_the_replies_resume_without_loss(chat: Page):
    page = chat
    message = "Count the mountains"
    connections = proxy_sockets(page)
    pick(page, {"openai": MEDIUM, "anthropic": MEDIUM})
    send(page, message)
    expect(column(page, "openai").locator(".stream-text")).to_have_text(re.compile(r"^You said: Count the"))
    assert len(connections) == 1

    page.evaluate("""() => {
        window.__states = [];
        const status = document.getElementById("connection-status");
        new MutationObserver(() => window.__states.push(status.dataset.state))
            .observe(status, { attributes: true, attributeFilter: ["data-state"] });
    }""")
    connections[0]["server"].close(code=1000)
    connections[0]["page"].close(code=4000, reason="network dropped")
    for name in ("openai", "anthropic"):
        reply = column(page, name)
        expect(reply).to_have_attribute("data-status", "complete")
        expect(reply.locator(".reply-body")).to_have_text(full_text(message, 60))
    assert len(connections) >= 2
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "online")
    states = page.evaluate("window.__states")
    assert states[:2] == ["offline", "reconnecting"] and states[-1] == "online", states


def test_a_lost_delta_makes_the_page_resync(chat: Page):
    page = chat
    message = "Spell the alphabet"
    state = {"dropped": None}

    def drop_one_delta(frame) -> bool:
        event = json.loads(frame)
        # The first delta after the first: a loaded machine coalesces more tokens per flush, so a
        # later seq (5 was used) could be the reply's last delta, after which no gap shows.
        if state["dropped"] is None and event.get("type") == "message.delta" and event["seq"] >= 2:
            state["dropped"] = event
            return False
        return True

    connections = proxy_sockets(page, drop_one_delta)
    pick(page, {"ollama": MEDIUM})
    send(page, message)
    reply = column(page, "ollama")
    expect(reply).to_have_attribute("data-status", "complete")
    expect(reply.locator(".reply-body")).to_have_text(full_text(message, 60))
    assert state["dropped"] is not None
    assert any(json.loads(frame) == {"type": "resync"} for frame in connections[0]["sent"])


def test_a_finished_reply_renders_headings_lists_tables_and_highlighted_code(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    send(page, "Here:\n\n## Plan\n\n- first step\n- second step\n\n| tool | cost |\n|---|---:|\n| webox | 0 |\n\n"
               "```python\ndef greet():\n    return 'hi'\n```")
    reply = column(page, "openai")
    expect(reply).to_have_attribute("data-status", "complete")
    markdown = reply.locator(".md")
    expect(markdown.get_by_role("heading", name="Plan")).to_be_visible()
    expect(markdown.locator("li")).to_have_text(["first step", "second step"])
    expect(markdown.locator("table td")).to_have_text(["webox", "0"])
    expect(markdown.locator("pre code")).to_contain_text("def greet():")
    # Pygments marked up the keyword: the code is highlighted, not just preformatted.
    expect(markdown.locator("pre code span.k").first).to_have_text("def")
