"""A socket's reads when it joins and on each client frame: whether the conversation is the user's, and its
active replies for the snapshot.

Written in SQL here, once per process, rather than built by the ORM each time: compiling the ORM's
queries cost daphne's database thread more CPU than running them, about a third of a join's CPU.
The SQL is what the ORM wrote (``conversation_get_for_user``'s filter, without reading the row
nothing uses; ``Message.objects.filter(...).order_by("created_at", "id")``). Its columns are listed
from the model's fields and every value goes through its field's converters as the ORM's would
(SQLite's dates and booleans, PostgreSQL's JSON), as in ``chat.services.claimed``: the replies read
exactly as the ORM gives them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models import Field
from django.db.models.expressions import Col

from chat.models import ACTIVE_STATUSES, Conversation, Message, Role


@dataclass(frozen=True)
class _Column:
    """How the ORM turns one column's value into its field's: the backend's converters, then the field's."""

    expression: Col
    converters: tuple

    @classmethod
    def of(cls, field: Field) -> _Column:
        expression = field.get_col(field.model._meta.db_table)
        return cls(expression, tuple(connection.ops.get_db_converters(expression)
                                     + expression.get_db_converters(connection)))

    def read(self, value):
        for converter in self.converters:
            value = converter(value, self.expression, connection)
        return value


@dataclass(frozen=True)
class _Statements:
    owned: str
    active_replies: str
    active_parameters: tuple  # after the conversation's id: the role, then the active statuses
    message_columns: tuple[_Column, ...]


@functools.cache
def _statements(vendor: str) -> _Statements:
    """The statements and the message columns' readers for this database's vendor (its quoting and converters
    differ). The converters are those of the connection that first asks; each is given the connection of the
    call that reads, as the ORM's are."""
    quote = connection.ops.quote_name

    def column(model, name: str) -> str:
        return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"

    fields = Message._meta.concrete_fields
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    active_replies = (
        f"SELECT {', '.join(f'{quote(Message._meta.db_table)}.{quote(field.column)}' for field in fields)} "
        f"FROM {quote(Message._meta.db_table)} "
        f"WHERE ({column(Message, 'conversation')} = %s AND {column(Message, 'role')} = %s "
        f"AND {column(Message, 'status')} IN ({statuses})) "
        f"ORDER BY {column(Message, 'created_at')} ASC, {column(Message, 'id')} ASC"
    )
    owned = (f"SELECT 1 FROM {quote(Conversation._meta.db_table)} "
             f"WHERE ({column(Conversation, 'owner')} = %s AND {column(Conversation, 'id')} = %s) LIMIT 1")
    return _Statements(owned, active_replies, (str(Role.ASSISTANT), *(str(status) for status in ACTIVE_STATUSES)),
                       tuple(_Column.of(field) for field in fields))


def conversation_owned(*, user_id: int, conversation_id: int) -> bool:
    """Whether the conversation exists and is this user's: ``conversation_get_for_user``'s check for a
    caller that needs the answer, not the row."""
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection.vendor).owned, [user_id, conversation_id])
        return cursor.fetchone() is not None


def active_replies(*, conversation_id: int) -> list[Message]:
    """The conversation's assistant replies still pending or streaming, oldest first."""
    statements = _statements(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(statements.active_replies, [conversation_id, *statements.active_parameters])
        rows = cursor.fetchall()
    columns = statements.message_columns
    return [Message.from_db(connection.alias, None,
                            [column.read(value) for column, value in zip(columns, row, strict=True)])
            for row in rows]
