"""The attachment files, by content hash, through Django's storage API (``STORAGES["attachments"]``).

Local directory ``var/attachments`` by default; S3-compatible storage when ``WEBOX_STORAGE_URL``
is set (webox/settings.py). A name is derived from the SHA-256 of the bytes, so the same file is
stored once whoever uploads it, and a name never comes from the user.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages


def attachment_storage() -> Storage:
    return storages["attachments"]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_name(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def file_store(data: bytes) -> str:
    """Store ``data`` under its hash (once); its hash."""
    sha256 = content_hash(data)
    storage = attachment_storage()
    name = file_name(sha256)
    if not storage.exists(name):
        storage.save(name, ContentFile(data))
    return sha256


def file_read(sha256: str) -> bytes:
    with attachment_storage().open(file_name(sha256), "rb") as stored:
        return stored.read()


def file_delete(sha256: str) -> None:
    attachment_storage().delete(file_name(sha256))
