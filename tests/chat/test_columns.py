"""Columns: a turn is 1–8 columns, a provider as often as wanted, each column its own thread."""

import json

import pytest

from chat import exports, imports
from chat.context import build_chat_request
from chat.models import Conversation, Message, ReplyStatus
from chat.providers.services import provider_create
from chat.services import conversation_create, reply_regenerate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 1


def send(client, **fields):
    return client.post("/api/chat/send", {"message": "Compare these", **fields}, format="json")


def test_two_columns_of_one_provider_get_a_reply_each_with_its_own_key(auth_client):
    response = send(auth_client, columns=[
        {"provider": "demo", "model": "demo-echo", "max_tokens": 20},
        {"provider": "demo", "model": "demo-markdown", "temperature": 0.5},
    ])
    assert response.status_code == 202
    first, second = response.json()["replies"]
    assert (first["provider"], first["model"], first["column"]) == ("demo", "demo-echo", "demo")
    assert (second["provider"], second["model"], second["column"]) == ("demo", "demo-markdown", "demo#2")
    assert first["parameters"] == {"max_tokens": 20} and second["parameters"] == {"temperature": 0.5}


def test_one_model_at_two_temperatures_with_keys_of_ones_own(auth_client):
    response = send(auth_client, temperature=0.1, columns=[
        {"key": "cold", "provider": "demo", "model": "demo-echo"},
        {"key": "hot", "provider": "demo", "model": "demo-echo", "temperature": 1.5},
    ])
    assert response.status_code == 202
    replies = response.json()["replies"]
    assert [(r["column"], r["parameters"]["temperature"]) for r in replies] == [("cold", 0.1), ("hot", 1.5)]


def test_the_short_form_keys_each_column_by_its_provider(auth_client):
    [reply] = send(auth_client, selected_providers=["demo"]).json()["replies"]
    assert reply["column"] == "demo" and reply["estimate"]["key"] == "demo"


@pytest.mark.parametrize(("fields", "says"), [
    ({"columns": []}, "at least one column"),
    ({"columns": [{"provider": "demo"}] * 9}, "columns"),
    ({"columns": [{"provider": "demo", "key": "x"}, {"provider": "demo", "key": "x"}]}, "key 'x'"),
    ({"columns": [{"provider": "demo", "key": "no spaces"}]}, ".key must be"),
    ({"columns": [{"provider": "nobody"}]}, "unknown provider"),
    ({"columns": [{"provider": "strict", "model": "not-served"}]}, "not allowed"),
    ({"columns": [{"provider": "demo"}], "selected_providers": ["demo"]}, "not both"),
    ({}, "provider"),
])
def test_bad_columns_are_refused_and_nothing_is_stored(auth_client, fields, says):
    provider_create(name="strict", kind="openai", api_key="k", model_names=["a"], allowed_models=["a"])
    response = send(auth_client, **fields)
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert not Message.objects.exists() and not Conversation.objects.exists()


def answered(conversation, question, answers):
    """A finished turn: {column key: (provider, text)}."""
    asked = Message.objects.create(conversation=conversation, role="user", content=question)
    for key, (provider, text) in answers.items():
        Message.objects.create(conversation=conversation, role="assistant", provider=provider, model="m",
                               column=key, reply_to=asked, status=ReplyStatus.COMPLETE, content=text)
    return asked


def test_each_column_of_one_provider_continues_its_own_thread(user, auth_client):
    conversation = conversation_create(owner=user)
    answered(conversation, "q1", {"demo": ("demo", "first column"), "demo#2": ("demo", "second column")})
    body = send(auth_client, conversation_id=conversation.pk, message="q2", columns=[
        {"provider": "demo", "model": "demo-echo"}, {"provider": "demo", "model": "demo-markdown"},
    ]).json()
    threads = [[m.content for m in build_chat_request(Message.objects.get(pk=r["id"])).messages]
               for r in body["replies"]]
    assert threads == [["q1", "first column", "q2"], ["q1", "second column", "q2"]]


def test_a_regenerated_reply_stays_in_its_column(user, auth_client):
    [_, second] = send(auth_client, columns=[{"provider": "demo"}, {"key": "b", "provider": "demo"}]).json()["replies"]
    again = reply_regenerate(reply=Message.objects.get(pk=second["id"]))
    assert again.column == "b" and again.estimate == Message.objects.get(pk=second["id"]).estimate


def test_default_columns_and_the_short_form_are_kept_in_step(user, auth_client):
    conversation = conversation_create(owner=user)
    url = f"/api/chat/conversations/{conversation.pk}"
    body = auth_client.patch(url, {"default_columns": [
        {"provider": "demo", "model": "demo-echo", "temperature": 0.2},
        {"provider": "demo", "model": "demo-markdown"},
    ]}, format="json").json()
    assert body["default_columns"] == [
        {"key": "demo", "provider": "demo", "model": "demo-echo", "temperature": 0.2},
        {"key": "demo#2", "provider": "demo", "model": "demo-markdown"},
    ]
    assert body["default_providers"] == ["demo"] and body["default_models"] == {"demo": "demo-echo"}
    assert body["default_params"] == {"provider_params": {"demo": {"temperature": 0.2}}}
    body = auth_client.patch(url, {"default_providers": ["demo"], "default_models": {"demo": "demo-markdown"},
                                   "default_params": {"max_tokens": 9}}, format="json").json()
    assert body["default_columns"] == [{"key": "demo", "provider": "demo", "model": "demo-markdown", "max_tokens": 9}]
    refused = auth_client.patch(url, {"default_columns": [{"provider": "nobody"}]}, format="json")
    assert refused.status_code == 400 and "unknown provider" in refused.json()["detail"]


def test_export_and_import_carry_columns_estimates_and_default_columns(user, auth_client):
    body = send(auth_client, columns=[{"provider": "demo"}, {"key": "b", "provider": "demo"}]).json()
    conversation = Conversation.objects.get(pk=body["conversation"]["id"])
    conversation.default_columns = [{"key": "b", "provider": "demo", "model": "demo-echo"}]
    conversation.save()
    data = json.loads(exports.conversations_export_json([conversation]))
    assert [m.get("column") for m in data["conversations"][0]["messages"]] == ["", "demo", "b"]
    [copy] = imports.conversations_import(owner=user, raw=json.dumps(data)).conversations
    replies = copy.messages.filter(role="assistant").order_by("id")
    assert [r.column for r in replies] == ["demo", "b"]
    assert [r.estimate for r in replies] == [r["estimate"] for r in body["replies"]]
    assert copy.default_columns == conversation.default_columns


def test_an_export_from_before_columns_imports_with_the_provider_as_column(user):
    data = {"format": "webox.conversations", "version": 1, "conversations": [{
        "title": "old", "default_providers": ["demo"], "default_models": {"demo": "demo-echo"},
        "messages": [{"id": 1, "role": "user", "content": "hi"},
                     {"id": 2, "role": "assistant", "reply_to": 1, "provider": "demo", "model": "demo-echo",
                      "content": "hello"}]}]}
    [copy] = imports.conversations_import(owner=user, raw=json.dumps(data)).conversations
    assert copy.messages.get(role="assistant").column == "demo"
    assert copy.default_columns == [{"key": "demo", "provider": "demo", "model": "demo-echo"}]
