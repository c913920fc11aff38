"""Writes of attachments: upload, send with a message, delete, sweep.

A file is stored before its row (a crash between leaves an unreferenced file that the next
upload of the same bytes reuses); it is deleted after the commit that removes its last row.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chat.errors import ChatInputError, StorageFull

from . import storage
from .models import Attachment
from .selectors import user_attachment_bytes
from .validation import inspect_upload

MAX_NAME_CHARS = 255


def upload_read_limit() -> int:
    """How much of an upload to read: one byte past the limit tells it is too large."""
    return settings.WEBOX_ATTACHMENT_MAX_BYTES + 1


def attachment_upload(*, owner, name: str, data: bytes) -> Attachment:
    """Check a file by its content and store it as a pending attachment of ``owner``.

    Refused (nothing stored): over ``WEBOX_ATTACHMENT_MAX_BYTES`` or the owner's quota
    (``StorageFull``, 413), or content that is not an accepted type (``ChatInputError``, 400).
    """
    limit = settings.WEBOX_ATTACHMENT_MAX_BYTES
    if len(data) > limit:
        raise StorageFull(f"A file holds at most {limit} bytes; this one has {len(data)}.", field="file",
                          code="too_large")
    name = _clean_name(name)
    inspected = inspect_upload(name=name, data=data)
    quota = settings.WEBOX_ATTACHMENT_QUOTA_BYTES
    if user_attachment_bytes(owner) + len(inspected.data) > quota:
        raise StorageFull(f"Your attachments would take more than your {quota} bytes of storage: "
                          "delete conversations with files to make room.", field="file")
    sha256 = storage.file_store(inspected.data)
    return Attachment.objects.create(
        owner=owner, name=name, kind=inspected.kind, media_type=inspected.media_type, size=len(inspected.data),
        sha256=sha256, text=inspected.text, width=inspected.width, height=inspected.height,
    )


def _clean_name(name: str) -> str:
    # Only ever shown and put in Content-Disposition: the last path part, printable, bounded.
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\r\n').strip()
    return name[-MAX_NAME_CHARS:] or "file"


def attachments_attach(*, attachments: list[Attachment], message) -> None:
    """Bind pending attachments (``pending_attachments_get(lock=True)`` in the send's transaction) to ``message``."""
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)


def clean_attachment_ids(value) -> tuple[int, ...]:
    """A send's ``attachments``: at most ``WEBOX_ATTACHMENTS_PER_MESSAGE`` distinct ids."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ChatInputError("attachments must be a list of attachment ids.", field="attachments")
    limit = settings.WEBOX_ATTACHMENTS_PER_MESSAGE
    if len(value) > limit:
        raise ChatInputError(f"A message holds at most {limit} attachments.", field="attachments")
    if len(set(value)) != len(value):
        raise ChatInputError("An attachment is listed twice.", field="attachments")
    return tuple(value)


def attachment_delete(*, attachment: Attachment) -> None:
    if attachment.message_id is not None:
        raise ChatInputError("This attachment was sent with a message: delete the conversation instead.")
    attachment.delete()


def attachments_sweep() -> int:
    """Delete uploads never sent within ``WEBOX_ATTACHMENT_PENDING_SECONDS``; how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.WEBOX_ATTACHMENT_PENDING_SECONDS)
    stale = list(Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff))
    for attachment in stale:
        attachment.delete()
    return len(stale)


def attachment_file_release(sender, instance: Attachment, **_) -> None:
    """``post_delete`` of an Attachment (connected in chat/apps.py): when the last row of a file
    is gone (deleted alone, or with its message, conversation or owner), the file goes too, once
    that is committed."""
    sha256 = instance.sha256

    def release() -> None:
        if not Attachment.objects.filter(sha256=sha256).exists():
            storage.file_delete(sha256)

    transaction.on_commit(release)
