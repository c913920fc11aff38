"""Conversations with their files: a zip export (``conversations.json`` + ``files/<sha256>``) and its import.

The JSON inside is the JSON export (chat/exports.py), whose user messages list their attachments
by hash. An import checks the whole archive first — the JSON as any import does, and every file
again by its content (chat/attachments/validation.py) — then writes the conversations and their
attachments in one transaction, under the owner's attachment quota: all of it or nothing. Files
stored for an import that then fails are deleted again.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from .attachments import storage
from .attachments.models import Attachment
from .attachments.selectors import user_attachment_bytes
from .attachments.validation import Inspected, inspect_upload
from .errors import StorageFull
from .exports import conversations_export_json_chunks
from .imports import MAX_IMPORT_BYTES, ExportFileError, Imported, conversations_import
from .models import Conversation, Role

JSON_NAME = "conversations.json"
MAX_MEMBERS = 10_000
_SHA256 = re.compile(r"[0-9a-f]{64}")


def conversations_export_zip(conversations: Iterable[Conversation]) -> BinaryIO:
    """A temporary file holding the zip export of these conversations, at its start."""
    out = tempfile.TemporaryFile()
    ids: list[int] = []

    def noted(items):
        for conversation in items:
            ids.append(conversation.pk)
            yield conversation

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(JSON_NAME, "w") as member:
            for chunk in conversations_export_json_chunks(noted(conversations)):
                member.write(chunk.encode())
        hashes = (Attachment.objects.filter(message__conversation_id__in=ids)
                  .values_list("sha256", flat=True).distinct())
        for sha256 in hashes:
            archive.writestr(f"files/{sha256}", storage.file_read(sha256))
    out.seek(0)
    return out


def is_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def conversations_import_zip(*, owner, file: BinaryIO) -> Imported:
    """Import a zip export for ``owner``: all of it or, with ``ExportFileError``/``StorageFull``, nothing.

    A ChatGPT data export is a zip with a ``conversations.json`` too: its conversations come in as
    from that file alone (chat/imports/chatgpt.py), its images listed as not imported.
    """
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError):
        raise ExportFileError("The file is not a readable zip archive.") from None
    with archive:
        if len(archive.infolist()) > MAX_MEMBERS:
            raise ExportFileError(f"An archive holds at most {MAX_MEMBERS} files.")
        raw = _member(archive, JSON_NAME, MAX_IMPORT_BYTES)
        listed = _listed_attachments(raw)
        files = {sha256: _file(archive, sha256, name) for sha256, name in
                 {entry["sha256"]: entry["name"] for entries in listed.values() for entry in entries}.items()}
    stored: set[str] = set()
    try:
        with transaction.atomic():
            result = conversations_import(owner=owner, raw=raw)
            created = result.conversations
            adding = sum(len(files[entry["sha256"]].data) for entries in listed.values() for entry in entries)
            quota = settings.WEBOX_ATTACHMENT_QUOTA_BYTES
            if adding and user_attachment_bytes(owner) + adding > quota:
                raise StorageFull(f"The archive's files would take your attachments past your {quota} bytes.")
            for number, conversation in enumerate(created):
                rows = list(conversation.messages.order_by("id"))
                for index, message in enumerate(rows):
                    for entry in listed.get((number, index), []):
                        inspected = files[entry["sha256"]]
                        sha256 = storage.file_store(inspected.data)
                        stored.add(sha256)
                        _attachment_create(owner, message, entry["name"], inspected, sha256)
    except Exception:
        for sha256 in stored:
            if not Attachment.objects.filter(sha256=sha256).exists():
                storage.file_delete(sha256)
        raise
    return result


def _attachment_create(owner, message, name: str, inspected: Inspected, sha256: str) -> None:
    if message.role != Role.USER:
        raise ExportFileError("Only user messages carry attachments.")
    Attachment.objects.create(owner=owner, message=message, name=name, kind=inspected.kind,
                              media_type=inspected.media_type, size=len(inspected.data), sha256=sha256,
                              text=inspected.text, width=inspected.width, height=inspected.height)


def _member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ExportFileError(f"The archive has no {name}.") from None
    if info.file_size > limit:
        raise ExportFileError(f"{name} in the archive is larger than {limit} bytes.")
    try:
        # ZipExtFile stops at the declared size, so a member cannot unpack past it.
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ExportFileError(f"{name} in the archive cannot be read ({exc}).") from None


def _file(archive: zipfile.ZipFile, sha256: str, name: str) -> Inspected:
    data = _member(archive, f"files/{sha256}", settings.WEBOX_ATTACHMENT_MAX_BYTES)
    if storage.content_hash(data) != sha256:
        raise ExportFileError(f"files/{sha256} in the archive does not match its hash.")
    try:
        return inspect_upload(name=name, data=data)
    except Exception as exc:
        detail = getattr(exc, "detail", None)
        if detail is None:
            raise
        raise ExportFileError(f"The attachment {name!r} is refused: {detail}") from None


def _listed_attachments(raw: bytes) -> dict[tuple[int, int], list[dict]]:
    """``{(conversation index, message index): [{"sha256", "name"}]}`` from the JSON's messages."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ExportFileError(f"{JSON_NAME} is not JSON.") from None
    listed: dict[tuple[int, int], list[dict]] = {}
    conversations = data.get("conversations") if isinstance(data, dict) else None
    for number, conversation in enumerate(conversations if isinstance(conversations, list) else []):
        messages = conversation.get("messages") if isinstance(conversation, dict) else None
        for index, message in enumerate(messages if isinstance(messages, list) else []):
            entries = message.get("attachments") if isinstance(message, dict) else None
            if entries is None:
                continue
            where = f"Conversation {number + 1}, message {index + 1}"
            if not isinstance(entries, list) or len(entries) > settings.WEBOX_ATTACHMENTS_PER_MESSAGE:
                raise ExportFileError(f"{where}: attachments must be a list of at most "
                                      f"{settings.WEBOX_ATTACHMENTS_PER_MESSAGE}.")
            for entry in entries:
                if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                        and _SHA256.fullmatch(entry["sha256"]) and isinstance(entry.get("name"), str)
                        and 0 < len(entry["name"]) <= 255):
                    raise ExportFileError(f"{where}: each attachment needs a name and a sha256.")
            listed[(number, index)] = [{"sha256": e["sha256"], "name": e["name"]} for e in entries]
    return listed
