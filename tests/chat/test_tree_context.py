"""Each column keeps its own thread on every branch: what the providers are sent after an edit, a
branch switch and a column joining mid-conversation, read from the fake provider's own requests
(the OpenAI and Anthropic SDKs run end to end)."""

from __future__ import annotations

import time

import pytest

from accounts.models import MonthlyUsage
from chat.models import ACTIVE_STATUSES, Message
from chat.providers import provider_create
from chat.services import conversation_create, reply_choose
from testing.fake_provider import sent_text

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]

# Each column answers with a text of its own length, so its words are told apart from the others'.
GPT = {"key": "gpt", "provider": "gpt", "model": "fake-echo;tokens=3"}
CLAUDE = {"key": "claude", "provider": "claude", "model": "fake-echo;tokens=4"}


@pytest.fixture
def providers(fake_provider, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 20
    provider_create(name="gpt", kind="openai", api_key="test-key", model_names=["fake-echo"],
                    default_model="fake-echo", base_url=fake_provider.url)
    provider_create(name="claude", kind="anthropic", api_key="test-key", model_names=["fake-echo"],
                    default_model="fake-echo", base_url=fake_provider.anthropic_url)
    return fake_provider


def ended(body) -> dict:
    """Wait for a send's (or an edit's) replies to end; {column key: reply text}."""
    ids = [reply["id"] for reply in body["replies"]]
    deadline = time.monotonic() + 30
    while Message.objects.filter(pk__in=ids, status__in=ACTIVE_STATUSES).exists():
        assert time.monotonic() < deadline, "the replies did not end"
        time.sleep(0.05)
    replies = Message.objects.filter(pk__in=ids)
    assert {reply.status for reply in replies} == {"complete"}
    return {reply.column: reply.content for reply in replies}


def send(client, conversation, text, columns):
    response = client.post("/api/chat/send", {"conversation_id": conversation.pk, "message": text,
                                              "columns": columns}, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def sent(fake_provider) -> dict[str, list[tuple[str, str]]]:
    """What each column's model was sent since the last reset: {model: [(role, text), …]}."""
    out = {}
    for request in fake_provider.chat_requests():
        body = request["json"]
        out[body["model"]] = [(m["role"], sent_text(m)) for m in body["messages"]]
    fake_provider.reset()
    return out


def test_after_an_edit_and_a_switch_each_column_is_sent_its_own_thread_of_the_branch(user, auth_client,
                                                                                       providers):
    conversation = conversation_create(owner=user)
    first = send(auth_client, conversation, "q1", [GPT, CLAUDE])
    a1 = ended(first)
    second = send(auth_client, conversation, "q2", [GPT, CLAUDE])
    a2 = ended(second)
    providers.reset()

    edited = auth_client.post(f"/api/chat/messages/{second['user_message']['id']}/edit", {"message": "q2b"},
                              format="json")
    assert edited.status_code == 202, edited.content
    b2 = ended(edited.json())
    assert sent(providers) == {
        GPT["model"]: [("user", "q1"), ("assistant", a1["gpt"]), ("user", "q2b")],
        CLAUDE["model"]: [("user", "q1"), ("assistant", a1["claude"]), ("user", "q2b")],
    }

    ended(send(auth_client, conversation, "q3", [GPT, CLAUDE]))
    assert sent(providers) == {
        GPT["model"]: [("user", "q1"), ("assistant", a1["gpt"]), ("user", "q2b"), ("assistant", b2["gpt"]),
                       ("user", "q3")],
        CLAUDE["model"]: [("user", "q1"), ("assistant", a1["claude"]), ("user", "q2b"),
                          ("assistant", b2["claude"]), ("user", "q3")],
    }

    switched = auth_client.post(f"/api/chat/conversations/{conversation.pk}/branch",
                                {"turn": second["user_message"]["id"]}, format="json")
    assert switched.status_code == 200
    ended(send(auth_client, conversation, "q3 on the first branch", [GPT]))
    assert sent(providers) == {
        GPT["model"]: [("user", "q1"), ("assistant", a1["gpt"]), ("user", "q2"), ("assistant", a2["gpt"]),
                       ("user", "q3 on the first branch")],
    }


def test_a_column_joining_later_starts_from_the_chosen_replies_or_from_nothing(user, auth_client, providers):
    conversation = conversation_create(owner=user)
    first = send(auth_client, conversation, "q1", [GPT, CLAUDE])
    a1 = ended(first)
    reply_choose(reply=Message.objects.get(reply_to_id=first["user_message"]["id"], column="claude"))
    ended(send(auth_client, conversation, "q2", [GPT, CLAUDE]))
    providers.reset()

    chosen = {"key": "late", "provider": "gpt", "model": "fake-echo;tokens=5"}
    empty = {"key": "fresh", "provider": "claude", "model": "fake-echo;tokens=6", "history": "empty"}
    joined = ended(send(auth_client, conversation, "q3", [chosen, empty]))

    # q2 had no chosen reply: the joining column is sent the user's message alone.
    assert sent(providers) == {
        chosen["model"]: [("user", "q1"), ("assistant", a1["claude"]), ("user", "q2"), ("user", "q3")],
        empty["model"]: [("user", "q3")],
    }
    # The rule stays with the column: its next turn has its own reply, and still nothing before it joined.
    ended(send(auth_client, conversation, "q4", [{k: v for k, v in empty.items() if k != "history"}]))
    assert sent(providers) == {empty["model"]: [("user", "q3"), ("assistant", joined["fresh"]), ("user", "q4")]}


def test_usage_and_the_dashboard_count_every_reply_on_every_branch(user, auth_client, providers):
    conversation = conversation_create(owner=user)
    first = send(auth_client, conversation, "q1", [GPT, CLAUDE])
    ended(first)
    edited = auth_client.post(f"/api/chat/messages/{first['user_message']['id']}/edit", {"message": "q1b"},
                              format="json")
    ended(edited.json())
    on_screen = auth_client.get(f"/api/chat/conversations/{conversation.pk}").json()["messages"]
    assert [m["content"] for m in on_screen if m["role"] == "user"] == ["q1b"]

    replies = Message.objects.filter(conversation=conversation, role="assistant")
    tokens = sum(r.prompt_tokens + r.completion_tokens for r in replies)
    assert replies.count() == 4 and tokens > 0
    assert MonthlyUsage.objects.get(user=user).tokens == tokens
    totals = auth_client.get("/api/dashboard/summary", {"days": 7}).json()["totals"]
    assert totals["replies"]["value"] == 4
    assert totals["prompt_tokens"]["value"] + totals["completion_tokens"]["value"] == tokens
