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

from django.db import connection
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


def native_percentiles() -> bool:
    """Whether percentiles can be aggregates in the grouping query itself (PostgreSQL)."""
    return connection.vendor == "postgresql"


def percentile_annotations(fields: dict[str, str], ps: dict[str, float]) -> dict:
    """``{name_key: PercentileCont(field, p)}`` for a ``.annotate()`` on PostgreSQL."""
    return {f"{name}_{key}": PercentileCont(field, p) for name, field in fields.items() for key, p in ps.items()}


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
