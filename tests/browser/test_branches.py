"""Edit and resend, branches, and how a conversation goes on after a turn (continue.js)."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from testing.fake_provider import FakeProviderServer, expected_reply

from .conftest import FAST, PROVIDERS, column, open_settings, pick, proxy_sockets, send

pytestmark = pytest.mark.browser


def echo(text: str) -> str:
    return "".join(expected_reply(text)).strip()


def wait_complete(page: Page, names=PROVIDERS, turn: int = -1) -> None:
    for name in names:
        expect(column(page, name, turn)).to_have_attribute("data-status", "complete")


def ask(page: Page, text: str, names=PROVIDERS) -> None:
    """Sends a turn and waits for its replies (not the previous turn's)."""
    count = page.locator("article.turn").count()
    send(page, text)
    expect(page.locator("article.turn")).to_have_count(count + 1)
    wait_complete(page, names)


def edit(page: Page, turn: int, text: str) -> None:
    message = page.locator("article.turn").nth(turn).locator(".user-message")
    message.locator('[data-action="edit"]').click()
    box = message.get_by_role("textbox", name="Edit message")
    expect(box).to_be_focused()
    box.fill(text)
    message.get_by_role("button", name="Save & send").click()
    expect(box).to_be_hidden()  # sent: the edited turn left the thread, with its editor


def pager(page: Page, turn: int):
    return page.locator("article.turn").nth(turn).locator(".branch-pager")


def test_edit_and_resend_with_three_columns_keeps_the_old_branch(chat: Page):
    page = chat
    pick(page, dict.fromkeys(PROVIDERS, FAST))
    ask(page, "First question")
    ask(page, "Name a colour")
    expect(page.locator("article.turn").nth(1).locator('[data-action="edit"]')).to_be_visible()
    expect(pager(page, 1)).to_be_hidden()

    edit(page, 1, "Name a fruit")
    turns = page.locator("article.turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(1).locator(".user-message .bubble")).to_have_text("Name a fruit")
    for name in PROVIDERS:  # each column's reply arrives, streamed like a send's
        expect(column(page, name)).to_have_text(re.compile(re.escape(echo("Name a fruit"))))
    wait_complete(page)
    expect(pager(page, 1)).to_have_text("2 / 2")
    expect(pager(page, 0)).to_be_hidden()

    pager(page, 1).locator('[data-action="branch-prev"]').click()
    expect(pager(page, 1)).to_have_text("1 / 2")
    expect(turns.nth(1).locator(".user-message .bubble")).to_have_text("Name a colour")
    for name in PROVIDERS:
        expect(column(page, name)).to_have_text(re.compile(re.escape(echo("Name a colour"))))
        expect(column(page, name)).to_have_attribute("data-status", "complete")
    expect(turns.nth(0).locator(".user-message .bubble")).to_have_text("First question")

    page.reload()  # the branch shown is the conversation's, on the server
    expect(page.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(pager(page, 1)).to_have_text("1 / 2")
    expect(turns.nth(1).locator(".user-message .bubble")).to_have_text("Name a colour")

    pager(page, 1).locator('[data-action="branch-next"]').click()
    expect(pager(page, 1)).to_have_text("2 / 2")
    expect(column(page, "ollama")).to_have_text(re.compile(re.escape(echo("Name a fruit"))))


def test_the_editor_cancels_on_escape_and_refuses_an_empty_message(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    ask(page, "Keep me", ["openai"])
    message = page.locator("article.turn .user-message")
    message.locator('[data-action="edit"]').click()
    box = message.get_by_role("textbox", name="Edit message")
    expect(box).to_have_value("Keep me")
    box.fill("   ")
    message.get_by_role("button", name="Save & send").click()
    expect(message.get_by_role("alert")).to_have_text("Write a message first.")
    box.press("Escape")
    expect(box).to_be_hidden()
    expect(message.locator(".bubble")).to_have_text("Keep me")
    expect(message.locator('[data-action="edit"]')).to_be_focused()
    expect(page.locator("article.turn")).to_have_count(1)


def test_a_send_answered_late_leaves_the_focus_in_an_editor_opened_meanwhile(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    ask(page, "Keep me", ["openai"])
    held = []

    def hold(route):
        held.append((route, route.fetch()))  # the server has the send; its answer waits

    page.route("**/api/chat/send", hold)
    send(page, "Second")
    expect(page.locator("article.turn")).to_have_count(2)
    message = page.locator("article.turn").first.locator(".user-message")
    message.locator('[data-action="edit"]').click()
    box = message.get_by_role("textbox", name="Edit message")
    expect(box).to_be_focused()
    for _ in range(200):  # the handler's fetch runs beside the test: wait until it has the answer
        if held:
            break
        page.wait_for_timeout(50)
    route, response = held[0]
    route.fulfill(response=response)
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_value("")  # the send has finished
    expect(box).to_be_focused()


def test_an_edit_in_progress_keeps_its_focus_and_text_when_the_thread_is_brought_up_to_date(chat: Page):
    page = chat
    connections = proxy_sockets(page)
    pick(page, {"openai": FAST})
    ask(page, "Keep me", ["openai"])
    message = page.locator("article.turn .user-message")
    message.locator('[data-action="edit"]').click()
    box = message.get_by_role("textbox", name="Edit message")
    box.fill("Keep me, but better")
    expect(box).to_be_focused()
    page.evaluate("""() => {
        window.__redrawn = 0;
        new MutationObserver(() => { window.__redrawn += 1; })
            .observe(document.querySelector("article.turn .user-message"), { childList: true });
    }""")
    # The socket drops: the page reconnects and brings the thread up to date from the server, the
    # user message with it.
    connections[-1]["server"].close(code=1000)
    connections[-1]["page"].close(code=4000, reason="network dropped")
    page.wait_for_function("() => window.__redrawn > 0")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "online")
    expect(box).to_be_focused()
    expect(box).to_have_value("Keep me, but better")


def test_switching_the_branch_of_an_earlier_message_brings_back_the_turns_below_it(chat: Page):
    page = chat
    pick(page, {"openai": FAST, "anthropic": FAST})
    ask(page, "Plan a trip", ["openai", "anthropic"])
    ask(page, "Add a museum", ["openai", "anthropic"])

    edit(page, 0, "Plan a picnic")
    turns = page.locator("article.turn")
    expect(turns).to_have_count(1)  # the turn below the edited one stays on the old branch
    wait_complete(page, ["openai", "anthropic"])
    expect(pager(page, 0)).to_have_text("2 / 2")

    pager(page, 0).get_by_role("button", name="Previous branch").click()
    expect(turns).to_have_count(2)
    expect(pager(page, 0)).to_have_text("1 / 2")
    expect(turns.nth(1).locator(".user-message .bubble")).to_have_text("Add a museum")
    expect(column(page, "anthropic")).to_have_text(re.compile(re.escape(echo("Add a museum"))))

    pager(page, 0).get_by_role("button", name="Next branch").click()
    expect(turns).to_have_count(1)
    expect(turns.nth(0).locator(".user-message .bubble")).to_have_text("Plan a picnic")


def test_a_search_hit_on_another_branch_opens_that_branch(chat: Page):
    page = chat
    word = f"zebra{uuid.uuid4().hex[:6]}"
    pick(page, {"openai": FAST})
    ask(page, f"Tell me about the {word}", ["openai"])
    edit(page, 0, "Tell me about the lion")
    wait_complete(page, ["openai"])
    expect(pager(page, 0)).to_have_text("2 / 2")
    search = page.get_by_label("Search conversations and messages")
    hits = page.locator("#search-results .search-hit")

    for who in ("You:", "openai:"):  # the message itself, then a reply to it
        page.get_by_role("link", name="New chat").click()
        search.fill(word)
        hit = hits.filter(has_text=who)
        message_id = hit.get_attribute("data-message-id")
        hit.click()
        expect(pager(page, 0)).to_have_text("1 / 2")
        found = page.locator(f'#thread [data-message-id="{message_id}"]:not(.turn)')
        expect(found).to_have_class(re.compile(r"\bfound\b"))
        pager(page, 0).locator('[data-action="branch-next"]').click()
        expect(pager(page, 0)).to_have_text("2 / 2")
        search.fill("")


def test_a_column_joining_mid_conversation_starts_as_the_user_picks(chat: Page, fake_provider: FakeProviderServer):
    page = chat
    pick(page, {"openai": FAST})
    ask(page, "Earlier context", ["openai"])

    continuing = page.locator("#continuing")
    expect(continuing).to_be_hidden()
    pick(page, {"openai": FAST, "anthropic": FAST})
    choice = continuing.get_by_label("anthropic joins mid-conversation:")
    expect(choice).to_have_value("chosen")
    expect(continuing).to_contain_text("it sees the earlier messages with their chosen replies")
    choice.select_option(label="Start fresh")
    expect(continuing).to_contain_text("it sees none of the earlier messages")

    marker = f"Fresh start {uuid.uuid4().hex[:6]}"
    with page.expect_request("**/api/chat/send") as sent:
        send(page, marker)
    columns = {c["key"]: c for c in sent.value.post_data_json["columns"]}
    assert columns["anthropic"]["history"] == "empty"
    assert "history" not in columns["openai"], "a column with a thread keeps it"
    wait_complete(page, ["openai", "anthropic"])
    expect(continuing.locator(".joining-column")).to_have_count(0)  # both columns have a thread now

    # On the wire: the joining column sent the new message alone; the other its whole thread.
    requests = [r for r in fake_provider.chat_requests() if marker in str(r["json"])]
    by_kind = {"anthropic" if "/anthropic/" in r["path"] else "openai": r["json"]["messages"] for r in requests}
    assert [m["role"] for m in by_kind["anthropic"]] == ["user"]
    assert [m["role"] for m in by_kind["openai"]] == ["user", "assistant", "user"]


def test_continue_with_the_chosen_reply_only(chat: Page):
    page = chat
    pick(page, {"openai": FAST, "anthropic": FAST})
    open_settings(page)
    page.get_by_label("Follow-ups see").select_option("chosen")
    ask(page, "Two opinions please", ["openai", "anthropic"])
    only = page.get_by_role("button", name="Continue with the chosen reply only")
    expect(only).to_be_hidden()  # nothing chosen yet

    page.get_by_role("button", name="Choose anthropic reply for follow-ups").click()
    expect(only).to_be_visible()
    only.click()
    expect(page.get_by_role("checkbox", name="anthropic", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="openai", exact=True)).not_to_be_checked()
    expect(only).to_be_hidden()
    send(page, "Go on")
    expect(page.locator("article.turn").last.locator(".column")).to_have_count(1)
    expect(column(page, "anthropic")).to_have_attribute("data-status", "complete")


def test_another_tab_follows_an_edit_and_a_branch_switch(chat: Page):
    page = chat
    pick(page, {"openai": FAST})
    ask(page, "Shared question", ["openai"])
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator("#chat-app")).to_have_attribute("data-ready", "true")
    expect(other.locator("#connection-status")).to_have_attribute("data-state", "online")
    expect(other.locator("article.turn")).to_have_count(1)

    edit(page, 0, "Edited question")
    expect(other.locator(".branch-pager")).to_have_text("2 / 2")
    expect(other.locator("article.turn")).to_have_count(1)  # the new branch, not both turns
    expect(other.locator(".user-message .bubble")).to_have_text("Edited question")
    expect(column(other, "openai")).to_have_attribute("data-status", "complete")

    pager(page, 0).locator('[data-action="branch-prev"]').click()
    expect(other.locator(".branch-pager")).to_have_text("1 / 2")
    expect(other.locator(".user-message .bubble")).to_have_text("Shared question")
    other.close()
