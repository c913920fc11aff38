"""A conversation's detail is a page of its newest turns; ``before`` pages back to the oldest."""

import pytest

from chat import selectors
from chat.models import Conversation, Message, ReplyStatus, Role

pytestmark = pytest.mark.django_db


def make_turns(user, count: int, replies_each: int = 2) -> tuple[Conversation, list[Message]]:
    conversation = Conversation.objects.create(owner=user, title="long")
    turns = []
    for number in range(count):
        question = Message.objects.create(conversation=conversation, role=Role.USER, content=f"q{number}",
                                          parent=turns[-1] if turns else None)
        for provider in range(replies_each):
            Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content=f"a{number}",
                                   provider=f"p{provider}", model="m", reply_to=question,
                                   status=ReplyStatus.COMPLETE)
        turns.append(question)
    return conversation, turns


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_TURNS", 3)
    monkeypatch.setattr(selectors, "PAGE_MESSAGES", 100)


def contents(body) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def test_the_detail_holds_the_newest_turns_and_pages_back_to_the_oldest(auth_client, user, small_pages):
    conversation, turns = make_turns(user, 7)
    url = f"/api/chat/conversations/{conversation.pk}"

    first = auth_client.get(url).json()
    assert contents(first) == ["q4", "q5", "q6"]
    assert len(first["messages"]) == 9 and first["messages"][0]["content"] == "q4"
    assert first["before"] == turns[4].pk
    assert first["next"] == f"http://testserver{url}?before={turns[4].pk}"

    second = auth_client.get(first["next"]).json()
    assert contents(second) == ["q1", "q2", "q3"] and second["before"] == turns[1].pk
    last = auth_client.get(url, {"before": second["before"]}).json()
    assert contents(last) == ["q0"] and last["before"] is None and last["next"] is None
    seen = [m["id"] for page in (first, second, last) for m in page["messages"]]
    assert sorted(seen) == sorted(conversation.messages.values_list("id", flat=True))


def test_a_regenerated_reply_stays_with_its_turn(auth_client, user, small_pages):
    conversation, turns = make_turns(user, 5)
    late = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="again", provider="p0",
                                  model="m", reply_to=turns[0], status=ReplyStatus.COMPLETE)
    url = f"/api/chat/conversations/{conversation.pk}"
    first = auth_client.get(url).json()
    assert late.pk not in [m["id"] for m in first["messages"]]
    older = auth_client.get(url, {"before": first["before"]}).json()
    assert late.pk in [m["id"] for m in older["messages"]]


def test_a_page_holds_at_most_page_messages_but_never_splits_a_turn(user, small_pages):
    conversation, turns = make_turns(user, 3, replies_each=40)
    page = selectors.conversation_messages_page(conversation=conversation, max_messages=100)
    assert [m.content for m in page.messages if m.role == Role.USER] == ["q1", "q2"]
    assert len(page.messages) == 82 and page.before == turns[1].pk
    alone = selectors.conversation_messages_page(conversation=conversation, max_messages=10)
    assert len(alone.messages) == 41 and alone.before == turns[2].pk


def test_a_message_answering_no_turn_is_on_the_page_around_it(auth_client, user, small_pages):
    conversation, turns = make_turns(user, 4, replies_each=0)
    loose = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="loose")
    old_loose = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="old loose")
    Message.objects.filter(pk=old_loose.pk).update(created_at=turns[0].created_at)
    url = f"/api/chat/conversations/{conversation.pk}"
    first = auth_client.get(url).json()
    last = auth_client.get(url, {"before": first["before"]}).json()
    assert [m["content"] for m in first["messages"]] == ["q1", "q2", "q3", "loose"]
    assert [m["content"] for m in last["messages"]] == ["q0", "old loose"]
    assert loose.pk != old_loose.pk


def test_before_must_be_a_message_of_this_conversation(auth_client, user, other_user):
    conversation, _ = make_turns(user, 1)
    _, theirs = make_turns(other_user, 1)
    url = f"/api/chat/conversations/{conversation.pk}"
    for before in ("x", str(theirs[0].pk), "999999"):
        response = auth_client.get(url, {"before": before})
        assert response.status_code == 400
        assert response.json()["detail"] == "before must be the id of a message of this conversation."
