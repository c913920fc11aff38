"""Scenario ``reads``: the conversation list and a conversation's detail with 10k conversations, 100k messages.

One user owns every conversation (the worst case for their list), ten messages each, their activity
spread over a year. Each request goes through the whole Django and DRF stack in this process
(authentication forced, so the password hasher is not measured) against PostgreSQL on loopback.
"""

from __future__ import annotations

import time
import uuid

from testing.figures import median, percentile, print_table

from .common import timed


def seed(conversations: int, per_conversation: int):
    from django.db import connection

    from accounts.models import User
    from chat.models import Conversation, Message, ReplyStatus, Role

    name = f"reads-{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(username=name, email=f"{name}@bench.invalid", password=uuid.uuid4().hex)
    batch = 2000
    for start in range(0, conversations, batch):
        convs = Conversation.objects.bulk_create(
            Conversation(owner=user, title=f"conversation {i} about topic {i % 97}")
            for i in range(start, min(conversations, start + batch))
        )
        messages = []
        for conversation in convs:
            for j in range(per_conversation):
                if j % 2 == 0:
                    messages.append(Message(conversation=conversation, role=Role.USER,
                                            content=f"question {j} " + "lorem ipsum " * 20))
                else:
                    messages.append(Message(conversation=conversation, role=Role.ASSISTANT, provider="demo",
                                            model="demo-echo", status=ReplyStatus.COMPLETE,
                                            content=f"**answer** {j} " + "dolor sit amet " * 40))
        Message.objects.bulk_create(messages, batch_size=5000)
    with connection.cursor() as cursor:
        # Activity spread over a year, so the list's order is not the insertion order.
        cursor.execute("UPDATE chat_conversation SET updated_at = now()"
                       " - (((id * 7919) %% 31536000) * interval '1 second') WHERE owner_id = %s", [user.pk])
        # As autovacuum would leave them: without it the index scans wade through 10k dead rows.
        cursor.execute("VACUUM ANALYZE chat_conversation")
        cursor.execute("VACUUM ANALYZE chat_message")
    return user, Conversation.objects.filter(owner=user).order_by("-updated_at").first()


def main(*, database_url: str, quick: bool) -> None:
    from django.db import connection
    from rest_framework.test import APIClient

    conversations, per_conversation = (2_000, 10) if quick else (10_000, 10)
    repeat = 50 if quick else 300
    user, recent = seed(conversations, per_conversation)
    client = APIClient(HTTP_HOST="localhost")
    client.force_authenticate(user)
    paths = [
        ("GET /api/chat/conversations (first page of 30)", "/api/chat/conversations"),
        ("GET /api/chat/conversations?page=100", "/api/chat/conversations?page=100"),
        ("GET /api/chat/conversations?q=topic 42", "/api/chat/conversations?q=topic%2042"),
        (f"GET /api/chat/conversations/{{id}} ({per_conversation} messages)", f"/api/chat/conversations/{recent.pk}"),
    ]
    rows = []
    for label, path in paths:
        response = client.get(path)  # warm: the first request imports and plans
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        queries: list[str] = []

        def count(execute, sql, *args, queries=queries):
            queries.append(sql)
            return execute(sql, *args)

        # A wrapper, not connection.queries: each request starts by resetting that log.
        with connection.execute_wrapper(count):
            client.get(path)
        cpu_before = time.process_time()
        samples = timed(lambda path=path: client.get(path), repeat)
        cpu_ms = (time.process_time() - cpu_before) / repeat * 1000
        rows.append([label, len(queries), median(samples), percentile(samples, 95), percentile(samples, 99), cpu_ms])
    print(f"\n## Reads with {conversations:,} conversations and {conversations * per_conversation:,} messages "
          f"({repeat} requests each, one user owns them all, in-process Django + DRF, PostgreSQL on loopback)")
    # CPU ms: this process's CPU time per request (Django + DRF + the driver), which waiting for a
    # busy machine's cores does not inflate; PostgreSQL's own time is in the wall times only.
    print_table("Conversation list and detail", ["request", "queries", "p50 ms", "p95 ms", "p99 ms", "CPU ms"], rows)
