"""What an import may cost: a rate per user and a storage quota, each refused with a clear detail."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from chat.models import Conversation, Message, Role

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def export_file(*contents: str) -> dict:
    messages = []
    for number, content in enumerate(contents, start=1):
        messages += [{"id": 2 * number, "role": "user", "content": content},
                     {"id": 2 * number + 1, "role": "assistant", "content": "ok", "reply_to": 2 * number}]
    return {"format": "webox.conversations", "version": 1, "conversations": [{"title": "t", "messages": messages}]}


def test_imports_over_the_rate_get_a_429_with_retry_after(user, other_user, settings):
    settings.WEBOX_IMPORT_RATE = "2/3600"
    client = client_for(user)
    for _ in range(2):
        assert client.post("/api/chat/import", export_file("hi"), format="json").status_code == 201

    refused = client.post("/api/chat/import", export_file("hi"), format="json")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert refused.json()["detail"].startswith("You are importing too often. Try again in ")
    assert Conversation.objects.filter(owner=user).count() == 2
    # The rate is per user.
    assert client_for(other_user).post("/api/chat/import", export_file("hi"), format="json").status_code == 201


def test_a_bad_file_counts_against_the_rate_too(user, settings):
    settings.WEBOX_IMPORT_RATE = "1/3600"
    client = client_for(user)
    assert client.post("/api/chat/import", b"{nope", content_type="application/json").status_code == 400
    assert client.post("/api/chat/import", export_file("hi"), format="json").status_code == 429


def test_an_import_over_the_storage_quota_is_refused_whole(user, settings):
    settings.WEBOX_USER_STORAGE_CHARS = 100
    client = client_for(user)
    assert client.post("/api/chat/import", export_file("a" * 40), format="json").status_code == 201
    before = Message.objects.count()

    refused = client.post("/api/chat/import", export_file("b" * 30, "c" * 30), format="json")

    assert refused.status_code == 413, refused.content
    assert refused.json()["detail"] == (
        "This would store 64 more characters, but your conversations already hold 42 of the 100 you may keep. "
        "Delete some conversations or import a smaller file.")
    assert Message.objects.count() == before and Conversation.objects.filter(owner=user).count() == 1
    # What fits still goes in; the quota counts only one's own text.
    assert client.post("/api/chat/import", export_file("d" * 56), format="json").status_code == 201


def test_the_quota_counts_each_users_own_text(user, other_user, settings):
    settings.WEBOX_USER_STORAGE_CHARS = 50
    theirs = Conversation.objects.create(owner=other_user)
    Message.objects.create(conversation=theirs, role=Role.USER, content="x" * 1000)
    assert client_for(user).post("/api/chat/import", export_file("a" * 40), format="json").status_code == 201


def test_a_quota_of_zero_is_no_limit(user, settings):
    settings.WEBOX_USER_STORAGE_CHARS = 0
    assert client_for(user).post("/api/chat/import", export_file("a" * 5000), format="json").status_code == 201


def test_manage_py_import_reports_the_quota(user, settings, tmp_path):
    settings.WEBOX_USER_STORAGE_CHARS = 10
    path = tmp_path / "in.json"
    path.write_text(json.dumps(export_file("a" * 40)))
    with pytest.raises(CommandError, match="Nothing imported: This would store 42 more characters"):
        call_command("import_conversations", str(path), "--user", user.username)
    assert not Conversation.objects.filter(owner=user).exists()
