"""Full-text search over the text of one's messages and replies.

Three ways, one result (docs/architecture.md, "Search"):
- PostgreSQL: the stored column ``search_vector`` (``to_tsvector('simple', content)``, set by the
  trigger ``chat_message_search_vector`` when the content or status is written) matched by a
  prefix ``tsquery``, served by its GIN index ``msg_content_fts``; stored rather than an index on
  the expression, so that a word found in most messages costs no recomputation of every vector.
  It is NULL while a reply streams: the checkpoint that rewrites every streaming reply once a
  second would otherwise recompute and re-index each one's vector (docs/performance.md); those
  few replies are matched on the fly;
- SQLite: the FTS5 table ``chat_message_fts``, an external-content index of ``chat_message``
  kept up to date by triggers;
- anything else, or a SQLite built without FTS5: every word as an ``icontains`` filter.
Each query word matches words starting with it; all words must match. Both indexes are created
by migration 0004 (outside the model state: neither index kind exists on the other database) and
recreated by ``ensure_search_index`` after every ``migrate``, since rebuilding a SQLite table in a
later migration drops its triggers; on PostgreSQL it also turns the generated column of before
migration 0006 into the plain one, in place.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection as default_connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from .models import Message, ReplyStatus
from .rendering import markdown_to_plain

MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 160
WORD = re.compile(r"[^\W_]+")

PG_INDEX = "msg_content_fts"
PG_COLUMN = "search_vector"
PG_VECTOR_OF = "to_tsvector('simple'::regconfig, COALESCE({text}, ''::text))"
PG_VECTOR = PG_VECTOR_OF.format(text="content")
PG_TRIGGER = "chat_message_search_vector"  # and its function
STREAMING = ReplyStatus.STREAMING.value
PG_TRIGGER_SQL = [
    f"""CREATE OR REPLACE FUNCTION {PG_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.content IS NOT DISTINCT FROM OLD.content
                AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
            RETURN NEW;
        END IF;
        NEW.{PG_COLUMN} := CASE WHEN NEW.status = '{STREAMING}' THEN NULL
                                ELSE {PG_VECTOR_OF.format(text="NEW.content")} END;
        RETURN NEW;
    END $$""",
    f"CREATE OR REPLACE TRIGGER {PG_TRIGGER} BEFORE INSERT OR UPDATE OF content, status ON chat_message "
    f"FOR EACH ROW EXECUTE FUNCTION {PG_TRIGGER}()",
]
# Counting every match of a word found in most messages would cost a scan of them all: the
# search stops at MAX_COUNT matches, so the count and every page come from its one list of ids.
MAX_COUNT = 1000
FTS_TABLE = "chat_message_fts"
SQLITE_FTS_SQL = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(content, content='chat_message', "
    "content_rowid='id')",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON chat_message BEGIN
        INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON chat_message BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) VALUES ('delete', old.id, old.content); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF content ON chat_message BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, content) VALUES ('delete', old.id, old.content);
        INSERT INTO {FTS_TABLE}(rowid, content) VALUES (new.id, new.content); END""",
]
SQLITE_TRIGGERS = {f"{FTS_TABLE}_ai", f"{FTS_TABLE}_ad", f"{FTS_TABLE}_au"}


def _sqlite_fts_ready(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [f"{FTS_TABLE}%"])
        names = {row[0] for row in cursor.fetchall()}
    return FTS_TABLE in names and SQLITE_TRIGGERS <= names


def _ensure_postgresql_search_column(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_generated FROM information_schema.columns "
                       "WHERE table_name = 'chat_message' AND column_name = %s", [PG_COLUMN])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"ALTER TABLE chat_message ADD COLUMN {PG_COLUMN} tsvector")
        elif row[0] == "ALWAYS":
            # Migration 0006: the generated column of 0004 becomes a plain one, its vectors kept
            # (no rewrite of the table); only those of replies streaming now are wrong, NULL below.
            cursor.execute(f"ALTER TABLE chat_message ALTER COLUMN {PG_COLUMN} DROP EXPRESSION")
        for statement in PG_TRIGGER_SQL:
            cursor.execute(statement)
        if row is None:
            cursor.execute(f"UPDATE chat_message SET {PG_COLUMN} = {PG_VECTOR} WHERE status <> %s", [STREAMING])
        elif row[0] == "ALWAYS":
            cursor.execute(f"UPDATE chat_message SET {PG_COLUMN} = NULL WHERE status = %s", [STREAMING])
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON chat_message USING gin ({PG_COLUMN})")


def ensure_search_index(connection=default_connection) -> None:
    """Create the search index of this database if it is missing (idempotent, cheap when present)."""
    if connection.vendor == "postgresql":
        _ensure_postgresql_search_column(connection)
    elif connection.vendor == "sqlite":
        if _sqlite_fts_ready(connection):
            return
        try:
            with connection.cursor() as cursor:
                for statement in SQLITE_FTS_SQL:
                    cursor.execute(statement)
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        except Exception as exc:  # a SQLite built without FTS5: search falls back to icontains
            if "fts5" not in str(exc).lower():
                raise


def drop_search_index(connection=default_connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON chat_message")
            cursor.execute(f"DROP FUNCTION IF EXISTS {PG_TRIGGER}()")
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
            cursor.execute(f"ALTER TABLE chat_message DROP COLUMN IF EXISTS {PG_COLUMN}")
        elif connection.vendor == "sqlite":
            for trigger in sorted(SQLITE_TRIGGERS):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def query_words(query: str) -> list[str]:
    return list(dict.fromkeys(word.lower() for word in WORD.findall(query[:MAX_QUERY_CHARS])))


def search_backend(connection=default_connection) -> str:
    if connection.vendor == "postgresql":
        return "postgresql"
    if connection.vendor == "sqlite" and _sqlite_fts_ready(connection):
        return "sqlite-fts5"
    return "icontains"


@dataclass(frozen=True)
class Matches:
    """The first MAX_COUNT matching messages, newest first: all their ids, their rows a slice at a time.

    Sized and sliceable, so Django's Paginator counts it with ``len()`` (no query) and a page of
    it costs one query, however many messages match.
    """

    ids: list[int]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, part: slice) -> list[Message]:
        ids = self.ids[part]
        found = Message.objects.select_related("conversation").order_by().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]  # one deleted meanwhile is left out

    def __iter__(self) -> Iterator[Message]:
        return iter(self[:])


def message_search_for_user(*, user, query: str) -> Matches:
    """One's own messages (archived conversations too) whose text matches, newest first, up to MAX_COUNT."""
    query = query.strip()[:MAX_QUERY_CHARS]
    messages = Message.objects.filter(conversation__owner=user).exclude(content="")
    words = query_words(query)
    backend = search_backend() if words else "icontains"
    newest_first = ("-created_at", "-id")
    if backend == "postgresql":
        tsquery = " & ".join(f"'{word}':*" for word in words)
        indexed = messages.filter(RawSQL(f'"chat_message"."{PG_COLUMN}" @@ to_tsquery(\'simple\', %s)', [tsquery],
                                         output_field=BooleanField()))
        streaming = messages.filter(status=STREAMING).filter(RawSQL(
            "to_tsvector('simple', \"chat_message\".\"content\") @@ to_tsquery('simple', %s)", [tsquery],
            output_field=BooleanField()))
        # With LIMIT MAX_COUNT the planner takes the GIN index for a rare word (and sorts those
        # few) and walks msg_created_desc newest first for a common one (which finds them soon).
        # Streaming replies have no vector (NULL): their own arm, a handful of rows by status.
        # Sorted in the database and only ids sent back: 1 000 datetimes would cost more to read.
        fields = ("pk", "created_at")
        indexed_sql, indexed_params = (
            indexed.order_by(*newest_first).values_list(*fields)[:MAX_COUNT].query.sql_with_params())
        streaming_sql, streaming_params = streaming.order_by().values_list(*fields).query.sql_with_params()
        with default_connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM (({indexed_sql}) UNION ALL ({streaming_sql})) AS matched (id, created_at) "
                           f"ORDER BY created_at DESC, id DESC LIMIT {MAX_COUNT}", [*indexed_params, *streaming_params])
            return Matches([pk for (pk,) in cursor.fetchall()])
    if backend == "sqlite-fts5":
        match = " ".join(f'"{word}"*' for word in words)
        messages = messages.filter(
            pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [match]))
    elif words:
        for word in words:
            messages = messages.filter(content__icontains=word)
    else:
        messages = messages.filter(content__icontains=query)
    return Matches(list(messages.order_by(*newest_first).values_list("pk", flat=True)[:MAX_COUNT]))


def snippet(text: str, query: str) -> str:
    """About SNIPPET_CHARS of plain text around the first match, HTML-escaped, matches in ``<mark>``.

    Bounded work however long the message: only a window of the source around the match is
    turned from Markdown into plain text.
    """
    words = query_words(query)
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or re.escape(query.strip())
    pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*" if words else alternatives, re.IGNORECASE)
    found = pattern.search(text)
    start = found.start() if found else 0
    window = markdown_to_plain(text[max(0, start - 2 * SNIPPET_CHARS): start + 3 * SNIPPET_CHARS])
    found = pattern.search(window)
    centre = found.start() if found else 0
    begin = max(0, centre - SNIPPET_CHARS // 3)
    if begin:
        space = window.find(" ", begin)
        begin = space + 1 if 0 <= space < centre else begin
    end = min(len(window), begin + SNIPPET_CHARS)
    if end < len(window):
        space = window.rfind(" ", begin, end)
        end = space if space > centre else end
    part = window[begin:end]
    pieces, last = [], 0
    for match in pattern.finditer(part):
        pieces += [html.escape(part[last:match.start()]), f"<mark>{html.escape(match.group())}</mark>"]
        last = match.end()
    pieces.append(html.escape(part[last:]))
    prefix = "…" if begin > 0 or start > 2 * SNIPPET_CHARS else ""
    suffix = "…" if end < len(window) else ""
    return prefix + "".join(pieces) + suffix
