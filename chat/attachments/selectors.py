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


def user_attachment_bytes(user) -> int:
    return Attachment.objects.filter(owner=user).aggregate(total=Sum("size"))["total"] or 0
