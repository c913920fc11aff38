"""Reads. ``conversation_get_for_user`` is the only way anything fetches a conversation;
``conversation_owned`` the same check for a caller that needs only the answer."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Left

from .models import Conversation, Folder, Message, Role
from .row_readers import RowReader
from .tree import Tree, active_leaf

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
    if not getattr(user, "is_authenticated", False) or not _is_an_id(conversation_id):
        raise ConversationNotFound
    sql, reader = _conversation_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, conversation_id])
        row = cursor.fetchone()
    if row is None:
        raise ConversationNotFound
    return reader.read(row)


@functools.cache
def _conversation_statement(vendor: str) -> tuple[str, RowReader]:
    """``Conversation.objects.get(pk=…, owner=…)`` as SQL written once per process, and its row's reader: every
    request that names a conversation reads it, and building the ORM's query cost about 1.5 ms of CPU."""
    quote = connection.ops.quote_name
    meta = Conversation._meta
    table = quote(meta.db_table)
    reader = RowReader.of(Conversation)
    owner, pk = quote(meta.get_field("owner").column), quote(meta.pk.column)
    sql = f"SELECT {reader.select_list(table)} FROM {table} WHERE ({table}.{owner} = %s AND {table}.{pk} = %s)"
    return sql, reader


def _is_an_id(value: int) -> bool:
    # The ORM finds no row for an id out of the column's range; the database would refuse it.
    low, high = connection.ops.integer_field_range(Conversation._meta.pk.get_internal_type())
    return (low is None or value >= low) and (high is None or value <= high)


@functools.cache
def _owned_statement(vendor: str) -> str:
    quote = connection.ops.quote_name
    table, meta = quote(Conversation._meta.db_table), Conversation._meta
    return (f"SELECT 1 FROM {table} WHERE ({table}.{quote(meta.get_field('owner').column)} = %s "
            f"AND {table}.{quote(meta.pk.column)} = %s) LIMIT 1")


def conversation_owned(*, user, conversation_id) -> bool:
    """Whether ``conversation_get_for_user`` would find the conversation, without reading its row: for a
    socket, on join and on every client frame.

    Its filter in SQL written once per process: compiling the ORM's query cost more CPU than running it.
    """
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        return False
    if not getattr(user, "is_authenticated", False) or not _is_an_id(conversation_id):
        return False
    with connection.cursor() as cursor:
        cursor.execute(_owned_statement(connection.vendor), [user.pk, conversation_id])
        return cursor.fetchone() is not None


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
    active_leaf: int | None = None  # the last turn of the branch on screen (chat/tree.py)


def _older_than(created_at, pk: int) -> Q:
    return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)


def conversation_message_get(*, conversation: Conversation, message_id) -> Message | None:
    """A message of this conversation (already access-checked), or None."""
    try:
        return conversation.messages.filter(pk=int(message_id)).first()
    except (TypeError, ValueError):
        return None


def conversation_messages_page(*, conversation: Conversation, before: Message | None = None,
                               turns: int | None = None, max_messages: int | None = None) -> MessagePage:
    """The newest turns of the branch on screen older than ``before`` (all of them: the newest), each with every
    reply to it and, on its user message, its place among its branches (``tree_siblings``).

    The branch on screen is the path to the conversation's active leaf (chat/tree.py); turns of other
    branches are not on the page. A reply belongs to its turn's page wherever it falls in time (a
    regenerated version is newer than later turns). A message that answers no turn is on the page
    whose turns surround it. Three queries, however long or branched the conversation: the tree
    with each turn's size, the page's messages, then their attachments.
    """
    turns = turns or PAGE_TURNS
    max_messages = max_messages or PAGE_MESSAGES
    # The tree with each turn's size (its replies) in one query: the path is found in it.
    tree, rows = Tree(), {}
    for pk, parent, created_at, size in (conversation.messages.filter(role=Role.USER, reply_to__isnull=True)
                                         .annotate(size=Count("replies")).order_by("id")
                                         .values_list("pk", "parent_id", "created_at", "size")):
        tree.add(pk, parent)
        rows[pk] = (created_at, size)
    leaf = active_leaf(conversation, tree)
    path = tree.path(leaf)
    if before is not None:
        path = path[:path.index(before.pk)] if before.pk in path else [turn for turn in path if turn < before.pk]
    picked: list[int] = []
    size = 0
    for turn in reversed(path[-turns:]):
        if picked and size + 1 + rows[turn][1] > max_messages:
            break
        picked.append(turn)
        size += 1 + rows[turn][1]
    more = len(picked) < len(path)
    loose = Q(reply_to__isnull=True) & ~Q(role=Role.USER)
    if more:
        loose &= ~_older_than(rows[picked[-1]][0], picked[-1])
    if before is not None:
        loose &= _older_than(before.created_at, before.pk)
    # With each turn's vote (shown on its user message) in the same query, and each message's files.
    messages = list(conversation.messages.select_related("vote")
                    .filter(Q(pk__in=picked) | Q(reply_to_id__in=picked) | loose).order_by("created_at", "id")
                    .prefetch_related("attachments"))
    for message in messages:
        if message.role == Role.USER and message.reply_to_id is None:
            message.tree_siblings = tree.siblings(message.pk)
    return MessagePage(messages=messages, before=picked[-1] if more else None, active_leaf=leaf)

