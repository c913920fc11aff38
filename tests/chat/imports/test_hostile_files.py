"""Bad, hostile or huge peer files: a 400 with a reason, and nothing stored (not even the good part)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from chat import imports
from chat.imports import checks
from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
CHATGPT = json.loads((FIXTURES / "chatgpt_conversations.json").read_text())
OPENWEBUI = json.loads((FIXTURES / "openwebui_chats.json").read_text())


def refused(user, data) -> str:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/chat/import", json.dumps(data), content_type="application/json")
    assert response.status_code == 400, response.json()
    assert (Conversation.objects.count(), Message.objects.count()) == (0, 0)
    return response.json()["detail"]


def chatgpt_with(change) -> list:
    """The fixture, its first conversation good, its second changed: the good one must not be stored either."""
    data = copy.deepcopy(CHATGPT)
    change(data[1])
    return data


def node(node_id: str, parent, role="user", text="hi") -> dict:
    return {"id": node_id, "parent": parent, "children": [],
            "message": {"id": node_id, "author": {"role": role}, "content": {"content_type": "text", "parts": [text]},
                        "metadata": {}, "recipient": "all"}}


def test_a_cycle_in_a_mapping_is_refused(user):
    def cycle(conversation):
        conversation["mapping"] = {"a": node("a", "b"), "b": node("b", "a")}
        conversation["current_node"] = "a"
    assert "is its own ancestor (a cycle)" in refused(user, chatgpt_with(cycle))


def test_a_parent_that_does_not_exist_is_refused(user):
    def orphan(conversation):
        conversation["mapping"]["h1"]["parent"] = "nowhere"
    detail = refused(user, chatgpt_with(orphan))
    assert detail == "Conversation 2: the node 'h1' names a parent that does not exist."


def test_a_current_node_that_does_not_exist_is_refused(user):
    def lost(conversation):
        conversation["current_node"] = "gone"
    assert "the current message names a node that does not exist" in refused(user, chatgpt_with(lost))


def test_a_tree_deeper_than_the_limit_is_refused(user):
    def deep(conversation):
        conversation["mapping"] = {str(n): node(str(n), str(n - 1) if n else None, "user" if n % 2 else "assistant")
                                   for n in range(checks.MAX_TREE_DEPTH + 2)}
        conversation["current_node"] = None
    assert f"deeper than {checks.MAX_TREE_DEPTH} messages" in refused(user, chatgpt_with(deep))


@pytest.mark.parametrize("change, detail", [
    (lambda c: c.update(mapping=[]), "Conversation 2: mapping must be an object of nodes."),
    (lambda c: c["mapping"]["h1"].update(parent=["h0"]), "Conversation 2, node 'h1': parent must be a node id"),
    (lambda c: c["mapping"]["h1"]["message"]["author"].update(role=7), "message.author.role must be text."),
    (lambda c: c["mapping"]["h1"]["message"]["content"].update(parts="text"), "content.parts must be a list."),
    (lambda c: c["mapping"]["h1"].update(message="hi"), "Conversation 2, node 'h1': message must be an object."),
    (lambda c: c["mapping"]["h1"].update(children={}), "children must be a list."),
    (lambda c: c["mapping"]["h1"]["message"]["content"].update(parts=["x" * (checks.MAX_CONTENT_CHARS + 1)]),
     "a message is longer than"),
])
def test_wrong_types_in_a_chatgpt_file_are_refused(user, change, detail):
    assert detail in refused(user, chatgpt_with(change))


@pytest.mark.parametrize("change, detail", [
    (lambda c: c["chat"]["history"].update(messages=[]), "chat.history.messages must be an object"),
    (lambda c: c["chat"]["history"]["messages"]["m2"].update(content=["7"]), "message 'm2': content must be text."),
    (lambda c: c["chat"]["history"]["messages"]["m1"].update(parentId="m6"), "(a cycle)"),
    (lambda c: c["chat"]["history"]["messages"]["m2"].update(parentId="m0"), "names a parent that does not exist"),
    (lambda c: c["chat"]["history"].update(currentId="m9"), "the current message names a node that does not exist"),
    (lambda c: c["chat"]["history"]["messages"]["m4"].update(files="plot.png"), "files must be a list."),
])
def test_wrong_shapes_in_an_open_webui_file_are_refused(user, change, detail):
    data = copy.deepcopy(OPENWEBUI)
    data.append(copy.deepcopy(data[0]))
    change(data[1])
    assert detail in refused(user, data)


@pytest.mark.parametrize("data", [[], {}, [{"title": "no mapping"}], {"messages": []}, [1, 2], "text", 3])
def test_a_file_of_no_known_shape_is_refused(user, data):
    assert refused(user, data).startswith(("Not a file webox can import", "The file holds no conversations"))


def test_too_many_nodes_are_refused_before_any_is_read(user, monkeypatch):
    monkeypatch.setattr(imports, "MAX_MESSAGES", 10)
    assert refused(user, CHATGPT) == "A file holds at most 10 messages."


def test_too_many_conversations_are_refused(user, monkeypatch):
    monkeypatch.setattr(imports, "MAX_CONVERSATIONS", 1)
    assert refused(user, OPENWEBUI * 2) == "A file holds at most 1 conversations."


def test_a_peer_file_over_the_size_cap_is_refused(user, monkeypatch):
    monkeypatch.setattr(checks, "MAX_IMPORT_BYTES", 1000)
    assert refused(user, CHATGPT).startswith("The file is larger than")
