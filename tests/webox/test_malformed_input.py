"""Malformed requests get a 4xx with a JSON detail, never a 500 or an HTML page, and store nothing."""

import json

import pytest

from chat.models import Conversation, Message
from chat.services import conversation_create

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000


@pytest.mark.parametrize("path", ["/api/chat/send", "/api/chat/conversations", "/api/auth/token",
                                  "/api/auth/token/refresh", "/api/auth/register"])
def test_a_deeply_nested_json_body_is_a_400_with_a_detail(auth_client, path):
    response = auth_client.post(path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_over_the_upload_limit_is_a_413_with_a_detail(auth_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = auth_client.post("/api/chat/send", {"message": "x" * 2000, "selected_providers": ["demo"]},
                                format="json")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert "1000 bytes" in response.json()["detail"]
    assert not Message.objects.exists()


def test_a_page_body_over_the_upload_limit_is_a_413_too(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/accounts/login/", {"username": "a" * 2000, "password": "x"})
    assert response.status_code == 413 and "detail" in response.json()


def test_a_file_upload_has_its_own_limit_and_over_it_is_a_413(auth_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.WEBOX_MAX_UPLOAD_BYTES = 5000
    # Over Django's form limit but within the upload limit: the import endpoint itself answers.
    within = auth_client.post("/api/chat/import", {"file": SimpleUploadedFile("a.json", b"x" * 3000)},
                              format="multipart")
    assert within.status_code == 400 and "detail" in within.json()  # refused as a bad file, not as too big
    over = auth_client.post("/api/chat/import", {"file": SimpleUploadedFile("a.json", b"x" * 6000)},
                            format="multipart")
    assert over.status_code == 413 and "5000 bytes" in over.json()["detail"]


def test_a_search_for_a_nul_is_a_400(auth_client):
    response = auth_client.get("/api/chat/conversations?q=%00")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_text_no_database_can_store_is_refused_on_send_and_nothing_is_stored(auth_client, text):
    for body in ({"message": text}, {"message": "fine", "system_prompt": text}):
        # json.dumps escapes the lone surrogate as \ud800, as a client's JSON would.
        response = auth_client.post("/api/chat/send", json.dumps({"selected_providers": ["demo"], **body}),
                                    content_type="application/json")
        assert response.status_code == 400 and response.json()["detail"]
    assert not Message.objects.exists() and not Conversation.objects.exists()


@pytest.mark.parametrize("field", ["title", "system_prompt"])
def test_a_nul_in_a_title_or_system_prompt_is_refused(auth_client, user, field):
    conversation = conversation_create(owner=user, title="kept")
    response = auth_client.patch(f"/api/chat/conversations/{conversation.pk}", {field: "a\x00b"}, format="json")
    assert response.status_code == 400
    created = auth_client.post("/api/chat/conversations", {field: "a\x00b"}, format="json")
    assert created.status_code == 400
    conversation.refresh_from_db()
    assert conversation.title == "kept" and Conversation.objects.count() == 1
