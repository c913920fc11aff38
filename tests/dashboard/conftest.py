"""A small seeded data set whose every dashboard figure is worked out by hand in the tests.

Prices: two operator overrides (gpt/m-a 1 and 2 per million tokens in and out, claude/m-b 3 and
15), local/llama has no price. Costs are computed by the real backfill, not written by hand.

alice, this week (days=7):  provider/model   status     day  ttft  dur   in    out  cost
  r1                        gpt/m-a          complete   0    100   1100  1000  500  0.002
  r2                        gpt/m-a          complete   1    300   2300  2000  1000 0.004
  r3                        gpt/m-a          error      1    200   5200  100   50   0.0002 (timeout, estimated)
  r4                        claude/m-b       cancelled  0    50    550   100   20   0.0006
  r5                        local/llama      complete   0    400   2400  10    10   unknown
alice, the week before:     r6 gpt/m-a complete, day 8, in 100 out 100, 0.0003
alice, 20 days ago:         r7 gpt/m-a complete, ttft 1000, dur 3000, in 1000 out 1000, 0.003
bob, this week:             r8 gpt/m-a complete day 0 ttft 500 dur 1500 in 400 out 100 (0.0006);
                            r9 gpt/m-a error (rate_limited) day 0, dur 300, in 10 out 0 (0.00001)
Not counted: a streaming reply of alice today.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chat.models import Conversation, Message, ModelPrice
from chat.usage.services import replies_usage_backfill


@pytest.fixture(autouse=True)
def own_cache_keys(settings):
    """Each test its own cache keys. On SQLite the rollup's version counter goes back with each
    test's rollback, so two tests could build the same fingerprint over different replies; a real
    dashboard read never shares a transaction with writes that are rolled back."""
    default = settings.CACHES["default"]
    settings.CACHES = {**settings.CACHES, "default": {
        **default, "KEY_PREFIX": f"{default.get('KEY_PREFIX', '')}-{uuid.uuid4().hex[:8]}"}}


def day(days_ago: int) -> datetime:
    noon = time(12, tzinfo=timezone.get_current_timezone())
    return datetime.combine(timezone.localdate() - timedelta(days=days_ago), noon)


def reply(owner, provider, model, status, days_ago, *, ttft=None, dur=None, p=None, c=None, estimated=False,
          code=""):
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    message = Message.objects.create(
        conversation=conversation, role="assistant", reply_to=question, provider=provider, model=model,
        status=status, ttft_ms=ttft, duration_ms=dur, prompt_tokens=p, completion_tokens=c, usage_estimated=estimated,
        error_code=code, content="x", started_at=day(days_ago),
    )
    Message.objects.filter(pk__in=[question.pk, message.pk]).update(created_at=day(days_ago))
    return message


@pytest.fixture
def staff(make_user):
    return make_user("root", is_staff=True)


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def seeded(user, bob):
    ModelPrice.objects.create(provider="gpt", model="m-a", input_price_per_mtok=Decimal(1),
                              output_price_per_mtok=Decimal(2))
    ModelPrice.objects.create(provider="claude", model="m-b", input_price_per_mtok=Decimal(3),
                              output_price_per_mtok=Decimal(15))
    alice = user
    rows = {
        "r1": reply(alice, "gpt", "m-a", "complete", 0, ttft=100, dur=1100, p=1000, c=500),
        "r2": reply(alice, "gpt", "m-a", "complete", 1, ttft=300, dur=2300, p=2000, c=1000),
        "r3": reply(alice, "gpt", "m-a", "error", 1, ttft=200, dur=5200, p=100, c=50, estimated=True, code="timeout"),
        "r4": reply(alice, "claude", "m-b", "cancelled", 0, ttft=50, dur=550, p=100, c=20),
        "r5": reply(alice, "local", "llama", "complete", 0, ttft=400, dur=2400, p=10, c=10),
        "r6": reply(alice, "gpt", "m-a", "complete", 8, ttft=100, dur=600, p=100, c=100),
        "r7": reply(alice, "gpt", "m-a", "complete", 20, ttft=1000, dur=3000, p=1000, c=1000),
        "r8": reply(bob, "gpt", "m-a", "complete", 0, ttft=500, dur=1500, p=400, c=100),
        "r9": reply(bob, "gpt", "m-a", "error", 0, dur=300, p=10, c=0, estimated=True, code="rate_limited"),
        "active": reply(alice, "gpt", "m-a", "streaming", 0, p=None, c=None),
    }
    replies_usage_backfill()
    return rows


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
