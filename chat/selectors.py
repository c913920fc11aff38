"""Reads. ``conversation_get_for_user`` is the only way anything fetches a conversation."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Left

from .models import ACTIVE_STATUSES, Conversation, Message, Role

PREVIEW_CHARS = 160
# The Markdown read for a preview: marks and link targets take room, so more than is shown.
PREVIEW_SOURCE_CHARS = 2 * PREVIEW_CHARS


class ConversationNotFound(Exception):
    """Raised alike for a conversation that does not exist and for one that is not yours."""


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


def conversation_list_for_user(*, user, query: str = "", archived: bool | None = False) -> QuerySet[Conversation]:
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
    # ``preview`` is Markdown here; the list serializer shows it as plain text.
    return conversations.annotate(preview=Left(Subquery(last_content), PREVIEW_SOURCE_CHARS)).order_by(
        "-updated_at", "-id")


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.order_by("created_at", "id")


def active_replies(*, conversation_id: int) -> list[Message]:
    return list(
        Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT, status__in=ACTIVE_STATUSES)
        .order_by("created_at", "id")
    )
