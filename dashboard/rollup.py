"""The daily rollup (dashboard/models.py), kept exact by database triggers on ``chat_message``.

Why triggers: the rollup must follow every change to an ended reply — its end (complete, error,
stop, the orphan sweep), ``usage_backfill``, the deletion of a reply, a conversation or a user,
an import, an admin edit — and a trigger cannot be forgotten by a new code path. It runs inside
the statement that changed the reply, so a reply's end still costs one statement and one commit
(the bound of tests/streaming/test_database_work.py); the rows it touches are locked only until
that commit, site row first, then the user's, always in that order. Checkpoints of streaming
replies do not fire it (the ``WHEN`` clause: neither the old nor the new row has ended).

The same statements serve PostgreSQL (inside one PL/pgSQL function) and SQLite (trigger
bodies): the old row's figures are subtracted from its rollup rows and the new row's added; a
rollup row left with no reply is deleted. ``rollup_rebuild`` recomputes both tables from the replies with the
same expressions (the data migration, ``manage.py dashboard_rollup``, and after a SQLite table
rebuild dropped the triggers), and ``rollup_differences`` compares the two.

Imported replies are history, not usage webox measured: they never count (``counted``). No sum can
overflow, so no reply's end can fail because of a rollup row: each reply's figures are bounded
(``_figures``), every upsert saturates at its column's maximum and floors at 0 instead of
overflowing, and the rebuild's sums saturate at the same maxima (``_sum``). Figures that large only
come from absurd prices or provider counts; a saturated figure is the largest its column holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection as default_connection
from django.db import transaction

SITE, USER = "dashboard_dailyusage", "dashboard_userdailyusage"
KEY = ["day", "provider", "model", "cost_currency", "error_code"]
FIGURES = ["replies", "errors", "cancelled", "estimated", "priced", "prompt_tokens", "completion_tokens",
           "cost_units"]
# A change to any of these of an ended reply changes a figure or a percentile of its day.
WATCHED = ["role", "imported", "status", "created_at", "conversation_id", "provider", "model", "cost_currency",
           "error_code", "prompt_tokens", "completion_tokens", "usage_estimated", "cost", "ttft_ms", "duration_ms",
           "tokens_per_second"]
PG_FUNCTION = "dashboard_usage_apply"
# Where versions come from: a sequence on PostgreSQL (no lock between concurrent replies), a
# one-row counter on SQLite (one writer at a time anyway). It only goes up — except that SQLite's
# goes back with a transaction rolled back, harmless since no dashboard read shares a transaction
# with writes (the tests, which do, give each test its own cache keys).
VERSIONS = "dashboard_usage_version"
TRIGGERS = {"insert": "dashboard_usage_insert", "delete": "dashboard_usage_delete", "update": "dashboard_usage_update"}
# Serves the percentiles of dashboard/selectors.py (PostgreSQL): read in group order, index only.
PG_TIMINGS_INDEX = "msg_dashboard_timings"
PG_TIMINGS_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {PG_TIMINGS_INDEX} ON chat_message "
    "(provider, model, ((created_at AT TIME ZONE 'UTC')::date)) "
    "INCLUDE (created_at, ttft_ms, duration_ms, tokens_per_second) "
    "WHERE role = 'assistant' AND status IN ('complete', 'error', 'cancelled') AND NOT imported"
)
# The largest value of each figure's column (dashboard/models.py): counts are integers, sums bigints.
INT_MAX, BIGINT_MAX = 2**31 - 1, 2**63 - 1
CEILING = {f: INT_MAX for f in FIGURES} | {"prompt_tokens": BIGINT_MAX, "completion_tokens": BIGINT_MAX,
                                          "cost_units": BIGINT_MAX}
# One reply's share at most: a token count fits an integer column, a cost has 8 digits before the point.
TOKENS_MAX, COST_UNITS_MAX = INT_MAX, 10**16 - 1


@dataclass(frozen=True)
class Dialect:
    day: str  # the UTC day of a timestamp column, {0} being the column
    least: str  # the smaller of two values (a scalar function)
    greatest: str  # the larger of two values
    is_distinct: str
    version: str  # this change's version, inside a trigger
    new_versions: str  # one new version per row of a SELECT (rebuild)
    setup: tuple[str, ...]


POSTGRESQL = Dialect(
    day="(({0} AT TIME ZONE 'UTC')::date)", least="LEAST", greatest="GREATEST", is_distinct="IS DISTINCT FROM",
    version="v",
    new_versions=f"nextval('{VERSIONS}')", setup=(f"CREATE SEQUENCE IF NOT EXISTS {VERSIONS}",))
SQLITE = Dialect(
    day="date({0})", least="MIN", greatest="MAX", is_distinct="IS NOT", version=f"(SELECT value FROM {VERSIONS})",
    new_versions=f"(SELECT value FROM {VERSIONS}) + ROW_NUMBER() OVER ()",
    setup=(f"CREATE TABLE IF NOT EXISTS {VERSIONS} (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)",
           f"INSERT OR IGNORE INTO {VERSIONS} (id, value) VALUES (1, 0)"))
SQLITE_NEXT_VERSION = f"UPDATE {VERSIONS} SET value = value + 1"


def dialect(connection) -> Dialect:
    if connection.vendor == "postgresql":
        return POSTGRESQL
    if connection.vendor == "sqlite":
        return SQLITE
    raise NotImplementedError(f"The dashboard rollup supports PostgreSQL and SQLite, not {connection.vendor}.")


def counted(row: str) -> str:
    """Whether a row of chat_message counts on the dashboard: an assistant reply that has ended, and
    that webox generated (an imported one is history, not usage)."""
    return f"({row}.role = 'assistant' AND {row}.status IN ('complete', 'error', 'cancelled') AND NOT {row}.imported)"


def _key(row: str, d: Dialect) -> list[str]:
    return [d.day.format(f"{row}.created_at"), f"{row}.provider", f"{row}.model", f"{row}.cost_currency",
            f"CASE WHEN {row}.status = 'error' THEN {row}.error_code ELSE '' END"]


def _figures(row: str, sign: int, d: Dialect) -> list[str]:
    """One reply's figures, times ``sign``, in FIGURES order, each bounded (SQLite's columns hold any
    integer, and nothing but the import keeps a cost from being negative): between 0 and TOKENS_MAX
    for token counts, COST_UNITS_MAX for the cost."""
    def when(condition: str) -> str:
        return f"CASE WHEN {condition} THEN {sign} ELSE 0 END"

    def bounded(value: str, ceiling: int) -> str:
        return f"{sign} * {d.least}({d.greatest}({value}, 0), {ceiling})"

    return [str(sign), when(f"{row}.status = 'error'"), when(f"{row}.status = 'cancelled'"),
            when(f"{row}.usage_estimated"), when(f"{row}.cost IS NOT NULL"),
            bounded(f"COALESCE({row}.prompt_tokens, 0)", TOKENS_MAX),
            bounded(f"COALESCE({row}.completion_tokens, 0)", TOKENS_MAX),
            bounded(f"CAST(COALESCE(round({row}.cost * 100000000), 0) AS BIGINT)", COST_UNITS_MAX)]


def _saturating(table: str, figure: str, sign: int) -> str:
    """``figure`` of ``table``'s row plus the proposed one, held between 0 and its column's maximum.
    Each comparison is written so that it cannot overflow itself (the added value is at most
    COST_UNITS_MAX either way); the addition is made only when it fits."""
    stored, added, ceiling = f"{table}.{figure}", f"excluded.{figure}", CEILING[figure]
    if sign > 0:
        return f"CASE WHEN {stored} > {ceiling} - {added} THEN {ceiling} ELSE {stored} + {added} END"
    return f"CASE WHEN {stored} < -{added} THEN 0 ELSE {stored} + {added} END"


def _owner(row: str) -> str:
    return f"(SELECT owner_id FROM chat_conversation WHERE id = {row}.conversation_id)"


def _add(table: str, row: str, sign: int, d: Dialect, only_if: str) -> str:
    """Upsert: add one reply's figures (``sign`` -1 subtracts them) to its rollup row, if ``only_if``."""
    values = [*_key(row, d), *_figures(row, sign, d), d.version]
    if table == USER:
        columns = ["owner_id", *KEY, *FIGURES, "version"]
        select = (f"SELECT c.owner_id, {', '.join(values)} FROM chat_conversation c "
                  f"WHERE c.id = {row}.conversation_id AND {only_if}")
        conflict = ["owner_id", *KEY]
    else:
        columns = [*KEY, *FIGURES, "version"]
        select = f"SELECT {', '.join(values)} WHERE {only_if}"  # SQLite needs a WHERE before ON CONFLICT anyway
        conflict = KEY
    updates = ", ".join([*(f"{f} = {_saturating(table, f, sign)}" for f in FIGURES), "version = excluded.version"])
    return (f"INSERT INTO {table} ({', '.join(columns)}) {select} "
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {updates}")


def _drop_empty(table: str, row: str, d: Dialect, only_if: str) -> str:
    match = " AND ".join(f"{column} = {value}" for column, value in zip(KEY, _key(row, d), strict=True))
    owner = f" AND owner_id = {_owner(row)}" if table == USER else ""
    return f"DELETE FROM {table} WHERE {only_if} AND {match}{owner} AND replies <= 0"


def _subtract(row: str, d: Dialect, only_if: str = "1 = 1") -> list[str]:
    """Take one reply out: the site's row first, then the user's (always that order: no deadlock)."""
    return [_add(SITE, row, -1, d, only_if), _drop_empty(SITE, row, d, only_if),
            _add(USER, row, -1, d, only_if), _drop_empty(USER, row, d, only_if)]


def _plus(row: str, d: Dialect, only_if: str = "1 = 1") -> list[str]:
    return [_add(SITE, row, 1, d, only_if), _add(USER, row, 1, d, only_if)]


def _changed(d: Dialect) -> str:
    return " OR ".join(f"OLD.{column} {d.is_distinct} NEW.{column}" for column in WATCHED)


def trigger_sql(connection) -> list[str]:
    """The statements that (re)create the triggers, idempotent."""
    d = dialect(connection)
    when = {"insert": counted("NEW"), "delete": counted("OLD"),
            "update": f"({counted('OLD')} OR {counted('NEW')}) AND ({_changed(d)})"}
    drops = [f"DROP TRIGGER IF EXISTS {name}{' ON chat_message' if d is POSTGRESQL else ''}"
             for name in TRIGGERS.values()]
    if d is POSTGRESQL:
        function = (
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
            f"DECLARE v bigint := nextval('{VERSIONS}');\n"
            "BEGIN\n"
            # Nested: OLD is null in an INSERT trigger, NEW in a DELETE one.
            f"  IF TG_OP <> 'INSERT' THEN IF {counted('OLD')} THEN\n"
            + "".join(f"    {s};\n" for s in _subtract("OLD", d))
            + "  END IF; END IF;\n"
            f"  IF TG_OP <> 'DELETE' THEN IF {counted('NEW')} THEN\n"
            + "".join(f"    {s};\n" for s in _plus("NEW", d))
            + "  END IF; END IF;\n  RETURN NULL;\nEND\n$body$"
        )
        creates = [f"CREATE TRIGGER {name} AFTER {op.upper()} ON chat_message FOR EACH ROW WHEN ({when[op]}) "
                   f"EXECUTE FUNCTION {PG_FUNCTION}()" for op, name in TRIGGERS.items()]
        return [*d.setup, function, *drops, *creates]
    bodies = {
        "insert": [SQLITE_NEXT_VERSION, *_plus("NEW", d)],
        "delete": [SQLITE_NEXT_VERSION, *_subtract("OLD", d)],
        # A trigger body has no IF: each statement says whether it applies.
        "update": [SQLITE_NEXT_VERSION, *_subtract("OLD", d, counted("OLD")), *_plus("NEW", d, counted("NEW"))],
    }
    creates = [f"CREATE TRIGGER {name} AFTER {op.upper()} ON chat_message WHEN {when[op]} BEGIN "
               + " ".join(f"{s};" for s in bodies[op]) + " END" for op, name in TRIGGERS.items()]
    return [*d.setup, *drops, *creates]


def triggers_present(connection=default_connection) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'chat_message'::regclass "
                           "AND NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'chat_message'")
        names = {row[0] for row in cursor.fetchall()}
    return set(TRIGGERS.values()) <= names


def _sum(figure: str, expression: str, d: Dialect) -> str:
    """The sum of one figure over a group, held at its column's maximum as the triggers hold it.

    PostgreSQL adds bigints as numeric, which cannot overflow. SQLite's SUM fails on an integer
    overflow, so a cost (up to COST_UNITS_MAX a reply) is added as whole units and the rest apart,
    neither of which can overflow before a group holds 2**31 replies (the replies column's own
    bound), then put together only if it fits; token counts (up to TOKENS_MAX) are added whole."""
    ceiling = CEILING[figure]
    if d is POSTGRESQL:
        return f"LEAST(SUM({expression}), {ceiling})"
    if figure != "cost_units":
        return f"MIN(SUM({expression}), {ceiling})"
    high, low = f"SUM(({expression}) / 100000000)", f"SUM(({expression}) % 100000000)"
    return f"CASE WHEN {high} > ({ceiling} - {low}) / 100000000 THEN {ceiling} ELSE {high} * 100000000 + {low} END"


def _grouped(table: str, d: Dialect) -> str:
    """The rollup rows of ``table`` computed from the replies themselves (without version)."""
    sums = ", ".join(_sum(figure, expression, d)
                     for figure, expression in zip(FIGURES, _figures("m", 1, d), strict=True))
    key = ", ".join(_key("m", d))
    if table == USER:
        return (f"SELECT c.owner_id, {key}, {sums} FROM chat_message m "
                f"JOIN chat_conversation c ON c.id = m.conversation_id WHERE {counted('m')} "
                f"GROUP BY {', '.join(str(i) for i in range(1, len(KEY) + 2))}")
    return (f"SELECT {key}, {sums} FROM chat_message m WHERE {counted('m')} "
            f"GROUP BY {', '.join(str(i) for i in range(1, len(KEY) + 1))}")


def _columns(table: str) -> list[str]:
    return ["owner_id", *KEY, *FIGURES] if table == USER else [*KEY, *FIGURES]


def rollup_rebuild(connection=default_connection) -> None:
    """Recompute both rollup tables from the replies, in one transaction."""
    d = dialect(connection)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for statement in d.setup:
            cursor.execute(statement)
        for table in (SITE, USER):
            columns = _columns(table)
            cursor.execute(f"DELETE FROM {table}")
            # New versions, above every earlier one: no fingerprint of before the rebuild can come back.
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}, version) "
                           f"SELECT g.*, {d.new_versions} FROM ({_grouped(table, d)}) g")
            if d is SQLITE:
                cursor.execute(f"UPDATE {VERSIONS} SET value = value + (SELECT count(*) FROM {table})")


def ensure_rollup(connection=default_connection) -> bool:
    """Create the triggers (and the timings index) if missing; rebuild the rollup when the triggers
    were missing, since changes made meanwhile were not counted. Returns whether it rebuilt."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [PG_TIMINGS_INDEX])
            if cursor.fetchone()[0] is None:
                cursor.execute(PG_TIMINGS_INDEX_SQL)
    if triggers_present(connection):
        return False
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            for statement in trigger_sql(connection):
                cursor.execute(statement)
        rollup_rebuild(connection)
    return True


def drop_rollup(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        for statement in trigger_sql(connection):
            if statement.startswith("DROP TRIGGER"):
                cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
            cursor.execute(f"DROP INDEX IF EXISTS {PG_TIMINGS_INDEX}")
            cursor.execute(f"DROP SEQUENCE IF EXISTS {VERSIONS}")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS {VERSIONS}")


def rollup_differences(connection=default_connection) -> list[str]:
    """How the rollup differs from the replies' own figures (empty when it is exact)."""
    d = dialect(connection)
    problems = []
    for table in (SITE, USER):
        width = len(_columns(table)) - len(FIGURES)
        with connection.cursor() as cursor:
            cursor.execute(_grouped(table, d))
            expected = _by_key(cursor.fetchall(), width)
            cursor.execute(f"SELECT {', '.join(_columns(table))} FROM {table}")
            stored = _by_key(cursor.fetchall(), width)
        for key in sorted(set(expected) | set(stored), key=repr):
            if expected.get(key) != stored.get(key):
                problems.append(f"{table} {key}: stored {stored.get(key)}, replies say {expected.get(key)}")
    return problems


def _by_key(rows, width: int) -> dict[tuple, tuple[int, ...]]:
    # Keys as text: SQLite gives the computed day as text and the stored one as a date.
    return {tuple(str(v) for v in row[:width]): tuple(int(v) for v in row[width:]) for row in rows}
