"""POST /api/chat/attachments: the type from the content, each refusal with nothing stored."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from chat.models import Attachment
from tests.chat.attachments.conftest import (
    PDF_TEXT,
    encrypted_pdf_bytes,
    image_bytes,
    jpeg_with_exif,
    pdf_bytes,
    png_bytes,
)


def stored_files(directory) -> list:
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


@pytest.mark.parametrize(("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                                 ("WEBP", "image/webp"), ("GIF", "image/gif")])
def test_an_image_is_accepted_by_its_content(post_file, fmt, media_type):
    response = post_file("picture.bin", image_bytes(fmt, (12, 7)), content_type="text/plain")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["media_type"], body["width"], body["height"]) == ("image", media_type, 12, 7)
    assert body["message_id"] is None and body["url"] == f"/api/chat/attachments/{body['id']}/content"


def test_a_jpeg_loses_its_exif_and_gps(post_file, auth_client):
    original = jpeg_with_exif()
    assert b"SecretCam" in original

    body = post_file("holiday.jpg", original).json()
    served = b"".join(auth_client.get(body["url"]).streaming_content)

    assert b"SecretCam" not in served
    assert not Image.open(io.BytesIO(served)).getexif()
    assert Image.open(io.BytesIO(served)).size == (16, 16)


def test_a_pdf_is_read_for_its_text(post_file):
    body = post_file("report.pdf", pdf_bytes()).json()

    assert (body["kind"], body["media_type"]) == ("pdf", "application/pdf")
    assert PDF_TEXT in Attachment.objects.get(pk=body["id"]).text


def test_utf8_source_is_text(post_file):
    source = "def héllo():\n    return '✓'\n".encode()
    body = post_file("hello.py", source, content_type="image/png").json()

    assert (body["kind"], body["media_type"], body["size"]) == ("text", "text/plain", len(source))
    assert Attachment.objects.get(pk=body["id"]).text == source.decode()


@pytest.mark.parametrize(("name", "data", "words"), [
    ("cat.png", b"just some text, not a picture", "named as image/png"),
    ("notes.txt", png_bytes(), "named as text"),
    ("report.pdf", png_bytes(), "named as application/pdf"),
    ("broken.png", png_bytes()[:40], "cannot be read"),
    ("doc.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << >>\n", "damaged"),
    ("locked.pdf", encrypted_pdf_bytes(), "encrypted"),
    ("setup.txt", b"MZ\x90\x00\x03" + bytes(200), "not accepted"),
    ("archive.zip", b"PK\x03\x04" + bytes(100), "not accepted"),
    ("latin1.txt", "café".encode("latin-1"), "neither"),
    ("empty.txt", b"", "empty"),
], ids=["text-named-png", "png-named-txt", "png-named-pdf", "truncated-png", "malformed-pdf", "encrypted-pdf",
        "exe", "zip", "not-utf8", "empty"])
def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(post_file, attachment_storage,
                                                                          name, data, words):
    response = post_file(name, data)

    assert response.status_code == 400
    assert words in response.json()["detail"]
    assert not Attachment.objects.exists()
    assert stored_files(attachment_storage) == []


def test_an_image_too_large_in_pixels_is_refused(post_file, settings, attachment_storage):
    settings.WEBOX_ATTACHMENT_MAX_PIXELS = 1000
    response = post_file("big.png", png_bytes((40, 30)))

    assert response.status_code == 400 and "pixels" in response.json()["detail"]
    assert stored_files(attachment_storage) == [] and not Attachment.objects.exists()


def test_a_decompression_bomb_is_refused_before_it_is_decoded(post_file, attachment_storage):
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, format="PNG", optimize=True)  # 144 Mpx in a few KB
    assert len(out.getvalue()) < 100_000

    response = post_file("bomb.png", out.getvalue())

    assert response.status_code == 400 and "pixels" in response.json()["detail"]
    assert stored_files(attachment_storage) == []


def test_a_file_over_the_size_limit_is_a_413(post_file, settings, attachment_storage):
    settings.WEBOX_ATTACHMENT_MAX_BYTES = 1000
    response = post_file("long.txt", b"a" * 1001)

    assert response.status_code == 413 and "at most 1000 bytes" in response.json()["detail"]
    assert stored_files(attachment_storage) == []


def test_the_quota_counts_every_upload_of_the_user(post_file, settings):
    settings.WEBOX_ATTACHMENT_QUOTA_BYTES = 150
    assert post_file("a.txt", b"a" * 100).status_code == 201

    response = post_file("b.txt", b"b" * 100)

    assert response.status_code == 413 and "storage" in response.json()["detail"]
    assert Attachment.objects.count() == 1


def test_a_missing_file_field_is_a_400(auth_client):
    response = auth_client.post("/api/chat/attachments", {"other": "x"}, format="multipart")
    assert response.status_code == 400 and "'file'" in response.json()["detail"]


def test_the_same_bytes_are_stored_once(post_file, attachment_storage):
    first = post_file("one.txt", b"same content").json()
    second = post_file("two.txt", b"same content").json()

    assert first["id"] != second["id"]
    assert len(stored_files(attachment_storage)) == 1


def test_a_path_in_the_name_is_dropped(post_file):
    body = post_file('../../etc/pass"wd.txt', b"x").json()
    assert body["name"] == "passwd.txt"
