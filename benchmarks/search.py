"""Scenario 5: full-text search over 100k messages of one user (PostgreSQL, GIN index).

Measures what ``GET /api/chat/search`` does for one page: the count, the first 20 matches newest
first, and their snippets. Several kinds of query: a rare word, a common one, two words, a short
prefix. The target is under 100 ms p50 for each.

Then what the search column costs the streaming checkpoint (one UPDATE a second of every streaming
reply), on the same table: as it is (NULL while a reply streams), computed at every checkpoint (as
before migration 0006), and without the column at all. The column is put back at the end.
"""

from __future__ import annotations

import random
import time
import uuid

from testing.figures import median, percentile, print_table

from .common import create_streaming_replies, timed

PAGE = 20
# The search column as migrated, and as before migration 0006.
NOW = "NULL while streaming (now)"
BEFORE = "computed at every checkpoint (before)"


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)]


def _zipf(words: list[str]) -> list[float]:
    """Cumulative weights of Zipf-like word frequencies: a few words are everywhere, most are rare."""
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    return cumulative


def _fill(users: list, shares: list[int], *, rng: random.Random, words: list[str]) -> None:
    """Conversations of 100 messages, the users' interleaved in time as on a shared server."""
    from chat.models import Conversation, Message, Role

    per_conversation = 100
    cumulative = _zipf(words)
    owners = [user for user, share in zip(users, shares, strict=True) for _ in range(share // per_conversation)]
    rng.shuffle(owners)
    batch = []
    for owner in owners:
        conversation = Conversation.objects.create(owner=owner, title="bench")
        for i in range(per_conversation):
            text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(20, 120)))
            role = Role.USER if i % 2 == 0 else Role.ASSISTANT
            batch.append(Message(conversation=conversation, role=role, content=text,
                                 provider="" if role == Role.USER else "bench"))
        if len(batch) >= 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)


def _page(user, query: str) -> int:
    from chat import search

    matches = search.message_search_for_user(user=user, query=query)
    for message in matches[:PAGE]:
        search.snippet(message.content, query)
    return len(matches)


def _set_search_column(variant: str) -> None:
    """The column as migrated (NOW), as before migration 0006 (BEFORE), or none at all."""
    from django.db import connection

    from chat import search

    if variant != NOW:
        search.drop_search_index(connection)
    if variant == BEFORE:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE chat_message ADD COLUMN {search.PG_COLUMN} tsvector GENERATED ALWAYS AS "
                           f"({search.PG_VECTOR}) STORED")
            cursor.execute(f"CREATE INDEX {search.PG_INDEX} ON chat_message USING gin ({search.PG_COLUMN})")
    if variant == NOW:
        search.ensure_search_index(connection)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE chat_message")


def _checkpoints(*, replies: int, rounds: int, rng: random.Random, words: list[str]) -> list[float]:
    """Wall ms of each ``replies_checkpoint`` of ``replies`` streaming replies, each 40 words longer every time."""
    from chat.models import Message
    from chat.services import replies_checkpoint

    cumulative = _zipf(words)
    ids = [reply for _, conversation_replies in create_streaming_replies(replies, 1) for reply in conversation_replies]
    texts = dict.fromkeys(ids, "")
    samples = []
    for seq in range(1, rounds + 1):
        for reply in ids:
            texts[reply] += " ".join(rng.choices(words, cum_weights=cumulative, k=40)) + " "
        began = time.perf_counter()
        replies_checkpoint(checkpoints=[(reply, texts[reply], seq) for reply in ids])
        samples.append((time.perf_counter() - began) * 1000)
    Message.objects.filter(pk__in=ids).delete()
    return samples


def main(*, database_url: str, quick: bool) -> None:
    from django.db import connection

    from accounts.models import User
    from chat import search

    total = 20_000 if quick else 100_000
    repeat = 20 if quick else 50
    rng = random.Random(13)
    words = _vocabulary(rng, 5000)
    users = []
    shares = [total, total // 5]  # the one searching, and someone else whose messages must not count
    for _ in shares:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        users.append(User.objects.create_user(username=name, email=f"{name}@bench.invalid",
                                              password=uuid.uuid4().hex))
    _fill(users, shares, rng=rng, words=words)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = users[0]
    queries = {
        "rare word": words[4000],
        "common word": words[0],
        "two words": f"{words[10]} {words[200]}",
        "prefix of 3 letters": words[50][:3],
        "no match": "zzzzqqqq",
    }
    rows = []
    for label, query in queries.items():
        matches = _page(user, query)
        samples = timed(lambda query=query: _page(user, query), repeat)
        rows.append([label, matches, median(samples), percentile(samples, 95)])
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from chat.models import Message

    probe = Message.objects.filter(RawSQL(f"{search.PG_COLUMN} @@ to_tsquery('simple', %s)", [f"'{words[4000]}':*"],
                                          output_field=BooleanField()))
    plan = str(probe.order_by("-created_at", "-id").values_list("pk", flat=True)[:search.MAX_COUNT].explain())
    print(f"\n## 5. Search ({total:,} messages of one user plus {total // 5:,} of another, "
          f"PostgreSQL, {repeat} calls each: count + first {PAGE} + snippets)")
    print_table("Search", ["query", "matches", "p50 ms", "p95 ms"], rows)
    print(f"\nGIN index {search.PG_INDEX} used for a rare word: {'yes' if search.PG_INDEX in plan else 'NO'}.")

    replies, rounds = (50, 10) if quick else (200, 30)
    rows = []
    for variant in (NOW, "no search column", BEFORE):
        _set_search_column(variant)
        samples = _checkpoints(replies=replies, rounds=rounds, rng=rng, words=words)
        rows.append([variant, median(samples), percentile(samples, 95), max(samples)])
    _set_search_column(NOW)
    print_table(f"Checkpoint: one UPDATE of {replies} streaming replies, each 40 words longer, {rounds} times",
                ["search_vector", "p50 ms", "p95 ms", "max ms"], rows)
