"""The daily rollup stays equal to what the replies themselves add up to, whatever happens to them.

Each test changes replies through the real write paths (the engine's end writes, the backfill,
deletions) and compares the dashboard's figures with figures worked out here from the replies,
and the rollup with a fresh recomputation (``rollup_differences``).
"""

import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from chat.models import Conversation, Message, ModelPrice, ReplyStatus
from chat.providers import StreamResult
from chat.services import (
    conversation_delete,
    replies_checkpoint,
    reply_choose,
    reply_complete,
    reply_fail,
    reply_start,
    reply_stop,
)
from chat.usage.services import replies_usage_backfill
from dashboard.models import DailyUsage, UserDailyUsage
from dashboard.rollup import TRIGGERS, ensure_rollup, rollup_differences

from .conftest import client_for, day, reply

pytestmark = pytest.mark.django_db

ENDED = ("complete", "error", "cancelled")


@pytest.fixture
def prices():
    ModelPrice.objects.create(provider="gpt", model="m-a", input_price_per_mtok=Decimal(1),
                              output_price_per_mtok=Decimal(2))
    ModelPrice.objects.create(provider="claude", model="", input_price_per_mtok=Decimal("3.5"),
                              output_price_per_mtok=Decimal(15), currency="EUR")


def pending(owner, provider="gpt", model="m-a", *, conversation=None):
    conversation = conversation or Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role="user", content="question")
    return Message.objects.create(conversation=conversation, role="assistant", reply_to=question, provider=provider,
                                  model=model, status=ReplyStatus.PENDING)


def started(owner, provider="gpt", model="m-a", **kwargs):
    reply_ = pending(owner, provider, model, **kwargs)
    assert reply_start(reply_id=reply_.pk) is not None
    return reply_


def complete(owner, provider="gpt", model="m-a", *, p=1000, c=500, ttft=100, dur=1100, **kwargs):
    reply_ = started(owner, provider, model, **kwargs)
    return reply_complete(reply_id=reply_.pk, content="answer", seq=1, result=StreamResult(
        finish_reason="stop", prompt_tokens=p, completion_tokens=c, ttft_ms=ttft, duration_ms=dur))


def get(client, path, **params):
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()


def exact():
    assert rollup_differences() == []


def test_a_reply_counts_when_it_ends_and_not_before(user, prices):
    client = client_for(user)
    streaming = started(user)
    replies_checkpoint(checkpoints=[(streaming.pk, "partial", 3)])
    assert not DailyUsage.objects.exists() and not UserDailyUsage.objects.exists()
    reply_complete(reply_id=streaming.pk, content="answer", seq=4, result=StreamResult(
        finish_reason="stop", prompt_tokens=1000, completion_tokens=500, ttft_ms=100, duration_ms=1100))
    totals = get(client, "/api/dashboard/summary", days=7)["totals"]
    assert (totals["replies"]["value"], totals["prompt_tokens"]["value"], totals["completion_tokens"]["value"]) == (
        1, 1000, 500)
    assert totals["cost"]["USD"]["value"] == "0.00200000"  # 1000 × 1 + 500 × 2 per million
    site = DailyUsage.objects.get()
    mine = UserDailyUsage.objects.get()
    assert (site.day, site.replies, site.cost_units) == (timezone.now().date(), 1, 200000)
    assert (mine.owner_id, mine.replies, mine.priced) == (user.pk, 1, 1)
    exact()


def test_stopped_and_failed_replies_count_as_cancelled_and_as_errors_by_code(user, prices):
    complete(user)
    stopped = started(user)
    reply_stop(reply_id=stopped.pk, content="half an ans", seq=2, ttft_ms=80, duration_ms=400, prompt_tokens=1000,
               completion_tokens=3)
    for code in ("timeout", "timeout", "rate_limited"):
        failed = started(user)
        reply_fail(reply_id=failed.pk, content="", seq=0, code=code, detail="it failed", ttft_ms=None,
                   duration_ms=300, prompt_tokens=10, completion_tokens=0)
    [gpt] = get(client_for(user), "/api/dashboard/models", days=7)["models"]
    assert (gpt["replies"], gpt["errors"], gpt["cancelled"]) == (5, 3, 1)
    assert gpt["top_error_codes"] == [{"code": "timeout", "count": 2}, {"code": "rate_limited", "count": 1}]
    # 0.002 + (1000 + 6) / 1e6 + 3 × 10 / 1e6
    assert gpt["cost"] == {"USD": "0.00303600"} and gpt["unpriced_replies"] == 0
    assert gpt["ttft_ms_p50"] == 90  # 80 and 100: failures before a first token have none
    exact()


def test_an_unknown_price_is_counted_as_unpriced_never_as_zero(user, prices):
    complete(user, "local", "llama", p=10, c=10)
    complete(user, "claude", "m-b", p=1000, c=100)
    rows = {r["model"]: r for r in get(client_for(user), "/api/dashboard/models", days=7)["models"]}
    assert rows["llama"]["cost"] == {} and rows["llama"]["unpriced_replies"] == 1
    assert rows["m-b"]["cost"] == {"EUR": "0.00500000"}
    totals = get(client_for(user), "/api/dashboard/summary", days=7)["totals"]
    assert totals["unpriced"]["value"] == 1 and list(totals["cost"]) == ["EUR"]
    assert DailyUsage.objects.get(model="llama").cost_currency == ""
    exact()


def test_deleting_a_reply_a_conversation_or_a_user_takes_their_replies_out(user, bob, prices):
    kept = complete(user)
    gone = complete(user, conversation=kept.conversation)
    other = complete(user)
    complete(bob)
    gone.delete()
    assert get(client_for(user), "/api/dashboard/summary", days=7)["totals"]["replies"]["value"] == 2
    exact()
    conversation_delete(conversation=other.conversation)
    assert get(client_for(user), "/api/dashboard/summary", days=7)["totals"]["replies"]["value"] == 1
    exact()
    bob.delete()
    assert list(DailyUsage.objects.values_list("replies", flat=True)) == [1]
    assert set(UserDailyUsage.objects.values_list("owner_id", flat=True)) == {user.pk}
    exact()


def test_the_backfill_prices_older_replies_in_the_rollup_too(user):
    old = [reply(user, "gpt", "m-a", "complete", 3, ttft=100, dur=600, p=2000, c=1000) for _ in range(2)]
    reply(user, "gpt", "m-a", "error", 3, ttft=None, dur=200, p=None, c=None, code="timeout")
    before = get(client_for(user), "/api/dashboard/models", days=7)["models"][0]
    assert before["cost"] == {} and before["unpriced_replies"] == 3
    ModelPrice.objects.create(provider="gpt", model="m-a", input_price_per_mtok=Decimal(1),
                              output_price_per_mtok=Decimal(2))
    assert replies_usage_backfill() == 3
    after = get(client_for(user), "/api/dashboard/models", days=7)["models"][0]
    stored = sum(r.cost for r in Message.objects.filter(role="assistant"))
    assert stored > sum(Message.objects.get(pk=m.pk).cost for m in old)  # the failure has an estimated cost
    assert after["unpriced_replies"] == 0 and after["cost"] == {"USD": f"{stored:.8f}"}
    assert after["estimated_replies"] == 1 and after["prompt_tokens"] > 4000
    exact()


def test_checkpoints_and_choosing_a_reply_leave_the_rollup_alone(user, prices):
    chosen = complete(user)
    streaming = started(user, conversation=chosen.conversation)
    version = DailyUsage.objects.get().version
    replies_checkpoint(checkpoints=[(streaming.pk, "more text", 9)])
    reply_choose(reply=chosen)
    assert DailyUsage.objects.get().version == version
    Message.objects.filter(pk=chosen.pk).update(ttft_ms=150)  # a timing changes: the percentiles' fingerprint too
    assert DailyUsage.objects.get().version != version
    exact()


def test_a_reply_moved_to_another_day_leaves_one_day_for_the_other(user, prices):
    moved = complete(user)
    Message.objects.filter(pk=moved.pk).update(created_at=day(2))
    assert list(DailyUsage.objects.values_list("day", "replies")) == [(day(2).date(), 1)]
    exact()


def drop_triggers():
    with connection.cursor() as cursor:
        for name in TRIGGERS.values():
            cursor.execute(f"DROP TRIGGER {name}{' ON chat_message' if connection.vendor == 'postgresql' else ''}")


def test_the_rollup_is_rebuilt_when_its_triggers_went_missing(user, prices):
    complete(user)
    drop_triggers()
    complete(user)  # not counted: no triggers, as after a SQLite table rebuild
    assert rollup_differences() != []
    assert ensure_rollup() is True
    exact()
    assert ensure_rollup() is False  # present: nothing to do
    complete(user)
    assert DailyUsage.objects.get().replies == 3


@pytest.mark.django_db(transaction=True)  # migrate alters chat_message: no transaction left open around it
def test_migrate_puts_missing_triggers_back(user, prices):
    drop_triggers()
    try:
        complete(user)
        call_command("migrate", verbosity=0)
    finally:
        ensure_rollup()  # whatever happened, the next tests get their triggers
    exact()
    complete(user)
    assert DailyUsage.objects.get().replies == 2


def test_the_command_checks_the_rollup_and_rebuilds_it(user, prices):
    complete(user)
    complete(user, "claude", "m-b")
    DailyUsage.objects.filter(model="m-a").update(replies=F("replies") + 1)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("dashboard_rollup", "--check", stdout=out, stderr=StringIO())
    assert exit_.value.code == 1 and "m-a" in out.getvalue() and "m-b" not in out.getvalue()
    call_command("dashboard_rollup", stdout=StringIO())
    out = StringIO()
    call_command("dashboard_rollup", "--check", stdout=out)
    assert "matches" in out.getvalue()


def by_hand(values, p):
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    upper = ordered[min(low + 1, len(ordered) - 1)]
    return ordered[low] + (position - low) * (upper - ordered[low])


def expected_models(replies):
    """The per-model figures, worked out from the replies."""
    groups = defaultdict(list)
    for r in replies:
        groups[(r.provider, r.model)].append(r)
    out = {}
    for key, rs in groups.items():
        costs = defaultdict(Decimal)
        for r in rs:
            if r.cost is not None:
                costs[r.cost_currency] += r.cost
        codes = defaultdict(int)
        for r in rs:
            if r.status == "error":
                codes[r.error_code] += 1
        ttfts = [r.ttft_ms for r in rs if r.ttft_ms is not None]
        speeds = [r.tokens_per_second for r in rs if r.tokens_per_second is not None]
        out[key] = {
            "replies": len(rs), "prompt_tokens": sum(r.prompt_tokens or 0 for r in rs),
            "completion_tokens": sum(r.completion_tokens or 0 for r in rs),
            "estimated_replies": sum(r.usage_estimated for r in rs),
            "unpriced_replies": sum(r.cost is None for r in rs),
            "cost": {c: f"{v:.8f}" for c, v in sorted(costs.items())},
            "errors": sum(r.status == "error" for r in rs), "cancelled": sum(r.status == "cancelled" for r in rs),
            "top_error_codes": sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:3],
            "ttft_ms_p95": by_hand(ttfts, 0.95) if ttfts else None,
            "tokens_per_second_p50": by_hand(speeds, 0.5) if speeds else None,
        }
    return out


def test_every_figure_equals_what_the_replies_add_up_to_after_many_changes(user, bob, staff, prices):
    rng = random.Random(11)
    owners = [user, bob]
    models = [("gpt", "m-a"), ("claude", "m-b"), ("local", "llama")]
    for _ in range(60):
        owner, (provider, model) = rng.choice(owners), rng.choice(models)
        status = rng.choice(["complete"] * 6 + ["error", "cancelled", "streaming"])
        ttft = rng.randint(50, 900) if rng.random() < 0.9 else None
        reply(owner, provider, model, status, rng.randint(0, 20), ttft=ttft, dur=(ttft or 0) + rng.randint(100, 5000),
              p=rng.randint(1, 3000) if rng.random() < 0.8 else None, c=rng.randint(0, 900),
              code=rng.choice(["timeout", "rate_limited", "server_error"]) if status == "error" else "")
    replies_usage_backfill()
    ids = list(Message.objects.filter(role="assistant").values_list("pk", flat=True))
    Message.objects.filter(pk__in=rng.sample(ids, 5)).delete()
    Message.objects.filter(pk__in=rng.sample(ids, 5)).update(status="error", error_code="orphaned")
    Message.objects.filter(pk__in=rng.sample(ids, 5)).update(created_at=timezone.now() - timedelta(days=1))
    exact()
    start = timezone.localdate() - timedelta(days=13)
    for client, params, owner_ids in ((client_for(user), {}, {user.pk}), (client_for(staff), {"scope": "site"},
                                                                         {user.pk, bob.pk})):
        replies = [r for r in Message.objects.filter(role="assistant", status__in=ENDED,
                                                     conversation__owner_id__in=owner_ids)
                   if r.created_at.date() >= start]
        period = {"from": start.isoformat(), "to": timezone.localdate().isoformat(), **params}
        got = {(m["provider"], m["model"]): m for m in get(client, "/api/dashboard/models", **period)["models"]}
        want = expected_models(replies)
        assert set(got) == set(want)
        for key, figures in want.items():
            row = got[key]
            for name, value in figures.items():
                if name == "top_error_codes":
                    assert [(e["code"], e["count"]) for e in row[name]] == value, (key, name)
                elif isinstance(value, float):
                    assert row[name] == pytest.approx(value), (key, name)
                else:
                    assert row[name] == value, (key, name)
        totals = get(client, "/api/dashboard/summary", **period)["totals"]
        assert totals["replies"]["value"] == len(replies)
        assert totals["errors"]["value"] == sum(r.status == "error" for r in replies)
    users = {u["username"]: u for u in get(client_for(staff), "/api/dashboard/users", days=30)["users"]}
    for owner in owners:
        mine = [r for r in Message.objects.filter(role="assistant", status__in=ENDED, conversation__owner=owner)
                if r.created_at.date() > timezone.localdate() - timedelta(days=30)]
        assert users[owner.username]["replies"] == len(mine)
        assert users[owner.username]["tokens"] == sum((r.prompt_tokens or 0) + (r.completion_tokens or 0)
                                                      for r in mine)
