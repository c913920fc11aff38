"""Fuse: a model the user picks combines a turn's replies into a reply of its own, with its provenance."""

import json

import pytest

from chat import exports
from chat.context import build_chat_request, column_request, earlier_turns
from chat.models import Conversation, Message, ReplyStatus
from chat.providers.services import provider_create
from chat.services import DEFAULT_FUSE_PROMPT, conversation_create, conversation_update, reply_choose

pytestmark = pytest.mark.django_db


def answered(conversation, question, answers):
    """A finished turn: {column key: text}."""
    asked = Message.objects.create(conversation=conversation, role="user", content=question)
    for key, text in answers.items():
        Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="demo-echo",
                               column=key, reply_to=asked, status=ReplyStatus.COMPLETE, content=text)
    return asked


@pytest.fixture
def turn(user):
    return answered(conversation_create(owner=user), "Is a tomato a fruit?",
                    {"demo": "Yes, botanically.", "demo#2": "A vegetable, in the kitchen."})


def fuse(client, message_id, **body):
    return client.post(f"/api/chat/messages/{message_id}/fuse", body, format="json")


def test_a_fuse_is_a_new_reply_of_the_turn_sent_the_question_and_the_replies(auth_client, turn):
    first, second = turn.replies.order_by("id")
    response = fuse(auth_client, turn.pk, provider="demo", model="demo-markdown")
    assert response.status_code == 202, response.content
    reply = response.json()["reply"]
    assert (reply["reply_to"], reply["column"], reply["model"], reply["status"]) == (
        turn.pk, "fuse", "demo-markdown", "pending")
    assert reply["fuse"]["sources"] == [first.pk, second.pk]
    assert reply["fuse"]["template"] == DEFAULT_FUSE_PROMPT
    prompt = reply["fuse"]["prompt"]
    assert "<question>\nIs a tomato a fruit?\n</question>" in prompt
    assert prompt.endswith('<reply number="1">\nYes, botanically.\n</reply>\n\n'
                           '<reply number="2">\nA vegetable, in the kitchen.\n</reply>')
    # What the model is sent: the prompt alone, no system prompt and no earlier turns.
    request = build_chat_request(Message.objects.get(pk=reply["id"]))
    assert [(m.role, m.content) for m in request.messages] == [("user", prompt)] and request.system_prompt == ""
    # Shown with the conversation, like any reply.
    listed = auth_client.get(f"/api/chat/conversations/{turn.conversation_id}").json()["messages"]
    assert next(m for m in listed if m["id"] == reply["id"])["fuse"]["sources"] == [first.pk, second.pk]


def test_ticked_replies_an_edited_prompt_and_a_second_fuse_in_its_own_column(auth_client, turn):
    first, second = turn.replies.order_by("id")
    assert auth_client.get(f"/api/chat/messages/{turn.pk}/fuse").json() == {
        "prompt": DEFAULT_FUSE_PROMPT, "replies": [first.pk, second.pk]}
    fuse(auth_client, turn.pk, provider="demo")
    response = fuse(auth_client, turn.pk, provider="demo", replies=[second.pk],
                    prompt="Q: {question}\nBraces {kept}.\n{replies}")
    assert response.status_code == 202
    reply = response.json()["reply"]
    assert reply["column"] == "fuse#2" and reply["fuse"]["sources"] == [second.pk]
    assert reply["fuse"]["prompt"] == ("Q: Is a tomato a fruit?\nBraces {kept}.\n"
                                       '<reply number="1">\nA vegetable, in the kitchen.\n</reply>')
    # Regenerated, it asks the same prompt again, in the same column.
    again = auth_client.post(f"/api/chat/messages/{reply['id']}/regenerate").json()["reply"]
    assert (again["column"], again["fuse"]) == ("fuse#2", reply["fuse"])


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"provider": "nobody"}, 400, "Unknown provider"),
    ({"provider": "strict", "model": "not-served"}, 400, "not allowed"),
    ({"provider": "demo", "replies": []}, 400, "replies"),
    ({"provider": "demo", "replies": "other-turn"}, 400, "not a reply of this turn"),
    ({"provider": "demo", "replies": "unfinished"}, 400, "has not finished"),
    ({"provider": "demo", "replies": "the-user-message"}, 400, "not a reply of this turn"),
    ({"provider": "demo", "prompt": "Combine them."}, 400, "{replies}"),
])
def test_bad_fuses_are_refused_and_nothing_is_stored(auth_client, user, turn, body, status, says):
    provider_create(name="strict", kind="openai", api_key="k", model_names=["a"], allowed_models=["a"])
    other = answered(turn.conversation, "Another question", {"demo": "Another answer"})
    unfinished = Message.objects.create(conversation=turn.conversation, role="assistant", provider="demo",
                                        model="demo-echo", column="demo#3", reply_to=turn,
                                        status=ReplyStatus.STREAMING, content="Half")
    named = {"other-turn": [other.replies.get().pk], "unfinished": [unfinished.pk], "the-user-message": [turn.pk]}
    if isinstance(body.get("replies"), str):
        body = {**body, "replies": named[body["replies"]]}
    before = Message.objects.count()
    response = fuse(auth_client, turn.pk, **body)
    assert response.status_code == status
    assert says in response.json()["detail"]
    assert Message.objects.count() == before


def test_another_users_turn_or_a_reply_in_its_place_is_not_found(auth_client, make_user, turn):
    stranger = answered(conversation_create(owner=make_user("bob")), "Mine", {"demo": "Secret"})
    assert fuse(auth_client, stranger.pk, provider="demo").status_code == 404
    assert fuse(auth_client, turn.replies.first().pk, provider="demo").status_code == 404
    assert fuse(auth_client, turn.pk, provider="demo", replies=[stranger.replies.get().pk]).status_code == 400


def test_a_turn_without_finished_replies_has_nothing_to_fuse(auth_client, user):
    asked = answered(conversation_create(owner=user), "Hello?", {})
    response = fuse(auth_client, asked.pk, provider="demo")
    assert response.status_code == 400 and "no finished reply" in response.json()["detail"]


def test_a_chosen_fused_reply_is_the_next_turns_context_in_chosen_mode(auth_client, turn):
    fused = Message.objects.get(pk=fuse(auth_client, turn.pk, provider="demo").json()["reply"]["id"])
    Message.objects.filter(pk=fused.pk).update(status=ReplyStatus.COMPLETE, content="A fruit, cooked as a vegetable.")
    fused.refresh_from_db()
    reply_choose(reply=fused)
    conversation = turn.conversation
    conversation_update(conversation=conversation, context_mode="chosen")
    request = column_request(conversation=conversation, turns=earlier_turns(conversation),
                             column="demo", provider="demo", model="demo-echo", parameters={},
                             question="And a cucumber?")
    assert [m.content for m in request.messages] == [
        "Is a tomato a fruit?", "A fruit, cooked as a vegetable.", "And a cucumber?"]


def test_export_and_import_carry_a_fused_replys_provenance(auth_client, user, turn):
    fused_id = fuse(auth_client, turn.pk, provider="demo").json()["reply"]["id"]
    Message.objects.filter(pk=fused_id).update(status=ReplyStatus.COMPLETE, content="Both.")
    data = json.loads(exports.conversations_export_json([turn.conversation]))
    [copy] = exports.conversations_import(owner=user, raw=json.dumps(data))
    new_turn = copy.messages.get(role="user")
    fused = copy.messages.get(column="fuse")
    assert fused.fuse["sources"] == list(new_turn.replies.filter(fuse__isnull=True).order_by("id")
                                         .values_list("pk", flat=True))
    assert fused.fuse["prompt"] == Message.objects.get(pk=fused_id).fuse["prompt"]
    assert "(fused from 2 replies)" in exports.conversations_export_markdown([copy])
    assert Conversation.objects.count() == 2


def test_a_blind_turn_is_fused_only_after_its_vote_or_reveal(auth_client, turn):
    Message.objects.filter(reply_to=turn).update(blind_label="A")
    Message.objects.filter(reply_to=turn, column="demo#2").update(blind_label="B")

    refused = fuse(auth_client, turn.pk, provider="demo")
    assert refused.status_code == 400 and "blind" in refused.json()["detail"]
    assert not Message.objects.filter(reply_to=turn, column__startswith="fuse").exists()

    revealed = auth_client.post(f"/api/chat/messages/{turn.pk}/reveal", {}, format="json")
    assert revealed.status_code == 200, revealed.content
    assert fuse(auth_client, turn.pk, provider="demo").status_code == 202
