"""Usage is what webox measured: imported replies are shown, never counted, and no rollup row — the
site's, a user's, a month's — can make a reply's end fail, however large its figures."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import MonthlyUsage
from chat.imports.checks import MAX_COST, MAX_TOKENS
from chat.limits import COST_CEILING
from chat.models import Conversation, Message, ModelPrice, ReplyStatus
from chat.providers import StreamResult
from chat.services import replies_sweep_orphans, reply_complete
from chat.usage.services import REPLY_MAX_COST, REPLY_MAX_TOKENS
from dashboard.models import DailyUsage, UserDailyUsage
from dashboard.rollup import BIGINT_MAX, INT_MAX, rollup_differences

from .conftest import client_for
from .test_rollup import complete, started

pytestmark = pytest.mark.django_db

LARGEST_COST = "99999999.99999999"  # the most a reply's cost column holds


@pytest.fixture
def prices():
    ModelPrice.objects.create(provider="gpt", model="m-a", input_price_per_mtok=Decimal(1),
                              output_price_per_mtok=Decimal(2))


def forged_file(count: int = 2) -> dict:
    """Replies with the largest figures an export may hold, asked today, of a model the site uses."""
    now = timezone.now().isoformat()
    messages = [{"id": 0, "role": "user", "content": "q", "created_at": now}]
    for ref in range(1, count + 1):
        messages.append({
            "id": ref, "reply_to": 0, "role": "assistant", "content": "forged", "provider": "gpt", "model": "m-a",
            "status": "complete", "prompt_tokens": MAX_TOKENS, "completion_tokens": MAX_TOKENS, "cost": str(MAX_COST),
            "cost_currency": "USD", "ttft_ms": 1, "duration_ms": 2, "created_at": now, "started_at": now,
            "completed_at": now,
        })
    return {"format": "webox.conversations", "version": 1, "conversations": [{"title": "f", "messages": messages}]}


def usage_samples(client) -> dict:
    """Every /metrics sample about replies and tokens, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode()) for sample in family.samples
            if sample.name.startswith(("webox_replies", "webox_tokens", "webox_reply_"))}


def summary(client, **params) -> dict:
    response = client.get("/api/dashboard/summary", {"days": 7, **params})
    assert response.status_code == 200, response.content
    return response.json()["totals"]


def test_imported_replies_are_shown_marked_and_never_counted(user, staff, prices, client, settings):
    settings.DEBUG = True  # /metrics open without a token
    complete(user)
    site, mine = client_for(staff), client_for(user)
    before = (summary(site, scope="site"), summary(mine), usage_samples(client), MonthlyUsage.objects.get().tokens)

    response = mine.post("/api/chat/import", forged_file(), format="json")

    assert response.status_code == 201, response.content
    assert (summary(site, scope="site"), summary(mine), usage_samples(client),
            MonthlyUsage.objects.get().tokens) == before
    assert before[0]["replies"]["value"] == 1
    assert rollup_differences() == []
    [conversation] = response.json()["conversations"]
    shown = mine.get(f"/api/chat/conversations/{conversation['id']}").json()["messages"]
    assert [(m["role"], m["imported"], m["content"]) for m in shown] == [
        ("user", True, "q"), ("assistant", True, "forged"), ("assistant", True, "forged")]
    assert shown[1]["usage"]["cost"] == str(MAX_COST) and shown[1]["usage"]["prompt_tokens"] == MAX_TOKENS


@pytest.mark.parametrize("field, value, detail", [
    ("cost", "10000000", "cost must be at most 9999999.99999999."),
    ("prompt_tokens", 10**9 + 1, "prompt_tokens must be at most 1000000000."),
    ("completion_tokens", 2**40, "completion_tokens must be at most 1000000000."),
])
def test_an_import_with_a_figure_past_its_bound_is_refused(user, field, value, detail):
    body = forged_file(1)
    body["conversations"][0]["messages"][1][field] = value
    response = client_for(user).post("/api/chat/import", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == f"Conversation 1, message 2: {detail}"
    assert not Message.objects.exists()


def test_exporting_then_importing_does_not_double_a_users_figures(user, prices):
    complete(user)
    complete(user, p=30, c=40)
    client = client_for(user)
    before = summary(client)
    exported = b"".join(client.get("/api/chat/export?format=json").streaming_content)  # exports stream
    assert all(m["imported"] is False for c in json.loads(exported)["conversations"] for m in c["messages"])

    assert client.post("/api/chat/import", exported, content_type="application/json").status_code == 201

    assert summary(client) == before
    assert Message.objects.filter(imported=True).count() == 4
    again = json.loads(b"".join(client.get("/api/chat/export?format=json").streaming_content))["conversations"]
    assert sorted(m["imported"] for c in again for m in c["messages"]) == [False] * 4 + [True] * 4


def test_a_reply_ends_when_every_rollup_row_of_its_day_is_full(user, prices):
    """The figures a crafted import once pushed to the bigint maximum: a genuine reply still ends,
    and the figures stop at their columns' maxima instead of overflowing."""
    complete(user)
    full = {"replies": INT_MAX, "priced": INT_MAX, "prompt_tokens": BIGINT_MAX, "completion_tokens": BIGINT_MAX,
            "cost_units": BIGINT_MAX}
    assert DailyUsage.objects.update(**full) == 1 and UserDailyUsage.objects.update(**full) == 1
    MonthlyUsage.objects.update(tokens=2**63 - 1, cost=COST_CEILING)
    reply = started(user)

    ended = reply_complete(reply_id=reply.pk, content="answer", seq=1, result=StreamResult(
        finish_reason="stop", prompt_tokens=INT_MAX, completion_tokens=INT_MAX, ttft_ms=1, duration_ms=2))

    assert ended is not None
    assert Message.objects.get(pk=reply.pk).status == ReplyStatus.COMPLETE
    for row in (DailyUsage.objects.get(), UserDailyUsage.objects.get()):
        assert {name: getattr(row, name) for name in full} == full
    assert MonthlyUsage.objects.values_list("tokens", "cost").get() == (2**63 - 1, COST_CEILING)


def test_the_orphan_sweep_ends_replies_when_the_rollup_is_full(user, prices):
    key = {"day": timezone.now().date(), "provider": "gpt", "model": "m-a", "cost_currency": "USD",
           "error_code": "orphaned"}
    full = {"replies": INT_MAX, "errors": INT_MAX, "prompt_tokens": BIGINT_MAX, "cost_units": BIGINT_MAX}
    DailyUsage.objects.create(**key, **full)
    UserDailyUsage.objects.create(owner=user, **key, **full)
    stalled = started(user)
    Message.objects.filter(pk=stalled.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    assert [m.pk for m in replies_sweep_orphans()] == [stalled.pk]
    assert Message.objects.get(pk=stalled.pk).status == ReplyStatus.ERROR


def test_sums_past_the_bigint_maximum_stop_there_in_the_triggers_and_the_rebuild(user):
    """923 replies of the largest cost pass the bigint maximum in hundred-millionths: each one's
    write still succeeds, and the triggers and the rebuild (SQLite's SUM would fail, PostgreSQL's
    cast would) both hold the sum at the maximum."""
    conversation = Conversation.objects.create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    Message.objects.bulk_create(
        [Message(conversation=conversation, role="assistant", reply_to=question, provider="gpt", model="m-a",
                 status=ReplyStatus.COMPLETE, cost=Decimal(LARGEST_COST), cost_currency="USD") for _ in range(925)],
        batch_size=500)

    assert DailyUsage.objects.get().cost_units == BIGINT_MAX
    assert UserDailyUsage.objects.get().cost_units == BIGINT_MAX
    call_command("dashboard_rollup", stdout=StringIO())
    assert (DailyUsage.objects.get().replies, DailyUsage.objects.get().cost_units) == (925, BIGINT_MAX)
    assert rollup_differences() == []


def test_a_provider_reporting_absurd_counts_still_ends_its_reply_within_the_columns(user):
    """Counts past any column (2**40 tokens) and the cost they price to: the reply ends, its figures
    stop at the bounds a reply may hold, and its conversation still reads."""
    ModelPrice.objects.create(provider="gpt", model="m-a", input_price_per_mtok=Decimal(99_999_999),
                              output_price_per_mtok=Decimal(99_999_999))
    reply = started(user)

    ended = reply_complete(reply_id=reply.pk, content="answer", seq=1, result=StreamResult(
        finish_reason="stop", prompt_tokens=2**40, completion_tokens=2**40, ttft_ms=1, duration_ms=2))

    assert ended is not None
    stored = Message.objects.get(pk=reply.pk)
    assert stored.status == ReplyStatus.COMPLETE
    assert (stored.prompt_tokens, stored.completion_tokens) == (REPLY_MAX_TOKENS, REPLY_MAX_TOKENS)
    assert stored.cost == REPLY_MAX_COST
    response = client_for(user).get(f"/api/chat/conversations/{stored.conversation_id}")
    assert response.status_code == 200
    [shown] = [m for m in response.json()["messages"] if m["id"] == reply.pk]
    assert Decimal(shown["usage"]["cost"]) == REPLY_MAX_COST
