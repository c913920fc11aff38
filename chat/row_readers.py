"""Rows read with SQL written once per process, turned into values and instances as the ORM's would be.

For the hot statements written in SQL rather than built by the ORM each time (a conversation's
read, chat/selectors.py; a send's, chat/limits.py, chat/usage/pricing.py; a reply's claim,
chat/services/claimed.py): each column's value goes through the backend's converters and then its
field's (SQLite's dates, decimals and booleans, PostgreSQL's JSON), in the order the ORM's compiler
applies them. Imports nothing of chat, so any module may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col


@dataclass(frozen=True)
class ColumnReader:
    """One column of ``field``: its value as the ORM gives it."""

    expression: Col
    converters: tuple

    @classmethod
    def of(cls, field: Field) -> ColumnReader:
        expression = field.get_col(field.model._meta.db_table)
        return cls(expression, tuple(connection.ops.get_db_converters(expression)
                                     + expression.get_db_converters(connection)))

    def read(self, value):
        for converter in self.converters:
            value = converter(value, self.expression, connection)
        return value


@dataclass(frozen=True)
class RowReader:
    """A row of every concrete column of ``model``, in the fields' order: an instance as read from the database.

    The converters are those of the connection that built the reader; each is given the connection
    of the call that reads, as the ORM's are."""

    model: type[Model]
    columns: tuple[ColumnReader, ...]

    @classmethod
    def of(cls, model: type[Model]) -> RowReader:
        return cls(model, tuple(ColumnReader.of(field) for field in model._meta.concrete_fields))

    def select_list(self, alias: str) -> str:
        """The columns to select, in order, of the table named ``alias`` in the statement."""
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(column.expression.target.column)}" for column in self.columns)

    def read(self, row) -> Model:
        values = [column.read(value) for column, value in zip(self.columns, row, strict=True)]
        return self.model.from_db(connection.alias, None, values)
