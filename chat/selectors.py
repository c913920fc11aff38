"""Reads. ``conversation_get_for_user`` is the only way anything fetches a conversation."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left

from .models import ACTIVE_STATUSES, Conversation, Folder, Message, Role

PREVIEW_CHARS = 160
# The Markdown read for a preview: marks and link targets take room, so more than is shown.
PREVIEW_SOURCE_CHARS = 2 * PREVIEW_CHARS
# A page of a conversation's messages: its newest turns, at most this many, and no more messages
# than this unless one turn alone holds more (a turn is never split).
PAGE_TURNS = 50
PAGE_MESSAGES = 400


class ConversationNotFound(Exception):
    """Raised alike for a conversation that does not exist and for one that is not yours."""


class FolderNotFound(Exception):
    """Raised alike for a folder that does not exist and for one that is not yours."""


# The list's ``folder`` filter for "in no folder".
NO_FOLDER = "none"


def conversation_get_for_user(*, user, conversation_id) -> Conversation:
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise ConversationNotFound from None
    if not getattr(user, "is_authenticated", False):
        raise ConversationNotFound
    try:
        return Conversation.objects.get(pk=conversation_id, owner=user)
    except Conversation.DoesNotExist:
        raise ConversationNotFound from None


def message_get_for_user(*, user, message_id) -> Message:
    """A message, through its conversation's access check."""
    try:
        message = Message.objects.select_related("conversation").get(pk=int(message_id))
    except (TypeError, ValueError, Message.DoesNotExist):
        raise ConversationNotFound from None
    conversation_get_for_user(user=user, conversation_id=message.conversation_id)
    return message


def folder_get_for_user(*, user, folder_id) -> Folder:
    """The only way anything fetches a folder; with its ``conversation_count``."""
    try:
        folder_id = int(folder_id)
    except (TypeError, ValueError):
        raise FolderNotFound from None
    if not getattr(user, "is_authenticated", False):
        raise FolderNotFound
    try:
        return folder_list_for_user(user=user).get(pk=folder_id)
    except Folder.DoesNotExist:
        raise FolderNotFound from None


def folder_list_for_user(*, user) -> QuerySet[Folder]:
    """One's folders by name, each with ``conversation_count`` (its conversations not archived), in one query."""
    return Folder.objects.filter(owner=user).annotate(
        conversation_count=Count("conversations", filter=Q(conversations__archived=False))).order_by("name", "id")


def conversation_list_for_user(*, user, query: str = "", archived: bool | None = False,
                               folder: Folder | str | None = None) -> QuerySet[Conversation]:
    """Pinned first (most recently pinned first), then by last activity. ``folder``: one of the user's
    folders, ``NO_FOLDER`` for the conversations in none, None for all."""
    last_content = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .exclude(content="")
        .order_by("-created_at", "-id")
        .values("content")[:1]
    )
    conversations = Conversation.objects.filter(owner=user)
    if archived is not None:
        conversations = conversations.filter(archived=archived)
    if query:
        conversations = conversations.filter(title__icontains=query)
    if folder == NO_FOLDER:
        conversations = conversations.filter(folder__isnull=True)
    elif folder is not None:
        conversations = conversations.filter(folder=folder)
    # ``preview`` is Markdown here; the list serializer shows it as plain text.
    return conversations.annotate(preview=Left(Subquery(last_content), PREVIEW_SOURCE_CHARS)).order_by(
        F("pinned_at").desc(nulls_last=True), "-updated_at", "-id")


@dataclass(frozen=True)
class MessagePage:
    messages: list[Message]  # oldest first
    before: int | None  # the ``before`` that fetches the turns just older; None: this page is the oldest


def _older_than(message: Message) -> Q:
    return Q(created_at__lt=message.created_at) | Q(created_at=message.created_at, pk__lt=message.pk)


def conversation_message_get(*, conversation: Conversation, message_id) -> Message | None:
    """A message of this conversation (already access-checked), or None."""
    try:
        return conversation.messages.filter(pk=int(message_id)).first()
    except (TypeError, ValueError):
        return None


def conversation_messages_page(*, conversation: Conversation, before: Message | None = None,
                               turns: int | None = None, max_messages: int | None = None) -> MessagePage:
    """The newest turns older than ``before`` (all of them: the newest), each with every reply to it.

    A turn is a user message; a reply belongs to its turn's page wherever it falls in time (a
    regenerated version is newer than later turns). A message that answers no turn is on the page
    whose turns surround it. Four queries at most: the turns with their sizes, the messages, then
    their attachments.
    """
    turns = turns or PAGE_TURNS
    max_messages = max_messages or PAGE_MESSAGES
    users = conversation.messages.filter(role=Role.USER)
    if before is not None:
        users = users.filter(_older_than(before))
    newest = list(users.annotate(size=Count("replies")).order_by("-created_at", "-id")[: turns + 1])
    picked: list[Message] = []
    size = 0
    for turn in newest[:turns]:
        if picked and size + 1 + turn.size > max_messages:
            break
        picked.append(turn)
        size += 1 + turn.size
    more = len(picked) < len(newest)
    loose = Q(reply_to__isnull=True) & ~Q(role=Role.USER)
    if more:
        loose &= ~_older_than(picked[-1])
    if before is not None:
        loose &= _older_than(before)
    ids = [turn.pk for turn in picked]
    # With each turn's vote (shown on its user message) in the same query, and each message's files.
    messages = list(conversation.messages.select_related("vote")
                    .filter(Q(pk__in=ids) | Q(reply_to_id__in=ids) | loose).order_by("created_at", "id")
                    .prefetch_related("attachments"))
    return MessagePage(messages=messages, before=picked[-1].pk if more else None)


def active_replies(*, conversation_id: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT, status__in=ACTIVE_STATUSES)
        .order_by("created_at", "id")
    )
