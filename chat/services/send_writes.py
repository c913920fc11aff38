"""A send's writes as SQL written once per process, not ORM statements built per send.

- ``messages_insert(messages)``: ``Message.objects.bulk_create(messages)`` (``create`` for one): one
  ``INSERT … RETURNING`` of every concrete column, each value prepared by its field as the ORM's insert
  prepares it (``pre_save``: the ``auto_now`` dates, set on the instance too; ``get_db_prep_save``: JSON,
  SQLite's dates and booleans); the returned ids set on the instances, which then read as saved.
- ``conversation_save(conversation, fields)``: ``conversation.save(update_fields=fields)``, ``updated_at``
  moved forward by its field's ``pre_save`` as the ORM's save does.
- ``estimates_update(replies)``: each reply's ``estimate`` in one ``UPDATE … CASE``.

Building and compiling the ORM's statements cost daphne about 0.4 to 0.8 ms of CPU each, several times
the statement's own round trip. Message and Conversation have no ``save()`` of their own and nothing
listens to their save signals, which the ORM's ``bulk_create`` skips too; the database's triggers (the
search index's) run alike. Each statement is held equal to the ORM's by tests/chat/test_send_writes.py.
"""

from __future__ import annotations

import functools

from django.db import DatabaseError, connection
from django.db.models import Model

from chat.models import Conversation, Message


def _insert_fields() -> tuple:
    """The columns an insert writes: every concrete field but the generated primary key."""
    return tuple(field for field in Message._meta.concrete_fields if field is not Message._meta.auto_field)


@functools.lru_cache(maxsize=32)
def _insert_statement(vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    table = quote(Message._meta.db_table)
    fields = _insert_fields()
    row = f"({', '.join(['%s'] * len(fields))})"
    return (f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES {', '.join([row] * rows)} RETURNING {table}.{quote(Message._meta.pk.column)}")


def messages_insert(messages: list[Message]) -> list[Message]:
    """Store new ``messages`` in one statement, in order; each gets its id and its ``auto_now`` dates."""
    if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
        return Message.objects.bulk_create(messages)
    fields = _insert_fields()
    params = []
    for message in messages:
        # Instances built with related objects whose ids were unknown then get their ids now, as save() does.
        message._prepare_related_fields_for_save(operation_name="messages_insert")
        params += [field.get_db_prep_save(field.pre_save(message, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_statement(connection.vendor, len(messages)), params)
        ids = [row[0] for row in cursor.fetchall()]
    for message, pk in zip(messages, ids, strict=True):
        message.pk = pk
        _mark_saved(message)
    return messages


def _mark_saved(instance: Model) -> None:
    instance._state.adding = False
    instance._state.db = connection.alias


@functools.lru_cache(maxsize=32)
def _update_statement(vendor: str, names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(Conversation._meta.get_field(name).column)} = %s" for name in names)
    return (f"UPDATE {quote(Conversation._meta.db_table)} SET {sets} "
            f"WHERE {quote(Conversation._meta.pk.column)} = %s")


def conversation_save(conversation: Conversation, fields: list[str]) -> None:
    """``conversation.save(update_fields=fields)``: the fields' values, ``auto_now`` ones moved to now."""
    names = tuple(dict.fromkeys(fields))
    params = []
    for name in names:
        field = Conversation._meta.get_field(name)
        params.append(field.get_db_prep_save(field.pre_save(conversation, False), connection))
    with connection.cursor() as cursor:
        cursor.execute(_update_statement(connection.vendor, names), [*params, conversation.pk])
        if cursor.rowcount == 0:
            raise DatabaseError("Save with update_fields did not affect any rows.")  # as the ORM's save says


@functools.lru_cache(maxsize=32)
def _estimates_statement(vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    pk = f"{quote(Message._meta.db_table)}.{quote(Message._meta.pk.column)}"
    cases = " ".join([f"WHEN ({pk} = %s) THEN %s"] * rows)
    return (f"UPDATE {quote(Message._meta.db_table)} SET {quote(Message._meta.get_field('estimate').column)} = "
            f"CASE {cases} ELSE NULL END WHERE {pk} IN ({', '.join(['%s'] * rows)})")


def estimates_update(replies: list[Message]) -> None:
    """Store each reply's ``estimate`` in one statement (atomic on its own: no transaction needed)."""
    field = Message._meta.get_field("estimate")
    params = []
    for reply in replies:
        params += [reply.pk, field.get_db_prep_save(reply.estimate, connection)]
    with connection.cursor() as cursor:
        cursor.execute(_estimates_statement(connection.vendor, len(replies)), [*params, *(r.pk for r in replies)])
