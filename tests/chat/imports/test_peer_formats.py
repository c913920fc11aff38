"""A ChatGPT data export and an Open WebUI chat export, told apart by their shape, become webox trees;
what has no place in webox is listed in the response, never dropped silently."""

from __future__ import annotations

import io
import json
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from chat.exports import conversations_export_json
from chat.imports import conversations_import
from chat.models import Conversation, Message, Role
from chat.tree import active_path, load_tree

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_file(user, name: str, body: bytes):
    return client_for(user).post("/api/chat/import", {"file": SimpleUploadedFile(name, body)}, format="multipart")


def turns(conversation: Conversation) -> dict[str, Message]:
    return {m.content: m for m in conversation.messages.filter(role=Role.USER)}


def replies(turn: Message) -> list[tuple[str, str, str]]:
    return [(r.column, r.model, r.content) for r in turn.replies.order_by("id")]


def test_a_chatgpt_export_becomes_branches_with_a_column_per_model(user):
    response = post_file(user, "conversations.json", (FIXTURES / "chatgpt_conversations.json").read_bytes())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["format"] == "chatgpt"
    trip, haiku = (Conversation.objects.get(pk=c["id"]) for c in body["conversations"])
    assert (trip.title, haiku.title) == ("Trip ideas", "Haiku")
    by_text = turns(trip)
    spring, autumn, photo = (by_text[t] for t in ("Where to go in spring?", "Where to go in autumn?",
                                                  "What is in this photo?"))
    # The edit in ChatGPT (two user nodes under one parent) is a branch: two first turns.
    assert (spring.parent_id, autumn.parent_id, photo.parent_id) == (None, None, autumn.pk)
    assert load_tree(trip.pk).siblings(spring.pk) == [spring.pk, autumn.pk]
    # A regenerated answer is a second version in the same column; the reply after a tool call is kept.
    assert replies(spring) == [("gpt-4o", "gpt-4o", "Lisbon."), ("gpt-4o", "gpt-4o", "Porto.")]
    assert replies(autumn) == [("gpt-4o", "gpt-4o", "Kyoto.")]
    assert replies(photo) == [("o3", "o3", "It is a cat.")]
    # current_node (a reply) names the branch on screen: its turn.
    assert trip.active_leaf_id == photo.pk
    assert active_path(trip) == [autumn.pk, photo.pk]
    assert all(m.imported for m in trip.messages.all())
    assert {m.provider for m in trip.messages.filter(role=Role.ASSISTANT)} == {"chatgpt"}
    assert trip.created_at.timestamp() == 1714557600.5
    # A reply without a model slug is in a column named after ChatGPT.
    [(column, _, text)] = replies(haiku.messages.get(role=Role.USER))
    assert (column, text) == ("chatgpt", "Soft rain on the roof")

    assert body["not_imported"] == [
        {"conversation": 1, "title": "Trip ideas", "message": "u2", "role": "user", "what": "image"},
        {"conversation": 1, "title": "Trip ideas", "message": "t1", "role": "assistant", "what": "reasoning"},
        {"conversation": 1, "title": "Trip ideas", "message": "c1", "role": "assistant", "what": "a call to python"},
        {"conversation": 1, "title": "Trip ideas", "message": "x1", "role": "tool", "what": "tool message"},
        {"conversation": 2, "title": "Haiku", "message": "h0", "role": "system", "what": "system message"},
    ]
    assert body["not_imported_count"] == 5


def test_an_open_webui_export_makes_each_model_of_a_turn_a_column(user):
    response = post_file(user, "chat-export.json", (FIXTURES / "openwebui_chats.json").read_bytes())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["format"] == "openwebui"
    [conversation] = (Conversation.objects.get(pk=c["id"]) for c in body["conversations"])
    assert conversation.title == "Compare models"
    assert conversation.system_prompt == "Answer in one line."
    by_text = turns(conversation)
    first, plot, another = by_text["Name a prime."], by_text["Plot it."], by_text["Another one."]
    assert replies(first) == [("llama3:8b", "llama3:8b", "7"), ("mistral:7b", "mistral:7b", "11"),
                              ("mistral:7b", "mistral:7b", "13")]
    # Both later user messages follow the first turn (through its llama3 reply): two branches.
    assert (plot.parent_id, another.parent_id) == (first.pk, first.pk)
    assert conversation.active_leaf_id == another.pk
    assert replies(another) == [("llama3:8b", "llama3:8b", "17")]
    assert body["not_imported"] == [{"conversation": 1, "title": "Compare models", "message": "m4", "role": "user",
                                     "what": "image plot.png"}]


def test_a_single_open_webui_chat_object_imports_too(user):
    [chat] = json.loads((FIXTURES / "openwebui_chats.json").read_text())
    response = client_for(user).post("/api/chat/import", json.dumps(chat), content_type="application/json")
    assert response.status_code == 201, response.json()
    assert [c["title"] for c in response.json()["conversations"]] == ["Compare models"]


def test_an_imported_chatgpt_tree_survives_a_webox_round_trip(user, other_user):
    imported = conversations_import(owner=user, raw=(FIXTURES / "chatgpt_conversations.json").read_bytes())
    trip = imported.conversations[0]
    [copy] = conversations_import(owner=other_user, raw=conversations_export_json([trip])).conversations

    def shape(conversation):
        tree = load_tree(conversation.pk)
        text = dict(conversation.messages.values_list("id", "content"))
        return ({text[t]: text.get(p) for t, p in tree.parent.items()},
                [text[t] for t in active_path(conversation, tree)])

    assert shape(copy) == shape(trip)


def test_the_import_command_lists_what_it_left_out(user):
    out = StringIO()
    call_command("import_conversations", str(FIXTURES / "chatgpt_conversations.json"), user=user.username,
                 stdout=out)
    assert "Imported 2 conversation(s)" in out.getvalue()
    assert "message c1: a call to python" in out.getvalue()


def test_a_chatgpt_data_export_zip_imports_its_conversations_and_lists_its_images(user):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("conversations.json", (FIXTURES / "chatgpt_conversations.json").read_bytes())
        archive.writestr("chat.html", "<html></html>")
        archive.writestr("file-1.png", b"\x89PNG not really")
        archive.writestr("user.json", json.dumps({"id": "user-1"}))

    response = post_file(user, "chatgpt-export.zip", out.getvalue())

    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "chatgpt"
    assert [c["title"] for c in response.json()["conversations"]] == ["Trip ideas", "Haiku"]
    assert {"message": "u2", "what": "image"}.items() <= response.json()["not_imported"][0].items()


def test_an_open_webui_chat_without_history_imports_its_message_list_as_one_line(user):
    chat = {"id": "old", "title": "Old chat", "chat": {"title": "Old chat", "messages": [
        {"id": "1", "parentId": None, "childrenIds": ["2"], "role": "user", "content": "Hello", "timestamp": 17e8},
        {"id": "2", "parentId": "1", "childrenIds": ["3"], "role": "assistant", "content": "Hi", "model": "phi3"},
        {"id": "3", "parentId": "2", "childrenIds": [], "role": "user", "content": "Bye", "timestamp": 1700000100},
    ]}}
    [conversation] = conversations_import(owner=user, raw=json.dumps([chat])).conversations

    hello, bye = conversation.messages.filter(role=Role.USER).order_by("id")
    assert (hello.content, bye.content, bye.parent_id) == ("Hello", "Bye", hello.pk)
    assert conversation.active_leaf_id == bye.pk
    assert replies(hello) == [("phi3", "phi3", "Hi")]
