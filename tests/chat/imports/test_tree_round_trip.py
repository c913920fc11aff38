"""webox's own export keeps the whole tree: every branch, reply version, vote, fused reply and file comes
back as it went out; an older file (no ``parent``) comes back as one line."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from chat.attachments import storage
from chat.attachments.validation import inspect_upload
from chat.exports import conversations_export_json, conversations_export_markdown
from chat.imports import conversations_import
from chat.models import Attachment, Conversation, Message, Role, Vote
from chat.services import conversation_create
from chat.services.votes import vote_cast
from chat.tree import active_path, load_tree
from tests.chat.attachments.conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def attachment_storage(settings, tmp_path):
    storages = dict(settings.STORAGES)
    storages["attachments"] = {"BACKEND": "django.core.files.storage.FileSystemStorage",
                               "OPTIONS": {"location": tmp_path / "attachments", "base_url": None}}
    settings.STORAGES = storages


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def branched(owner) -> Conversation:
    """Branches at two levels, two reply versions in a column, a vote, a fused reply and an image.

    first ─┬─ second                       (the first line)
           └─ second, edited ─┬─ third      (a branch below the first turn)
                              └─ third, edited, with an image   ← on screen
    """
    conversation = conversation_create(owner=owner, title="Branches", default_providers=["demo"],
                                       default_models={"demo": "demo-echo"})
    base = timezone.now() - timedelta(days=1)
    made = []

    def turn(text, parent=None):
        made.append(Message.objects.create(conversation=conversation, role=Role.USER, content=text, parent=parent))
        return made[-1]

    def reply(to, column, text, **fields):
        made.append(Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content=text,
                                           reply_to=to, provider="demo", model=f"{column}-model", column=column,
                                           **fields))
        return made[-1]

    first = turn("First")
    reply(first, "a", "A, version 1")
    winner = reply(first, "a", "A, version 2")
    reply(first, "b", "B")
    second = turn("Second", first)
    reply(second, "a", "A on the first line")
    edited = turn("Second, edited", first)
    sources = [reply(edited, "a", "A on the edit"), reply(edited, "b", "B on the edit")]
    reply(edited, "fused", "Both, fused", fuse={"sources": [s.pk for s in sources], "prompt": "Fuse these.",
                                                       "template": "Fuse: {replies}"})
    third = turn("Third", edited)
    reply(third, "a", "A below")
    latest = turn("Third, edited", edited)
    reply(latest, "a", "A with the image")
    for offset, message in enumerate(made):
        Message.objects.filter(pk=message.pk).update(created_at=base + timedelta(minutes=offset))
    vote_cast(turn=first, outcome="best", winners=[winner.pk])
    inspected = inspect_upload(name="dot.png", data=png_bytes((4, 4)))
    Attachment.objects.create(owner=owner, message=latest, name="dot.png", kind=inspected.kind,
                              media_type=inspected.media_type, size=len(inspected.data),
                              sha256=storage.file_store(inspected.data), width=inspected.width,
                              height=inspected.height)
    Conversation.objects.filter(pk=conversation.pk).update(active_leaf=latest)
    conversation.refresh_from_db()
    return conversation


def shape(conversation: Conversation) -> dict:
    """The conversation with every id replaced by the message's place in id order."""
    messages = list(conversation.messages.order_by("id").prefetch_related("attachments"))
    place = {m.pk: i for i, m in enumerate(messages)}
    votes = {v.turn_id: v for v in Vote.objects.filter(conversation=conversation)}
    return {
        "active_leaf": place.get(conversation.active_leaf_id),
        "path": [place[t] for t in active_path(conversation)],
        "messages": [{
            "role": m.role, "content": m.content, "column": m.column, "model": m.model, "chosen": m.chosen,
            "created_at": m.created_at, "parent": place.get(m.parent_id), "reply_to": place.get(m.reply_to_id),
            "fuse": m.fuse and {**m.fuse, "sources": [place[s] for s in m.fuse["sources"]]},
            "attachments": [(a.name, a.sha256, a.kind) for a in m.attachments.all()],
            "vote": m.pk in votes and (votes[m.pk].outcome, [place[w] for w in votes[m.pk].winners]),
        } for m in messages],
    }


def test_a_branched_conversation_comes_back_as_the_same_tree(user, other_user):
    conversation = branched(user)
    response = client_for(user).get(f"/api/chat/conversations/{conversation.pk}/export", {"format": "zip"})
    archive = b"".join(response.streaming_content)

    upload = SimpleUploadedFile("webox.zip", archive)
    response = client_for(other_user).post("/api/chat/import", {"file": upload}, format="multipart")

    assert response.status_code == 201, response.json()
    assert (response.json()["format"], response.json()["not_imported"]) == ("webox", [])
    [copy] = Conversation.objects.filter(owner=other_user)
    assert shape(copy) == shape(conversation)
    tree = load_tree(copy.pk)
    assert len(tree.branch_points()) == 2
    assert [copy.messages.get(pk=t).content for t in active_path(copy)] == ["First", "Second, edited", "Third, edited"]
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        document = json.loads(opened.read("conversations.json"))
    assert document["conversations"][0]["active_leaf"] == conversation.active_leaf_id


def test_the_markdown_export_is_the_branch_on_screen_and_says_which(user):
    text = conversations_export_markdown([branched(user)])

    assert "- Branch: the one on screen, of 3 (the JSON export holds them all)" in text
    assert "## Turn 2 (branch 2 of 2)\n" in text and "## Turn 3 (branch 2 of 2)\n" in text
    assert "Third, edited" in text and "A with the image" in text
    for elsewhere in ("Second\n", "A on the first line", "Third\n", "A below"):
        assert elsewhere not in text


def test_a_file_from_before_the_tree_imports_as_one_line(user):
    data = json.loads(conversations_export_json([branched(user)]))
    for message in data["conversations"][0]["messages"]:
        message.pop("parent", None)
    data["conversations"][0].pop("active_leaf")

    [copy] = conversations_import(owner=user, raw=json.dumps(data)).conversations

    turns = list(copy.messages.filter(role=Role.USER).order_by("id"))
    assert [t.parent_id for t in turns] == [None, *(t.pk for t in turns[:-1])]
    assert copy.active_leaf_id == turns[-1].pk
    assert load_tree(copy.pk).branch_points() == []


@pytest.mark.parametrize("change, detail", [
    (lambda ms: ms[4].update(parent=ms[7]["id"]), "message 5: parent must name an earlier user message"),
    (lambda ms: ms[4].update(parent=12345), "message 5: parent must name an earlier user message"),
    (lambda ms: ms[4].update(parent=ms[1]["id"]), "message 5: parent must name an earlier user message"),
    (lambda ms: ms[1].update(parent=ms[0]["id"]), "message 2: only a user message that answers nothing"),
    (lambda ms: ms[4].update(parent=[1]), "message 5: parent must be a number or text."),
])
def test_a_bad_tree_in_a_webox_file_is_refused_whole(user, other_user, change, detail):
    data = json.loads(conversations_export_json([branched(user)]))
    change(data["conversations"][0]["messages"])
    before = Message.objects.count()

    response = client_for(other_user).post("/api/chat/import", json.dumps(data), content_type="application/json")

    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert Message.objects.count() == before and not Conversation.objects.filter(owner=other_user).exists()


def test_an_active_leaf_that_is_not_a_turn_is_refused(user, other_user):
    data = json.loads(conversations_export_json([branched(user)]))
    data["conversations"][0]["active_leaf"] = data["conversations"][0]["messages"][1]["id"]
    response = client_for(other_user).post("/api/chat/import", json.dumps(data), content_type="application/json")
    assert response.status_code == 400
    assert "active_leaf must name a user message" in response.json()["detail"]
