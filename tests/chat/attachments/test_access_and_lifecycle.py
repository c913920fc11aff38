"""Who may see an attachment, how it is served, and when its file goes away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.attachments.services import attachments_sweep
from chat.models import Attachment, Message
from tests.chat.attachments.conftest import pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 1


def send(client, **fields):
    body = {"message": "Look at this", "selected_providers": ["demo"], **fields}
    return client.post("/api/chat/send", body, format="json")


def files_in(directory) -> int:
    return sum(1 for p in directory.rglob("*") if p.is_file()) if directory.exists() else 0


def test_another_users_attachment_is_not_found_everywhere(post_file, other_user):
    attachment_id = post_file("note.txt", b"mine").json()["id"]
    mallory = APIClient()
    mallory.force_authenticate(other_user)

    assert mallory.get(f"/api/chat/attachments/{attachment_id}").status_code == 404
    assert mallory.get(f"/api/chat/attachments/{attachment_id}/content").status_code == 404
    assert mallory.delete(f"/api/chat/attachments/{attachment_id}").status_code == 404
    response = send(mallory, attachments=[attachment_id])
    assert response.status_code == 404 and "attachment" in response.json()["detail"]
    assert not Message.objects.exists()
    assert Attachment.objects.get(pk=attachment_id).message_id is None


def test_attachments_need_a_login(api_client):
    assert api_client.post("/api/chat/attachments", {}, format="multipart").status_code in (401, 403)


def test_a_text_file_is_served_as_a_plain_text_download_to_its_owner(post_file, auth_client):
    attachment_id = post_file("page.html", b"<script>alert(1)</script>").json()["id"]

    response = auth_client.get(f"/api/chat/attachments/{attachment_id}/content")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_an_image_is_served_inline_as_its_own_type_and_a_pdf_as_a_download(post_file, auth_client):
    image = post_file("dot.png", png_bytes()).json()
    pdf = post_file("r.pdf", pdf_bytes()).json()

    image_response = auth_client.get(image["url"])
    pdf_response = auth_client.get(pdf["url"])

    assert image_response["Content-Type"] == "image/png"
    assert image_response["Content-Disposition"].startswith("inline")
    assert pdf_response["Content-Type"] == "application/pdf"
    assert pdf_response["Content-Disposition"].startswith("attachment")


def test_a_send_binds_its_attachments_to_the_user_message(post_file, auth_client):
    ids = [post_file("a.txt", b"alpha").json()["id"], post_file("dot.png", png_bytes()).json()["id"]]

    body = send(auth_client, attachments=ids).json()

    assert [a["id"] for a in body["user_message"]["attachments"]] == ids
    assert list(Attachment.objects.filter(message_id=body["user_message"]["id"]).values_list("id", flat=True)) == ids
    detail = auth_client.get(f"/api/chat/conversations/{body['conversation']['id']}").json()
    assert [a["name"] for a in detail["messages"][0]["attachments"]] == ["a.txt", "dot.png"]
    # Sent once: it cannot be sent again, nor deleted apart from its conversation.
    again = send(auth_client, attachments=ids[:1], conversation_id=body["conversation"]["id"])
    assert again.status_code == 404
    assert auth_client.delete(f"/api/chat/attachments/{ids[0]}").status_code == 400


def test_a_sends_answer_shows_its_files_as_a_later_read_of_the_conversation_does(post_file, auth_client):
    ids = [post_file("b.txt", b"beta").json()["id"], post_file("a.txt", b"alpha").json()["id"]]

    body = send(auth_client, attachments=ids).json()

    detail = auth_client.get(f"/api/chat/conversations/{body['conversation']['id']}").json()
    read = {message["id"]: message for message in detail["messages"]}
    for shown in [body["user_message"], *body["replies"]]:
        assert shown["attachments"] == read[shown["id"]]["attachments"]
        assert shown["vote"] == read[shown["id"]]["vote"] is None
    assert [a["message_id"] for a in body["user_message"]["attachments"]] == [body["user_message"]["id"]] * 2


@pytest.mark.parametrize("value", ["1", [1, 1], [True], [{"id": 1}]])
def test_a_bad_attachments_field_is_a_400(auth_client, value):
    response = send(auth_client, attachments=value)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_more_than_the_per_message_limit_is_a_400(post_file, auth_client, settings):
    settings.WEBOX_ATTACHMENTS_PER_MESSAGE = 2
    ids = [post_file(f"{i}.txt", f"file {i}".encode()).json()["id"] for i in range(3)]

    response = send(auth_client, attachments=ids)

    assert response.status_code == 400 and "at most 2 attachments" in response.json()["detail"]
    assert not Message.objects.exists()


def test_the_sweep_deletes_uploads_unused_for_a_day_and_their_files(post_file, auth_client, attachment_storage,
                                                                   django_capture_on_commit_callbacks):
    old = post_file("old.txt", b"old").json()["id"]
    fresh = post_file("fresh.txt", b"fresh").json()["id"]
    sent = post_file("sent.txt", b"sent").json()["id"]
    send(auth_client, attachments=[sent])
    Attachment.objects.filter(pk__in=[old, sent]).update(created_at=timezone.now() - timedelta(hours=25))

    with django_capture_on_commit_callbacks(execute=True):
        assert attachments_sweep() == 1

    assert set(Attachment.objects.values_list("id", flat=True)) == {fresh, sent}
    assert files_in(attachment_storage) == 2


def test_a_file_stays_while_another_upload_refers_to_it(post_file, auth_client, attachment_storage,
                                                       django_capture_on_commit_callbacks):
    first = post_file("a.txt", b"shared").json()["id"]
    post_file("b.txt", b"shared")

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/chat/attachments/{first}").status_code == 204

    assert files_in(attachment_storage) == 1


def test_deleting_a_conversation_or_an_account_frees_its_files(post_file, auth_client, user, attachment_storage,
                                                              django_capture_on_commit_callbacks):
    first = send(auth_client, attachments=[post_file("a.txt", b"one").json()["id"]]).json()
    send(auth_client, attachments=[post_file("b.png", png_bytes()).json()["id"]])
    assert files_in(attachment_storage) == 2

    with django_capture_on_commit_callbacks(execute=True):
        auth_client.delete(f"/api/chat/conversations/{first['conversation']['id']}")
    assert files_in(attachment_storage) == 1

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert files_in(attachment_storage) == 0
    assert not Attachment.objects.exists()
