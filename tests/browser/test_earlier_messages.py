"""A long conversation opens at its newest turns; "Load earlier messages" adds the older ones above."""

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import manage, sign_up

pytestmark = pytest.mark.browser

SEED = """
from accounts.models import User
from chat.models import Conversation, Message
owner = User.objects.get(username={username!r})
conversation = Conversation.objects.create(owner=owner, title="Long history")
first = question = None
for n in range({turns}):
    # Each turn follows the one before, as sends store them (one branch).
    question = Message.objects.create(conversation=conversation, role="user", content=f"Question {{n}}",
                                      parent=question)
    first = first or question
    Message.objects.create(conversation=conversation, role="assistant", content=f"Answer {{n}}", provider="openai",
                           model="gpt-test", reply_to=question, status="complete")
print("seeded", conversation.pk, first.pk)
"""


def seed(username: str, turns: int) -> tuple[int, int]:
    output = manage("shell", "-c", SEED.format(username=username, turns=turns))
    [line] = [line for line in output.splitlines() if line.startswith("seeded ")]
    _, conversation_id, first_id = line.split()
    return int(conversation_id), int(first_id)


def test_earlier_turns_load_above_and_the_view_stays_put(page: Page):
    conversation_id, _ = seed(sign_up(page), 60)
    page.goto(f"/c/{conversation_id}/")
    turns = page.locator("article.turn")
    expect(turns).to_have_count(50)
    expect(turns.first).to_contain_text("Question 10")
    expect(turns.last).to_be_in_viewport()
    button = page.get_by_role("button", name="Load earlier messages")

    button.click()

    expect(turns).to_have_count(60)
    expect(turns.first).to_contain_text("Question 0")
    expect(turns.nth(10)).to_contain_text("Question 10")
    expect(turns.nth(10)).to_be_in_viewport()  # what was on top of the view is still there
    expect(button).to_be_hidden()


def test_a_short_conversation_has_no_button(page: Page):
    conversation_id, _ = seed(sign_up(page), 3)
    page.goto(f"/c/{conversation_id}/")
    expect(page.locator("article.turn")).to_have_count(3)
    expect(page.get_by_role("button", name="Load earlier messages")).to_be_hidden()


def test_a_link_to_an_old_message_loads_pages_until_it_is_shown(page: Page):
    conversation_id, first_id = seed(sign_up(page), 120)
    page.goto(f"/c/{conversation_id}/#m{first_id}")
    expect(page.locator("article.turn")).to_have_count(120)
    target = page.locator(f'article.turn[data-message-id="{first_id}"] .user-message')
    expect(target).to_have_class(re.compile(r"\bfound\b"))
    expect(target).to_be_in_viewport()
