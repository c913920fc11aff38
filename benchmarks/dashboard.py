"""Scenario: the dashboard over 100k replies (50 users, 10 models, 90 days), every view and endpoint.

Seeds replies straight into the database (bulk inserts, with the usage and cost a real reply
stores; the rollup's triggers count them as they would count real ones), then times each page,
CSV download and API endpoint through Django's test client for one user and for the staff
site-wide view, over the full 90 days, twice: with the same replies call after call (cached
percentiles and charts are reused), and with one more reply ended before each call (the
percentiles of the period and the charts are computed again, as on a busy site). Target: p50
under 300 ms on PostgreSQL, with a fixed number of queries.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

from testing.figures import median, percentile, print_table

from .common import timed

USERS, MODELS, DAYS = 50, 10, 90
TARGET_MS = 300.0


def seed(replies: int) -> tuple[object, object]:
    """``replies`` ended replies spread over users, models and days; returns (a user, a staff user)."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from chat.models import Conversation, Message, ReplyStatus, Role

    rng = random.Random(11)
    tag = uuid.uuid4().hex[:6]
    users = [User.objects.create_user(username=f"dash-{tag}-{i}", email=f"dash-{tag}-{i}@bench.invalid",
                                      password=uuid.uuid4().hex) for i in range(USERS)]
    staff = User.objects.create_user(username=f"dash-{tag}-staff", email=f"dash-{tag}-staff@bench.invalid",
                                     password=uuid.uuid4().hex, is_staff=True)
    conversations = Conversation.objects.bulk_create(Conversation(owner=u, title="bench") for u in users
                                                     for _ in range(20))
    models = [(f"provider{i % 4}", f"model-{i}") for i in range(MODELS)]
    now = timezone.now()
    batch = []
    statuses = [ReplyStatus.COMPLETE] * 90 + [ReplyStatus.ERROR] * 6 + [ReplyStatus.CANCELLED] * 4
    for n in range(replies):
        provider, model = models[n % MODELS]
        status = rng.choice(statuses)
        ttft = rng.randint(80, 3000) if status != ReplyStatus.ERROR or rng.random() < 0.5 else None
        duration = (ttft or 0) + rng.randint(200, 20000)
        prompt, completion = rng.randint(20, 4000), rng.randint(0, 2000)
        priced = n % MODELS != 9  # one model has no known price
        batch.append(Message(
            conversation=conversations[n % len(conversations)], role=Role.ASSISTANT, provider=provider, model=model,
            status=status, error_code="timeout" if status == ReplyStatus.ERROR else "", ttft_ms=ttft,
            duration_ms=duration, prompt_tokens=prompt, completion_tokens=completion,
            usage_estimated=status != ReplyStatus.COMPLETE,
            cost=(Decimal(prompt * 3 + completion * 15) / 1_000_000) if priced else None,
            cost_currency="USD" if priced else "",
            tokens_per_second=completion / ((duration - (ttft or 0)) / 1000) if completion and ttft else None,
        ))
        if len(batch) == 5000:
            _insert(batch, now, rng)
    _insert(batch, now, rng)
    with connection.cursor() as cursor:
        # As autovacuum soon would after so many writes: index-only scans need the visibility map.
        cursor.execute("VACUUM ANALYZE")
    return users[0], staff


def _insert(batch, now, rng) -> None:
    from chat.models import Message

    created = Message.objects.bulk_create(batch)
    # auto_now_add ignores a given value: spread the replies over the 90 days afterwards, in one UPDATE.
    from django.db import connection

    ids = [m.pk for m in created]
    offsets = [rng.uniform(0, DAYS * 86400) for _ in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE chat_message SET created_at = %s - make_interval(secs => v.o), completed_at = %s "
            "FROM unnest(%s::bigint[], %s::float8[]) AS v(id, o) WHERE chat_message.id = v.id",
            [now, now, ids, offsets],
        )
    batch.clear()


def end_one_reply(owner) -> None:
    """A reply of ``owner`` ends now: today's figures change, so do the period's percentiles."""
    from chat.models import Conversation, Message, ReplyStatus, Role

    conversation = Conversation.objects.filter(owner=owner).first()
    Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="provider0", model="model-0",
                           status=ReplyStatus.COMPLETE, ttft_ms=500, duration_ms=2500, prompt_tokens=100,
                           completion_tokens=200, cost=Decimal("0.0033"), cost_currency="USD",
                           tokens_per_second=100.0)


def main(*, database_url: str, quick: bool) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    replies = 100_000
    repeat = 5 if quick else 15
    user, staff = seed(replies)
    requests = [
        ("user", "/dashboard/", {"days": 90}), ("user", "/api/dashboard/summary", {"days": 90}),
        ("user", "/api/dashboard/models", {"days": 90}), ("user", "/api/dashboard/daily", {"days": 90}),
        ("staff", "/dashboard/", {"days": 90, "scope": "site"}),
        ("staff", "/dashboard/", {"days": 30, "scope": "site", "provider": "provider1"}),
        ("staff", "/dashboard/models.csv", {"days": 90, "scope": "site"}),
        ("staff", "/dashboard/daily.csv", {"days": 90, "scope": "site"}),
        ("staff", "/api/dashboard/summary", {"days": 90, "scope": "site"}),
        ("staff", "/api/dashboard/models", {"days": 90, "scope": "site"}),
        ("staff", "/api/dashboard/daily", {"days": 90, "scope": "site"}),
        ("staff", "/api/dashboard/users", {"days": 90}),
    ]
    clients = {"user": Client(), "staff": Client()}
    clients["user"].force_login(user)
    clients["staff"].force_login(staff)
    rows, slow = [], []
    for who, path, params in requests:
        client = clients[who]

        def call(client=client, path=path, params=params):
            response = client.get(path, params)
            assert response.status_code == 200, (path, response.status_code)

        call()  # warm: templates, connections
        statements: list[str] = []

        def count(execute, sql, *args, statements=statements):
            statements.append(sql)
            return execute(sql, *args)

        end_one_reply(user)
        with connection.execute_wrapper(count):
            call()  # the most queries: nothing cached for these replies
        same = timed(call, repeat)
        changed = []
        for _ in range(repeat):
            end_one_reply(user)
            changed += timed(call, 1)
        query = "&".join(f"{k}={v}" for k, v in params.items())
        rows.append([f"{who}: {path}?{query}", len(statements), median(same), percentile(same, 95),
                     median(changed), percentile(changed, 95)])
        if max(median(same), median(changed)) >= TARGET_MS:
            slow.append(path)
    print(f"\n## Dashboard over {replies:,} replies ({USERS} users, {MODELS} models, {DAYS} days; "
          f"{repeat} calls each, PostgreSQL on loopback; queries include the session and user lookups)")
    print_table("Dashboard views and endpoints", ["request", "queries", "p50 ms", "p95 ms",
                                                  "p50 ms, a reply ended before each call", "p95 ms, idem"], rows)
    print(f"Target p50 < {TARGET_MS:.0f} ms: {'met' if not slow else 'missed by ' + ', '.join(slow)}.")
