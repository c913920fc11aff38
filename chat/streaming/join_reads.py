"""A joining socket's snapshot read: the conversation's active replies.

Written in SQL here, once per process, rather than built by the ORM each time: compiling the ORM's
query (its ``order_by`` most of all) cost daphne's database thread more CPU than running it, about
a quarter of a join's CPU. The SQL is what the ORM wrote for
``Message.objects.filter(conversation_id=…, role=assistant, status__in=ACTIVE_STATUSES)
.order_by("created_at", "id")``. Its columns are listed from the model's fields and every value
goes through its field's converters as the ORM's would (SQLite's dates and booleans, PostgreSQL's
JSON; ``chat.row_readers``): the replies read exactly as the ORM gives them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection

from chat.models import ACTIVE_STATUSES, Message, Role
from chat.row_readers import RowReader


@dataclass(frozen=True)
class _Statement:
    sql: str
    parameters: tuple  # after the conversation's id: the role, then the active statuses
    replies: RowReader


@functools.cache
def _statement(vendor: str) -> _Statement:
    """The statement and its columns' readers for this database's vendor (its quoting and converters
    differ). The converters are those of the connection that first asks; each is given the connection of the
    call that reads, as the ORM's are."""
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"

    replies = RowReader.of(Message)
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    sql = (
        f"SELECT {replies.select_list(quote(Message._meta.db_table))} "
        f"FROM {quote(Message._meta.db_table)} "
        f"WHERE ({column(Message, 'conversation')} = %s AND {column(Message, 'role')} = %s "
        f"AND {column(Message, 'status')} IN ({statuses})) "
        f"ORDER BY {column(Message, 'created_at')} ASC, {column(Message, 'id')} ASC"
    )
    return _Statement(sql, (str(Role.ASSISTANT), *(str(status) for status in ACTIVE_STATUSES)), replies)


def active_replies(*, conversation_id: int) -> list[Message]:
    """The conversation's assistant replies still pending or streaming, oldest first."""
    statement = _statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [conversation_id, *statement.parameters])
        rows = cursor.fetchall()
    return [statement.replies.read(row) for row in rows]
