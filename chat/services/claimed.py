"""The read after a reply's claim: the reply with its conversation and its question, and what its start needs.

One statement, written in SQL here rather than built by the ORM each time: building and compiling
the ORM's query (two joined tables, three subqueries, an EXISTS) cost a worker about 2 ms of CPU
per reply, more than the rest of the reply's database work together. The SQL is what the ORM
wrote; its columns are listed from the models' fields, and every value goes through its field's
converters as the ORM's would (SQLite's dates and booleans, PostgreSQL's JSON), so the models read
exactly as ``select_related("conversation", "reply_to")`` gives them.

Besides the rows it reads the versions (``updated_at``) of the reply's Provider record and of the
operator's prices for its model and for its provider's every model, each None when there is none
(``chat.providers.provider_config_at``, ``chat.usage.pricing.override_at`` read each version once a
process), and whether its question has files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db import connection
from django.db.models import Model

from chat.attachments.models import Attachment
from chat.models import Conversation, Message
from chat.providers.models import Provider
from chat.row_readers import ColumnReader, RowReader
from chat.usage.models import ModelPrice

# The annotations the claimed reply carries, in the statement's order after the three rows.
VERSIONS = ("provider_at", "price_model_at", "price_any_at")


@dataclass(frozen=True)
class _Statement:
    sql: str
    rows: tuple[RowReader, ...]  # the reply's, its conversation's, its question's, in the statement's order
    version: ColumnReader  # the reader of the three versions (each an ``updated_at``, a ``DateTimeField``)


@functools.cache
def _statement(vendor: str) -> _Statement:
    """The statement and its columns' readers for this database's vendor (its quoting and converters differ).

    The converters are those of the connection that first asks; each is given the connection of the
    call that reads, as the ORM's are."""
    quote = connection.ops.quote_name
    rows = tuple(RowReader.of(model) for model in (Message, Conversation, Message))

    def name(model: type[Model], field: str = "") -> str:
        return quote(model._meta.get_field(field).column) if field else quote(model._meta.db_table)

    updated, provider, model = name(Provider, "updated_at"), name(Message, "provider"), name(Message, "model")
    reply_id, question_id = name(Message, "id"), name(Message, "reply_to")
    price_provider, price_model, price_at = (name(ModelPrice, "provider"), name(ModelPrice, "model"),
                                             name(ModelPrice, "updated_at"))
    sql = (
        f"SELECT {rows[0].select_list('r')}, {rows[1].select_list('c')}, {rows[2].select_list('q')}, "
        # Provider names are unique, and so is a price's (provider, model): each subquery is one row or none.
        f"(SELECT p.{updated} FROM {name(Provider)} p WHERE p.{name(Provider, 'name')} = r.{provider}), "
        f"(SELECT mp.{price_at} FROM {name(ModelPrice)} mp "
        f"WHERE mp.{price_provider} = r.{provider} AND mp.{price_model} = r.{model}), "
        f"(SELECT ap.{price_at} FROM {name(ModelPrice)} ap "
        f"WHERE ap.{price_provider} = r.{provider} AND ap.{price_model} = ''), "
        f"EXISTS (SELECT 1 FROM {name(Attachment)} a WHERE a.{name(Attachment, 'message')} = r.{question_id}) "
        f"FROM {name(Message)} r "
        f"INNER JOIN {name(Conversation)} c ON c.{name(Conversation, 'id')} = r.{name(Message, 'conversation')} "
        f"LEFT OUTER JOIN {name(Message)} q ON q.{reply_id} = r.{question_id} "
        f"WHERE r.{reply_id} = %s"
    )
    return _Statement(sql, rows, ColumnReader.of(Provider._meta.get_field("updated_at")))


def claimed_reply(reply_id: int) -> Message | None:
    """The reply ``reply_id`` with its conversation and question cached and the annotations of
    ``VERSIONS`` and ``question_has_files``; None when it is gone (its conversation was deleted)."""
    statement = _statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [reply_id])
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for reader in statement.rows:
        part, start = row[start:start + len(reader.columns)], start + len(reader.columns)
        # A reply without a question (none of the outer join's columns): no question.
        instances.append(None if part[0] is None else reader.read(part))
    reply, conversation, question = instances
    Message._meta.get_field("conversation").set_cached_value(reply, conversation)
    Message._meta.get_field("reply_to").set_cached_value(reply, question)
    for name, value in zip(VERSIONS, row[start:start + len(VERSIONS)], strict=True):
        setattr(reply, name, statement.version.read(value))
    reply.question_has_files = bool(row[start + len(VERSIONS)])
    return reply
