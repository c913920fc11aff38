"""Writes: create and revoke a share link."""

from __future__ import annotations

import secrets

from ..errors import ChatForbidden, ChatInputError, ChatNotFound
from ..models import Conversation, Share
from ..tree import active_leaf, load_tree
from .selectors import sharing_allowed

TOKEN_BYTES = 32


def share_create(*, user, conversation: Conversation, show_details: bool = False, turn: int | None = None) -> Share:
    """A link to the branch on screen, or to the branch ending at ``turn``, as it is now.

    ``conversation`` has passed the access check. The link shows the path to its leaf, and of it only
    what exists at the share's ``created_at`` (chat/sharing/selectors.py).
    """
    if not sharing_allowed(user):
        raise ChatForbidden("Share links are turned off for your account.", code="sharing_off")
    tree = load_tree(conversation.pk)
    if turn is None:
        leaf = active_leaf(conversation, tree)
    elif turn in tree:
        leaf = turn
    else:
        raise ChatNotFound("No such turn in this conversation.", field="turn")
    if leaf is None:
        raise ChatInputError("This conversation has no messages to share yet.")
    return Share.objects.create(token=secrets.token_urlsafe(TOKEN_BYTES), conversation=conversation,
                                owner=user, leaf_id=leaf, show_details=show_details)


def share_revoke(*, share: Share) -> None:
    """The link stops working at once: its row is gone, so its URL is a 404 like any unknown token."""
    share.delete()
