"""Blind turns: labelled in a random order, and no surface (REST, socket events and snapshots, search,
export) names a reply's provider or model, nor shows its self-naming text, before the reveal."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from chat import events, hooks
from chat.exports import conversations_export_json, conversations_export_markdown
from chat.models import Conversation, Message, ReplyStatus, Role, Vote
from chat.providers import provider_create
from chat.serializers import message_data
from chat.services import conversation_create, vote_cast
from chat.streaming.consumers import ConversationConsumer
from chat.streaming.snapshots import snapshot_replies
from tests.conftest import send_turn

pytestmark = pytest.mark.django_db

NAMES = ("acme", "zenith", "fake-echo", "fake-stream")
SELF_NAMING = "I am Claude, made by Anthropic, served here as {provider} {model}."


@pytest.fixture
def providers(fake_provider):
    for name, model in (("acme", "fake-echo"), ("zenith", "fake-stream")):
        provider_create(name=name, kind="openai", api_key="test-key", model_names=[model], default_model=model,
                        base_url=fake_provider.url)


def blind_turn(user):
    """A finished blind turn of two replies, made as a send makes it (labels dealt at random)."""
    conversation = conversation_create(owner=user, blind=True)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="Who are you?")
    replies = [Message.objects.create(
        conversation=conversation, role=Role.ASSISTANT, provider=provider, model=model, column=provider,
        estimate={"key": provider, "provider": provider, "model": model}, reply_to=question,
        status=ReplyStatus.COMPLETE, content=SELF_NAMING.format(provider=provider, model=model), ttft_ms=120,
        duration_ms=900, prompt_tokens=10, completion_tokens=20, cost=Decimal("0.0001"), cost_currency="USD",
        parameters={"temperature": 0.5})
        for provider, model in (("acme", "fake-echo"), ("zenith", "fake-stream"))]
    from chat.services.blind import blind_turn_label

    blind_turn_label(replies)
    Message.objects.bulk_update(replies, ["blind_label"])
    return question, replies


def assert_hidden(text: str):
    for name in (*NAMES, "Claude", "Anthropic"):
        assert name.lower() not in text.lower(), name


def test_a_blind_send_deals_letters_and_its_rest_answers_name_nobody(auth_client, user, providers):
    conversation = auth_client.post("/api/chat/conversations", {"blind": True}, format="json").json()
    response = auth_client.post("/api/chat/send", {"conversation_id": conversation["id"], "message": "Hi",
                                                   "selected_providers": ["acme", "zenith"]}, format="json")
    assert response.status_code == 202
    replies = response.json()["replies"]
    assert sorted(r["blind_label"] for r in replies) == ["A", "B"]
    assert all(r["hidden"] and r["provider"] == "" and r["model"] == "" for r in replies)
    detail = auth_client.get(f"/api/chat/conversations/{conversation['id']}")
    assert_hidden(json.dumps(response.json()["replies"]) + json.dumps(detail.json()["messages"]))


def test_a_hidden_reply_has_no_figures_and_its_self_naming_text_is_masked(auth_client, user):
    question, (reply, other) = blind_turn(user)
    Message.objects.filter(pk=other.pk).update(status=ReplyStatus.ERROR, error_code="model_not_found",
                                               error_detail="The model `fake-stream` does not exist.")
    data = auth_client.get(f"/api/chat/conversations/{question.conversation_id}").json()["messages"][1]
    assert (data["ttft_ms"], data["duration_ms"], data["usage"]["cost"], data["parameters"]) == (None, None, None, {})
    assert (data["column"], data["estimate"]) == ("", None)
    assert data["content"] == "I am ██████, made by █████████, served here as ████ █████████."
    failed = auth_client.get(f"/api/chat/conversations/{question.conversation_id}").json()["messages"][2]
    assert failed["error_detail"] == "The model `███████████` does not exist."
    assert_hidden(json.dumps(data) + json.dumps(failed))


def test_socket_events_and_snapshots_of_a_blind_turn_name_nobody(user, monkeypatch,
                                                                 django_capture_on_commit_callbacks, providers):
    published = []
    monkeypatch.setattr(events, "publish_from_sync", lambda cid, evs: published.extend(evs))
    monkeypatch.setattr(hooks, "announce_replies_stored", lambda ids: None)  # the replies are not generated
    conversation = conversation_create(owner=user, blind=True)
    with django_capture_on_commit_callbacks(execute=True):
        result = send_turn(user=user, conversation=conversation, message="Hi", selected_providers=["acme", "zenith"])
    for reply in result.replies:
        Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.STREAMING, content=SELF_NAMING.format(
            provider=reply.provider, model=reply.model))
    replies, _ = snapshot_replies(conversation.pk)
    # The reply's end as the engine announces it (chat/services/replies.py): from its stored row.
    Message.objects.filter(pk=result.replies[0].pk).update(status=ReplyStatus.COMPLETE, ttft_ms=50, duration_ms=80,
                                                           completion_tokens=4)
    ended = events.message_ended(message_data(Message.objects.get(pk=result.replies[0].pk)))
    assert (ended["type"], ended["usage"]["completion_tokens"], ended["ttft_ms"]) == ("message.completed", None, None)
    assert [e["type"] for e in published] == ["conversation.updated", *["message.created"] * 3]
    assert len(replies) == 2 and all(r["hidden"] for r in replies)
    assert_hidden(json.dumps(published) + json.dumps(replies) + json.dumps(ended))


async def test_the_socket_masks_a_hidden_replys_deltas_and_blocks_until_it_is_revealed():
    consumer = ConversationConsumer()
    consumer.known_seq, consumer.hidden_names = {7: 0}, {7: ("acme", "fake-echo")}
    sent = []

    async def capture(event):
        sent.append(event)

    consumer.send_json = capture
    await consumer.chat_events({"events": [
        events.delta(message_id=7, seq=1, text="Hello, I am acme's fake-echo, not GPT-4o."),
        events.blocks(message_id=7, seq=1, start=0, end=10, html="<p>I am Claude</p>",
                      open={"end": 30, "html": "<pre><code>fake-echo\n</code></pre>", "append": False,
                            "in_code": True}),
    ]})
    assert sent[0]["text"] == "Hello, I am ████'s █████████, not ██████." and sent[1]["html"] == "<p>I am ██████</p>"
    assert sent[1]["open"]["html"] == "<pre><code>█████████\n</code></pre>" and sent[1]["open"]["end"] == 30
    await consumer.chat_events({"events": [events.message_updated({"id": 7, "hidden": False}),
                                           events.delta(message_id=7, seq=2, text=" Claude.")]})
    assert sent[-1]["text"] == " Claude."


def test_search_and_export_of_a_blind_turn_name_nobody(auth_client, user):
    question, _ = blind_turn(user)
    found = auth_client.get("/api/chat/search", {"q": "served"}).json()["results"]
    assert len(found) == 2 and all(r["provider"] == "" and r["model"] == "" for r in found)
    exported = conversations_export_json(Conversation.objects.filter(owner=user))
    markdown = conversations_export_markdown(Conversation.objects.filter(owner=user))
    assert_hidden(json.dumps(found) + exported + markdown)
    assert "### Model A" in markdown and '"cost": null' in exported
    replies = [m for m in json.loads(exported)["conversations"][0]["messages"] if m["role"] == "assistant"]
    assert all((r["column"], r["estimate"], r["blind_label"]) == ("", None, r["blind_label"]) for r in replies)


def test_two_columns_of_one_provider_hide_their_keys_and_estimates_until_the_reveal(
        auth_client, user, monkeypatch, django_capture_on_commit_callbacks, providers):
    """A column's key names its provider ("acme", "acme#2") and its estimate its model and price."""
    published = []
    monkeypatch.setattr(events, "publish_from_sync", lambda cid, evs: published.extend(evs))
    monkeypatch.setattr(hooks, "announce_replies_stored", lambda ids: None)
    conversation = auth_client.post("/api/chat/conversations", {"blind": True}, format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post("/api/chat/send", {
            "conversation_id": conversation["id"], "message": "Hi",
            "columns": [{"provider": "acme", "model": "fake-echo"}, {"provider": "acme", "model": "fake-echo",
                                                                     "temperature": 0.2}]}, format="json")
    assert response.status_code == 202
    body = response.json()
    stored = Message.objects.filter(reply_to_id=body["user_message"]["id"]).order_by("id")
    assert [(m.column, m.estimate["model"]) for m in stored] == [("acme", "fake-echo"), ("acme#2", "fake-echo")]
    detail = auth_client.get(f"/api/chat/conversations/{conversation['id']}").json()["messages"]
    snapshot, _ = snapshot_replies(conversation["id"])
    for replies in (body["replies"], detail[1:], snapshot, [e["message"] for e in published if "message" in e]):
        assert [(r["column"], r["estimate"]) for r in replies if r["role"] == "assistant"] == [("", None)] * 2
    assert_hidden(json.dumps(body) + json.dumps(detail) + json.dumps(snapshot) + json.dumps(published))
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        revealed = auth_client.post(f"/api/chat/messages/{body['user_message']['id']}/reveal").json()["replies"]
    assert sorted(r["column"] for r in revealed) == ["acme", "acme#2"]
    assert all(r["estimate"]["model"] == "fake-echo" for r in revealed)
    updated = [e["message"] for e in published if e["type"] == "message.updated"]
    assert sorted(r["column"] for r in updated) == ["acme", "acme#2"]


def test_reveal_shows_who_wrote_each_reply_and_a_later_vote_counts_apart(auth_client, user):
    question, (a, b) = blind_turn(user)
    response = auth_client.post(f"/api/chat/messages/{question.pk}/reveal")
    assert response.status_code == 200
    assert {(r["provider"], r["model"], r["hidden"]) for r in response.json()["replies"]} == {
        ("acme", "fake-echo", False), ("zenith", "fake-stream", False)}
    assert {(r["column"], r["estimate"]["model"]) for r in response.json()["replies"]} == {
        ("acme", "fake-echo"), ("zenith", "fake-stream")}
    stored = auth_client.put(f"/api/chat/messages/{question.pk}/vote", {"outcome": "best", "winners": [a.pk]},
                             format="json").json()
    assert (stored["blind"], stored["revealed_before"]) == (True, True)


def test_a_vote_reveals_a_blind_turn_and_counts_as_blind(user):
    question, (a, b) = blind_turn(user)
    vote = vote_cast(turn=question, outcome="best", winners=[b.pk])
    assert (vote.blind, vote.revealed_before) == (True, False)
    assert all(m.blind_revealed_at for m in Message.objects.filter(reply_to=question))


def test_a_regenerated_blind_reply_keeps_its_letter_and_stays_hidden(auth_client, user):
    question, (a, _) = blind_turn(user)
    new = auth_client.post(f"/api/chat/messages/{a.pk}/regenerate").json()["reply"]
    assert (new["blind_label"], new["hidden"], new["provider"]) == (a.blind_label, True, "")


def test_reveal_of_a_turn_that_is_not_blind_is_a_400(auth_client, user):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="hi")
    response = auth_client.post(f"/api/chat/messages/{question.pk}/reveal")
    assert response.status_code == 400 and response.json()["detail"]


def test_the_arena_sends_a_blind_turn_to_random_models(auth_client, user, providers, settings):
    settings.WEBOX_DEMO_PROVIDER = False
    response = auth_client.post("/api/chat/arena", {"message": "Tell me a joke", "count": 2}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["conversation"]["blind"] is True
    assert sorted(r["blind_label"] for r in body["replies"]) == ["A", "B"]
    assert_hidden(json.dumps(body))
    stored = Message.objects.filter(reply_to_id=body["user_message"]["id"])
    assert {m.provider for m in stored} == {"acme", "zenith"}


def test_the_arena_may_draw_two_models_of_one_provider(auth_client, user, fake_provider, settings):
    settings.WEBOX_DEMO_PROVIDER = False
    provider_create(name="acme", kind="openai", api_key="test-key", model_names=["fake-echo", "fake-stream"],
                    default_model="fake-echo", base_url=fake_provider.url)
    response = auth_client.post("/api/chat/arena", {"message": "Tell me a joke", "count": 2}, format="json")
    assert response.status_code == 202
    assert_hidden(json.dumps(response.json()))
    stored = Message.objects.filter(reply_to_id=response.json()["user_message"]["id"])
    assert sorted((m.provider, m.model, m.column) for m in stored) in (
        [("acme", "fake-echo", "acme"), ("acme", "fake-stream", "acme#2")],
        [("acme", "fake-echo", "acme#2"), ("acme", "fake-stream", "acme")])


@pytest.mark.parametrize("count", [1, 9, 3])
def test_the_arena_refuses_a_count_it_cannot_pick_and_stores_nothing(auth_client, user, providers, settings, count):
    settings.WEBOX_DEMO_PROVIDER = False
    response = auth_client.post("/api/chat/arena", {"message": "Hi", "count": count}, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    assert not Conversation.objects.exists() and not Vote.objects.exists()
