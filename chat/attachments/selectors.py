"""Reads of attachments; ``attachment_get_for_user`` is the one access check."""

from __future__ import annotations

from django.db.models import Sum

from chat.errors import ChatNotFound

from .models import Attachment


def attachment_get_for_user(*, user, attachment_id) -> Attachment:
    """The user's own attachment; another user's and a missing one are the same ``ChatNotFound``."""
    try:
        return Attachment.objects.get(pk=int(attachment_id), owner=user)
    except (Attachment.DoesNotExist, TypeError, ValueError):
        raise ChatNotFound("No such attachment.") from None


def pending_attachments_get(*, owner, attachment_ids, lock: bool = False) -> list[Attachment]:
    """The owner's uploads not sent yet, in the order of ``attachment_ids``; ``lock`` in the send's transaction.

    An id that is not the owner's pending upload (another user's, sent already, swept) is refused.
    """
    if not attachment_ids:
        return []
    rows = Attachment.objects.filter(pk__in=attachment_ids, owner=owner, message__isnull=True)
    found = {a.pk: a for a in (rows.select_for_update() if lock else rows)}
    missing = [pk for pk in attachment_ids if pk not in found]
    if missing:
        raise ChatNotFound(f"No such attachment waiting to be sent: {missing[0]}.", field="attachments")
    return [found[pk] for pk in attachment_ids]


def user_attachment_bytes(user) -> int:
    return Attachment.objects.filter(owner=user).aggregate(total=Sum("size"))["total"] or 0
