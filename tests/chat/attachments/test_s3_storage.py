"""Attachments on S3-compatible storage (django-storages), against a real S3 server on loopback (moto)."""

from __future__ import annotations

import boto3
import pytest

from chat.models import Attachment
from testing.processes import start_s3_server
from tests.chat.attachments.conftest import png_bytes
from webox.settings import attachment_storage

BUCKET = "webox-attachments"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    process, endpoint = start_s3_server(tmp_path_factory.mktemp("s3"))
    with process:
        yield endpoint


@pytest.fixture
def s3_storage(s3_endpoint, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    storages = dict(settings.STORAGES)
    storages["attachments"] = attachment_storage(
        f"s3://{BUCKET}/uploads?endpoint_url={s3_endpoint}&region_name=us-east-1")
    settings.STORAGES = storages
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


@pytest.mark.django_db
def test_uploads_are_stored_by_hash_in_the_bucket_served_back_and_deleted(s3_storage, post_file, auth_client,
                                                                          django_capture_on_commit_callbacks):
    image = png_bytes((5, 5))
    body = post_file("dot.png", image).json()
    post_file("again.png", image)
    sha256 = Attachment.objects.get(pk=body["id"]).sha256

    assert keys(s3_storage) == [f"uploads/{sha256[:2]}/{sha256}"]
    stored = s3_storage.get_object(Bucket=BUCKET, Key=f"uploads/{sha256[:2]}/{sha256}")["Body"].read()
    assert b"".join(auth_client.get(body["url"]).streaming_content) == stored

    with django_capture_on_commit_callbacks(execute=True):
        for attachment in Attachment.objects.all():
            auth_client.delete(f"/api/chat/attachments/{attachment.pk}")
    assert keys(s3_storage) == []


def test_a_storage_url_that_is_not_s3_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        attachment_storage("ftp://host/bucket")
