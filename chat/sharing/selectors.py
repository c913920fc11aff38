"""Reads: a user's links, a link by its token, and what a link shows."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet

from ..models import Message, Role, Share
from ..tree import load_tree


class ShareNotFound(Exception):
    """Raised alike for an unknown token and for someone else's link."""


def sharing_allowed(user) -> bool:
    """The site shares (``WEBOX_SHARING``) and staff have not turned links off for this user."""
    return bool(settings.WEBOX_SHARING and getattr(user, "can_share", False) and user.is_active)


def share_list_for_user(*, user) -> QuerySet[Share]:
    return Share.objects.filter(owner=user).select_related("conversation").order_by("-created_at", "-id")


def share_get_for_user(*, user, token) -> Share:
    if not getattr(user, "is_authenticated", False):
        raise ShareNotFound
    share = Share.objects.filter(owner=user, token=str(token)).first()
    if share is None:
        raise ShareNotFound
    return share


def share_get_public(*, token) -> Share | None:
    """The link a visitor opens; None when it is unknown, revoked, or its owner may no longer share."""
    share = Share.objects.select_related("conversation", "owner").filter(token=str(token)).first()
    if share is None or not sharing_allowed(share.owner):
        return None
    return share


@dataclass(frozen=True)
class SharedTurn:
    message: Message  # the user's message
    replies: list[Message]  # each column's newest version as it stood at the share, in column order


def _column_key(reply: Message) -> str:
    return reply.column or reply.provider or f"#{reply.pk}"


def shared_turns(share: Share) -> list[SharedTurn]:
    """The turns of the shared branch (the path to ``share.leaf``) with the replies that existed at the share.

    Two queries and the attachments': the tree's shape, then the path's messages. A turn, reply or
    regenerated version made after the share is left out, so the link shows the conversation as it was.
    """
    path = load_tree(share.conversation_id).path(share.leaf_id)
    messages = (Message.objects.filter(conversation_id=share.conversation_id, created_at__lte=share.created_at)
                .filter(Q(pk__in=path) | Q(reply_to_id__in=path)).prefetch_related("attachments")
                .order_by("created_at", "id"))
    turns: dict[int, Message] = {}
    columns: dict[int, dict[str, Message]] = {turn: {} for turn in path}
    for message in messages:
        if message.pk in columns and message.role == Role.USER:
            turns[message.pk] = message
        elif message.role == Role.ASSISTANT and message.reply_to_id in columns:
            # Oldest first, so a column keeps its first place and ends on its newest version.
            columns[message.reply_to_id][_column_key(message)] = message
    return [SharedTurn(message=turns[turn], replies=list(columns[turn].values())) for turn in path if turn in turns]
