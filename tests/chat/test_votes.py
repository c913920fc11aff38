"""Votes on a turn: the API's rules, one concept with "chosen", regeneration, events, export and import."""

from __future__ import annotations

import json

import pytest

from chat import events
from chat.exports import conversations_export_json
from chat.imports import conversations_import
from chat.models import Conversation, Message, ReplyStatus, Role, Vote
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def make_turn(owner, providers=("openai", "anthropic", "ollama"), status=ReplyStatus.COMPLETE):
    conversation = conversation_create(owner=owner)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="Which is best?")
    replies = [Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider=p, model=f"{p}-m",
                                      reply_to=question, status=status, content=f"answer of {p}")
               for p in providers]
    return question, replies


def vote(client, turn, outcome, winners):
    return client.put(f"/api/chat/messages/{turn.pk}/vote", {"outcome": outcome, "winners": winners}, format="json")


def chosen_ids(turn):
    return set(Message.objects.filter(reply_to=turn, chosen=True).values_list("pk", flat=True))


def test_a_best_vote_is_stored_with_every_judged_reply_and_chooses_the_winner(auth_client, user):
    turn, (a, b, c) = make_turn(user)
    response = vote(auth_client, turn, "best", [b.pk])
    assert response.status_code == 200
    body = response.json()
    assert (body["message_id"], body["outcome"], body["winners"], body["blind"], body["revealed_before"]) == (
        turn.pk, "best", [b.pk], False, False)
    assert body["replies"] == [{"id": r.pk, "provider": r.provider, "model": r.model} for r in (a, b, c)]
    assert chosen_ids(turn) == {b.pk}
    assert auth_client.get(f"/api/chat/messages/{turn.pk}/vote").json()["winners"] == [b.pk]


def test_a_tie_and_all_bad_are_stored_and_leave_no_reply_chosen(auth_client, user):
    turn, (a, b, c) = make_turn(user)
    vote(auth_client, turn, "best", [a.pk])
    assert vote(auth_client, turn, "tie", [a.pk, c.pk]).json()["winners"] == [a.pk, c.pk]
    assert chosen_ids(turn) == set()
    assert vote(auth_client, turn, "all_bad", []).json()["outcome"] == "all_bad"
    assert Vote.objects.filter(turn=turn).count() == 1


@pytest.mark.parametrize(("outcome", "pick"), [
    ("best", []), ("best", [0, 1]), ("tie", [0]), ("all_bad", [0]), ("worst", [0]),
])
def test_winners_that_do_not_fit_the_outcome_are_a_400_and_store_nothing(auth_client, user, outcome, pick):
    turn, replies = make_turn(user)
    response = vote(auth_client, turn, outcome, [replies[i].pk for i in pick])
    assert response.status_code == 400 and response.json()["detail"]
    assert not Vote.objects.exists()


def test_a_reply_of_another_turn_or_unfinished_cannot_win(auth_client, user):
    turn, (a, b, _) = make_turn(user)
    other_turn, (elsewhere, *_) = make_turn(user)
    Message.objects.filter(pk=b.pk).update(status=ReplyStatus.STREAMING)
    first = vote(auth_client, turn, "best", [elsewhere.pk])
    second = vote(auth_client, turn, "best", [b.pk])
    assert (first.status_code, second.status_code) == (400, 400)
    assert "not a reply of this turn" in first.json()["detail"]
    assert "not finished" in second.json()["detail"]
    assert vote(auth_client, a, "best", [a.pk]).status_code == 400  # a reply is not a turn
    assert not Vote.objects.exists()


def test_another_users_turn_is_not_found(auth_client, user, other_user):
    theirs, (reply, *_) = make_turn(other_user)
    assert vote(auth_client, theirs, "best", [reply.pk]).status_code == 404
    assert auth_client.get(f"/api/chat/messages/{theirs.pk}/vote").status_code == 404
    response = auth_client.delete(f"/api/chat/messages/{theirs.pk}/vote")
    assert response.status_code == 404 and response.json()["detail"]


def test_withdrawing_a_vote_removes_it_and_the_chosen_reply(auth_client, user):
    turn, (a, *_) = make_turn(user)
    vote(auth_client, turn, "best", [a.pk])
    assert auth_client.delete(f"/api/chat/messages/{turn.pk}/vote").status_code == 204
    gone = auth_client.get(f"/api/chat/messages/{turn.pk}/vote")
    assert (gone.status_code, gone.json()["detail"]) == (404, "This turn has no vote.")
    assert chosen_ids(turn) == set()


def test_choosing_a_reply_is_a_best_vote_and_voting_changes_the_choice(auth_client, user):
    turn, (a, b, _) = make_turn(user)
    assert auth_client.post(f"/api/chat/messages/{a.pk}/choose").status_code == 200
    stored = Vote.objects.get(turn=turn)
    assert (stored.outcome, stored.winners) == ("best", [a.pk])
    vote(auth_client, turn, "best", [b.pk])
    assert chosen_ids(turn) == {b.pk}


def test_a_vote_survives_regeneration_for_the_replies_it_names(auth_client, user):
    turn, (a, b, _) = make_turn(user)
    vote(auth_client, turn, "best", [a.pk])
    new = auth_client.post(f"/api/chat/messages/{a.pk}/regenerate").json()["reply"]
    stored = auth_client.get(f"/api/chat/messages/{turn.pk}/vote").json()
    assert stored["winners"] == [a.pk]
    assert new["id"] not in {item["id"] for item in stored["replies"]}
    assert chosen_ids(turn) == {a.pk}
    Message.objects.filter(pk=new["id"]).update(status=ReplyStatus.COMPLETE)
    assert vote(auth_client, turn, "best", [new["id"]]).json()["replies"][-1]["id"] == new["id"]


def test_a_vote_tells_the_conversations_sockets(auth_client, user, monkeypatch, django_capture_on_commit_callbacks):
    turn, (a, b, _) = make_turn(user)
    published = []
    monkeypatch.setattr(events, "publish_from_sync", lambda cid, evs: published.extend(evs))
    with django_capture_on_commit_callbacks(execute=True):
        vote(auth_client, turn, "best", [a.pk])
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.delete(f"/api/chat/messages/{turn.pk}/vote")
    kinds = [(e["type"], e.get("message", {}).get("id") or e.get("message_id")) for e in published]
    assert kinds == [("message.updated", a.pk), ("turn.voted", turn.pk), ("message.updated", a.pk),
                     ("turn.voted", turn.pk)]
    assert published[1]["vote"]["winners"] == [a.pk] and published[3]["vote"] is None


def test_votes_go_into_the_export_and_come_back_on_import(user, make_user):
    turn, (a, b, c) = make_turn(user)
    from chat.services import vote_cast

    vote_cast(turn=turn, outcome="tie", winners=[a.pk, c.pk])
    exported = json.loads(conversations_export_json(Conversation.objects.filter(owner=user)))
    [conversation] = conversations_import(owner=make_user("bob"), raw=json.dumps(exported)).conversations
    imported_turn = conversation.messages.get(role=Role.USER)
    new_a, new_b, new_c = conversation.messages.filter(role=Role.ASSISTANT).order_by("id")
    stored = Vote.objects.get(turn=imported_turn)
    assert (stored.outcome, stored.winners, stored.user.username) == ("tie", [new_a.pk, new_c.pk], "bob")
    assert [item["id"] for item in stored.replies] == [new_a.pk, new_b.pk, new_c.pk]


def test_the_export_carries_columns_estimates_and_the_vote_together(user, make_user):
    """Two columns of one provider, each with its key and estimate; the vote names one of them."""
    conversation = conversation_create(owner=user)
    Conversation.objects.filter(pk=conversation.pk).update(default_columns=[
        {"key": "openai", "provider": "openai", "model": "gpt-4o"},
        {"key": "openai#2", "provider": "openai", "model": "gpt-4o-mini"}])
    turn = Message.objects.create(conversation=conversation, role=Role.USER, content="Which is best?")
    replies = [Message.objects.create(
        conversation=conversation, role=Role.ASSISTANT, provider="openai", model=model, column=key, reply_to=turn,
        status=ReplyStatus.COMPLETE, content=f"answer of {model}", estimate={"key": key, "model": model})
        for key, model in (("openai", "gpt-4o"), ("openai#2", "gpt-4o-mini"))]
    from chat.services import vote_cast

    vote_cast(turn=turn, outcome="best", winners=[replies[1].pk])
    exported = json.loads(conversations_export_json(Conversation.objects.filter(owner=user)))
    item = exported["conversations"][0]
    assert [c["key"] for c in item["default_columns"]] == ["openai", "openai#2"]
    assert [(m["column"], m["estimate"]["model"]) for m in item["messages"][1:]] == [
        ("openai", "gpt-4o"), ("openai#2", "gpt-4o-mini")]
    assert item["messages"][0]["vote"]["winners"] == [replies[1].pk]
    [imported] = conversations_import(owner=make_user("bob"), raw=json.dumps(exported)).conversations
    new_replies = list(imported.messages.filter(role=Role.ASSISTANT).order_by("id"))
    assert [(r.column, r.estimate) for r in new_replies] == [(r.column, r.estimate) for r in replies]
    stored = Vote.objects.get(turn__conversation=imported)
    assert stored.winners == [new_replies[1].pk]
    assert [(i["provider"], i["model"]) for i in stored.replies] == [("openai", "gpt-4o"), ("openai", "gpt-4o-mini")]


def test_an_import_whose_vote_names_a_reply_of_another_turn_is_refused(user):
    turn, (a, *_) = make_turn(user)
    other, (elsewhere, *_) = make_turn(user, providers=("x",))
    from chat.services import vote_cast

    vote_cast(turn=turn, outcome="best", winners=[a.pk])
    exported = json.loads(conversations_export_json(Conversation.objects.filter(owner=user).order_by("id")))
    exported["conversations"][0]["messages"][0]["vote"]["winners"] = [elsewhere.pk]
    from chat.imports import ExportFileError

    with pytest.raises(ExportFileError, match="winners"):
        conversations_import(owner=user, raw=json.dumps(exported))
    assert Vote.objects.count() == 1
