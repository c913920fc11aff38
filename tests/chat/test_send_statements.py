"""What a send costs the database: its statements, not its columns, set the round trips."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import events
from chat.models import Message, ReplyStatus
from chat.providers import provider_configs
from chat.services import conversation_create, message_send
from chat.services.inputs import Column, SendInput

pytestmark = pytest.mark.django_db


def test_a_send_stores_every_columns_reply_in_one_insert(user):
    columns = [Column(provider="demo", model=f"demo-{n}", parameters={}, key=f"demo#{n + 1}") for n in range(3)]

    with CaptureQueriesContext(connection) as queries:
        result = message_send(user=user, conversation=None, send=SendInput(message="hello", columns=columns))

    message_inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "chat_message"')]
    assert len(message_inserts) == 2  # the user's message, then the three replies at once
    stored = Message.objects.filter(reply_to=result.user_message).order_by("pk")
    assert [reply.pk for reply in result.replies] == [reply.pk for reply in stored]
    assert [(r.model, r.status) for r in stored] == [(f"demo-{n}", ReplyStatus.PENDING) for n in range(3)]


def test_a_blind_send_deals_its_letters_in_the_same_insert(user):
    columns = [Column(provider="demo", model=f"demo-{n}", parameters={}, key=f"demo#{n + 1}") for n in range(3)]
    conversation = conversation_create(owner=user, blind=True)

    with CaptureQueriesContext(connection) as queries:
        result = message_send(user=user, conversation=conversation, send=SendInput(message="hello", columns=columns))

    assert len([q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "chat_message"')]) == 2
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "chat_message"')]
    assert not [sql for sql in updates if "blind_label" in sql]  # only the estimates, stored after the start
    stored = Message.objects.filter(reply_to=result.user_message)
    assert sorted(reply.blind_label for reply in stored) == ["A", "B", "C"]


def test_a_sends_messages_are_shown_without_reading_them_back(auth_client, monkeypatch):
    published = []
    monkeypatch.setattr(events, "publish_on_commit", lambda conversation_id, event_list: published.extend(event_list))
    columns = [{"provider": "demo", "model": "demo-echo", "key": f"demo#{n + 1}"} for n in range(4)]

    with CaptureQueriesContext(connection) as queries:
        sent = auth_client.post("/api/chat/send", {"message": "hello", "columns": columns}, format="json")

    assert sent.status_code == 202
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # A new turn's files are the ones it bound (none here) and it has no vote yet: nothing to read back.
    assert not [sql for sql in selects if 'FROM "chat_attachment"' in sql or 'FROM "chat_vote"' in sql]
    shown = [event["message"] for event in published if event["type"] == "message.created"]
    assert shown == [sent.json()["user_message"], *sent.json()["replies"]]
    assert [event["conversation"] for event in published if event["type"] == "conversation.updated"] == [
        sent.json()["conversation"]]
    assert [reply["estimate"]["key"] for reply in sent.json()["replies"]] == ["demo#1", "demo#2", "demo#3", "demo#4"]


def test_a_send_reads_the_providers_once_and_stores_the_estimates_in_one_statement(auth_client):
    columns = [{"provider": "demo", "model": "demo-echo", "key": f"demo#{n + 1}"} for n in range(3)]
    provider_configs()  # as after any earlier request: the records read, their version is all a send reads

    with CaptureQueriesContext(connection) as queries:
        sent = auth_client.post("/api/chat/send", {"message": "hello", "columns": columns}, format="json")

    assert sent.status_code == 202
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([sql for sql in statements if 'FROM "chat_provider"' in sql]) == 1
    estimate_updates = [sql for sql in statements if sql.startswith('UPDATE "chat_message"') and "estimate" in sql]
    assert len(estimate_updates) == 1
    shown = sent.json()["replies"]
    stored = {r.pk: r.estimate for r in Message.objects.filter(reply_to_id=sent.json()["user_message"]["id"])}
    assert [stored[reply["id"]] for reply in shown] == [reply["estimate"] for reply in shown]
    assert [estimate["key"] for estimate in stored.values()] == ["demo#1", "demo#2", "demo#3"]


def test_a_first_send_to_a_conversation_created_empty_makes_ten_statements_besides_its_transaction(auth_client):
    conversation = auth_client.post("/api/chat/conversations", {}, format="json").json()["id"]
    provider_configs()  # as after any earlier request: the records read, their version is all a send reads

    with CaptureQueriesContext(connection) as queries:
        sent = auth_client.post("/api/chat/send", {"message": "hello", "selected_providers": ["demo"],
                                                   "conversation_id": conversation}, format="json")

    assert sent.status_code == 202
    work = [q["sql"] for q in queries.captured_queries if not re.match(r"(BEGIN|COMMIT|SAVEPOINT|RELEASE)", q["sql"])]
    # The conversation, the providers, the locked limits, the active replies, the turn to follow, the user
    # message, the conversation's new leaf, the replies; then the prices and the replies' estimates.
    assert len(work) == 10, work
