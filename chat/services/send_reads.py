"""The conversation a send names, read with SQL written once per process.

``conversation_to_send_to(user, conversation_id)`` is ``chat.selectors.conversation_get_for_user`` (the one
access check: another's conversation and none at all look the same) for ``POST /api/chat/send``, whose every
request reads it: the same statement, its columns listed from the model's fields and each value through
its field's converters as the ORM's (SQLite's dates and booleans, PostgreSQL's JSON), so the instance reads
exactly as ``Conversation.objects.get(pk=…, owner=user)`` gives it. Building and compiling the ORM's query
cost daphne about 1.5 ms of CPU a send.
"""

from __future__ import annotations

import functools

from django.db import connection

from chat.models import Conversation
from chat.row_readers import RowReader
from chat.selectors import ConversationNotFound


@functools.cache
def _conversation_statement(vendor: str) -> tuple[str, RowReader]:
    """The statement and its row's reader for this database's vendor (its quoting and converters differ)."""
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


def conversation_to_send_to(*, user, conversation_id) -> Conversation:
    """The user's conversation ``conversation_id``; ``ConversationNotFound`` for another's, none, or not an id."""
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
