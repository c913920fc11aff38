"""The zip export (JSON + files) and its import: a round trip, refusals that store nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from chat.models import Attachment, Conversation
from tests.chat.attachments.conftest import PDF_TEXT, pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 1


def zip_export(client, conversation_id=None) -> bytes:
    path = f"/api/chat/conversations/{conversation_id}/export" if conversation_id else "/api/chat/export"
    response = client.get(path, {"format": "zip"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return b"".join(response.streaming_content)


def import_file(client, data: bytes, name="export.zip"):
    return client.post("/api/chat/import", {"file": upload(name, data)}, format="multipart")


def test_a_zip_export_imports_back_with_its_files(post_file, auth_client, other_user, attachment_storage):
    image, pdf = png_bytes((4, 4)), pdf_bytes()
    ids = [post_file("dot.png", image).json()["id"], post_file("report.pdf", pdf).json()["id"]]
    sent = auth_client.post("/api/chat/send", {"message": "See these", "selected_providers": ["demo"],
                                               "attachments": ids}, format="json").json()
    archive = zip_export(auth_client, sent["conversation"]["id"])

    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        document = json.loads(opened.read("conversations.json"))
        [question] = [m for m in document["conversations"][0]["messages"] if m["role"] == "user"]
        assert [a["name"] for a in question["attachments"]] == ["dot.png", "report.pdf"]
        assert sorted(opened.namelist()) == sorted(
            ["conversations.json", *(f"files/{a['sha256']}" for a in question["attachments"])])

    bob = APIClient()
    bob.force_authenticate(other_user)
    response = import_file(bob, archive)

    assert response.status_code == 201, response.json()
    [imported] = response.json()["conversations"]
    detail = bob.get(f"/api/chat/conversations/{imported['id']}").json()
    attachments = detail["messages"][0]["attachments"]
    assert [(a["name"], a["kind"]) for a in attachments] == [("dot.png", "image"), ("report.pdf", "pdf")]
    assert b"".join(bob.get(attachments[1]["url"]).streaming_content) == pdf
    assert PDF_TEXT in Attachment.objects.get(pk=attachments[1]["id"]).text
    assert Attachment.objects.get(pk=attachments[0]["id"]).owner == other_user
    # The same bytes: stored once for both accounts.
    assert sum(1 for p in attachment_storage.rglob("*") if p.is_file()) == 2


def test_the_json_export_of_a_conversation_without_files_is_unchanged(auth_client):
    sent = auth_client.post("/api/chat/send", {"message": "Plain", "selected_providers": ["demo"]},
                            format="json").json()
    response = auth_client.get(f"/api/chat/conversations/{sent['conversation']['id']}/export")
    document = json.loads(b"".join(response.streaming_content))
    assert all("attachments" not in m for m in document["conversations"][0]["messages"])
    archive = zip_export(auth_client)
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.namelist() == ["conversations.json"]


def archive_with(document: dict, files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("conversations.json", json.dumps(document))
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def one_message_document(attachments) -> dict:
    return {"format": "webox.conversations", "version": 1, "conversations": [
        {"title": "t", "messages": [{"id": 1, "role": "user", "content": "hi", "attachments": attachments}]}]}


@pytest.mark.parametrize("case", ["missing-file", "hash-mismatch", "lying-file", "not-a-zip"])
def test_a_bad_archive_is_refused_and_nothing_is_stored(auth_client, attachment_storage, case):
    import hashlib

    text = b"#!/bin/sh\necho hi\n"
    sha = hashlib.sha256(text).hexdigest()
    archive = {
        "missing-file": archive_with(one_message_document([{"name": "a.sh", "sha256": sha}]), {}),
        "hash-mismatch": archive_with(one_message_document([{"name": "a.sh", "sha256": sha}]),
                                      {f"files/{sha}": b"other"}),
        "lying-file": archive_with(one_message_document([{"name": "a.png", "sha256": sha}]), {f"files/{sha}": text}),
        "not-a-zip": b"PK\x03\x04 broken",
    }[case]

    response = import_file(auth_client, archive)

    assert response.status_code == 400, response.json()
    assert not Conversation.objects.exists() and not Attachment.objects.exists()
    assert not any(p.is_file() for p in attachment_storage.rglob("*")) if attachment_storage.exists() else True
