"""Percentiles per group, computed by the database.

PostgreSQL: ``percentile_cont(p) WITHIN GROUP (ORDER BY x)``, an ordinary aggregate beside the
others. SQLite has no percentile function: each group's rows are numbered by the value with
window functions (``ROW_NUMBER`` and ``COUNT`` over the group) and only the two rows around each
wanted position come back, which are interpolated exactly as ``percentile_cont`` does (linear
between the closest ranks, position ``(n - 1) * p``). Either way the number of queries does not
depend on the number of rows, groups or days.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Aggregate, Count, F, FloatField, IntegerField, Q, QuerySet, Value, Window
from django.db.models.functions import Cast, Floor, RowNumber


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile: ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    # Aggregate adds FILTER (WHERE ...) itself, which ordered-set aggregates accept.
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def __init__(self, expression, percentile: float, **extra):
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be between 0 and 1")
        super().__init__(expression, percentile=float(percentile), **extra)


@contextmanager
def room_to_sort():
    """Run the dashboard's reads in one transaction that lets PostgreSQL sort in memory.

    Percentiles and grouping sort every reply of the period; with the default 4 MB of work_mem
    100k replies spill to disk. ``SET LOCAL`` ends with the transaction.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '32MB'")
        yield


def native_percentiles() -> bool:
    """Whether percentiles can be aggregates in the grouping query itself (PostgreSQL)."""
    return connection.vendor == "postgresql"


class PercentilesCont(Aggregate):
    """Several percentiles of one column from a single sort: ``percentile_cont(ARRAY[...])``."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(percentiles)s]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, percentiles: tuple[float, ...], **extra):
        from django.contrib.postgres.fields import ArrayField

        if not all(0 <= p <= 1 for p in percentiles):
            raise ValueError("percentiles must be between 0 and 1")
        super().__init__(expression, percentiles=", ".join(repr(float(p)) for p in percentiles),
                         output_field=ArrayField(FloatField()), **extra)


def percentile_annotations(fields: dict[str, str], ps: dict[str, float]) -> dict:
    """``{name: PercentilesCont(field, ps)}`` for a PostgreSQL ``.annotate()``; read with ``unpack``."""
    return {f"_pct_{name}": PercentilesCont(field, tuple(ps.values())) for name, field in fields.items()}


def unpack(row: dict, name: str, ps: dict[str, float]) -> dict[str, float | None]:
    """``{name_key: value}`` from the array a ``percentile_annotations`` column holds."""
    values = row.get(f"_pct_{name}") or [None] * len(ps)
    return {f"{name}_{key}": value for key, value in zip(ps, values, strict=True)}


def interpolate(values: dict[int, float], n: int, p: float) -> float:
    """percentile_cont from the 1-based ranks around position ``(n - 1) * p``."""
    position = (n - 1) * p
    low = math.floor(position)
    lower = values[low + 1]
    upper = values.get(low + 2, lower)
    return lower + (position - low) * (upper - lower)


def windowed_percentiles(qs: QuerySet, *, group: list[str], field: str, ps: dict[str, float]
                         ) -> dict[tuple, dict[str, float]]:
    """One query: ``{group values: {key: percentile}}`` for rows where ``field`` is not null.

    ``qs`` may carry annotations named in ``group`` (e.g. a day). Used on SQLite; correct on any
    database with window functions.
    """
    partition = [F(name) for name in group]
    ranked = qs.filter(**{f"{field}__isnull": False}).annotate(
        _v=Cast(field, FloatField()),
        _rank=Window(RowNumber(), partition_by=partition, order_by=F(field).asc()),
        _n=Window(Count("pk"), partition_by=partition),
    )
    wanted = Q()
    for p in ps.values():
        # FLOOR first: PostgreSQL's CAST to integer rounds, SQLite's truncates.
        low = Cast(Floor((F("_n") - 1) * Value(p)), IntegerField()) + 1
        wanted |= Q(_rank=low) | Q(_rank=low + 1)
    rows = ranked.filter(wanted).values_list(*group, "_n", "_rank", "_v")
    ranks: dict[tuple, tuple[int, dict[int, float]]] = {}
    width = len(group)
    for row in rows:
        key, n, rank, value = tuple(row[:width]), row[width], row[width + 1], row[width + 2]
        ranks.setdefault(key, (n, {}))[1][rank] = value
    return {key: {name: interpolate(values, n, p) for name, p in ps.items()} for key, (n, values) in ranks.items()}
