"""``manage.py usage_backfill`` gives older replies their usage and cost, once."""

import math
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat.context import estimate_tokens
from chat.models import Message, ModelPrice, ReplyStatus
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def old_reply(user, **fields):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="hello there")
    defaults = {"provider": "gpt", "model": "m1", "status": ReplyStatus.COMPLETE, "content": "General Kenobi!",
                "started_at": timezone.now(), "ttft_ms": 100, "duration_ms": 1100}
    return Message.objects.create(conversation=conversation, role="assistant", reply_to=question,
                                  **{**defaults, **fields})


def backfill(*args) -> str:
    out = StringIO()
    call_command("usage_backfill", *args, stdout=out)
    return out.getvalue()


def test_backfill_prices_sent_counts_estimates_missing_ones_and_is_idempotent(user):
    ModelPrice.objects.create(provider="gpt", model="m1", input_price_per_mtok=Decimal("1"),
                              output_price_per_mtok=Decimal("4"))
    sent = old_reply(user, prompt_tokens=100, completion_tokens=50)
    stopped = old_reply(user, status=ReplyStatus.CANCELLED, content="General")
    never_asked = old_reply(user, status=ReplyStatus.ERROR, error_code="provider_unknown", content="",
                            ttft_ms=None, duration_ms=None)
    pending = old_reply(user, status=ReplyStatus.PENDING, started_at=None, content="")
    assert "2 replies updated" in backfill("--batch-size", "1")

    sent.refresh_from_db()
    assert (sent.prompt_tokens, sent.completion_tokens, sent.usage_estimated) == (100, 50, False)
    assert sent.cost == Decimal("0.00030000") and sent.cost_currency == "USD" and not sent.cost_estimated
    assert sent.tokens_per_second == pytest.approx(50.0)
    stopped.refresh_from_db()
    assert stopped.completion_tokens == math.ceil(len("General") / 4)
    assert stopped.prompt_tokens == estimate_tokens("hello there")
    assert stopped.usage_estimated and stopped.cost_estimated
    for untouched in (never_asked, pending):
        untouched.refresh_from_db()
        assert untouched.prompt_tokens is None and untouched.cost is None

    assert "0 replies updated" in backfill()
    assert "0 replies updated" in backfill("--recompute")
    ModelPrice.objects.filter(provider="gpt").update(output_price_per_mtok=Decimal("8"))
    assert "0 replies updated" in backfill()
    assert "2 replies updated" in backfill("--recompute")
    sent.refresh_from_db()
    assert sent.cost == Decimal("0.00050000")


def test_backfill_leaves_an_unknown_price_unknown(user):
    reply = old_reply(user, provider="private", model="secret-model", prompt_tokens=10, completion_tokens=10)
    backfill()
    reply.refresh_from_db()
    assert reply.cost is None and reply.cost_currency == "" and reply.prompt_tokens == 10
