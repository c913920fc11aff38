"""Per-user limits on turns: the send rate, replies generating at once, the monthly token and cost budgets."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import MonthlyUsage, UserLimits
from chat import limits, services
from chat.errors import ChatError
from chat.models import Message, ModelPrice, ReplyStatus
from chat.providers import StreamResult
from chat.services import conversation_create, reply_complete
from chat.streaming import runners

pytestmark = pytest.mark.django_db


def send(client, **fields):
    body = {"message": "Hello there", "selected_providers": ["demo"], **fields}
    return client.post("/api/chat/send", body, format="json")


def pending_replies(user, count):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    return [Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="demo-echo",
                                   reply_to=question, status=ReplyStatus.PENDING) for _ in range(count)]


def test_sending_faster_than_the_rate_is_a_429_with_retry_after_and_stores_nothing(auth_client, settings):
    settings.WEBOX_SEND_RATE = "2/60"
    assert [send(auth_client).status_code for _ in range(2)] == [202, 202]
    refused = send(auth_client)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert "too fast" in refused.json()["detail"]
    assert Message.objects.filter(role="user").count() == 2


def test_a_turn_over_the_active_reply_cap_is_refused_and_nothing_is_stored(auth_client, user, settings):
    settings.WEBOX_MAX_ACTIVE_REPLIES = 3
    pending_replies(user, 2)
    assert send(auth_client, message="one more").status_code == 202  # 2 active + 1 new: within the cap
    over = send(auth_client, message="one too many")
    assert over.status_code == 429 and "At most 3 replies" in over.json()["detail"]
    assert not Message.objects.filter(content="one too many").exists()


@pytest.mark.django_db(transaction=True)
def test_two_turns_sent_at_once_cannot_both_pass_the_cap(user, settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    settings.WEBOX_MAX_ACTIVE_REPLIES = 1
    monkeypatch.setattr(runners, "start_replies", lambda reply_ids: None)  # replies stay pending: active
    checked = limits.check_new_replies

    def check_slowly(*args, **kwargs):
        checked(*args, **kwargs)
        time.sleep(0.3)  # still inside the storing transaction: the other turn checks meanwhile

    monkeypatch.setattr(limits, "check_new_replies", check_slowly)
    together = threading.Barrier(2)

    def turn(_):
        together.wait()
        try:
            send = services.send_input_clean(message="hi", selected_providers=["demo"])
            services.message_send(user=user, conversation=None, send=send)
            return "sent"
        except ChatError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(turn, range(2)))

    assert outcomes == ["sent", "too_many_active"]
    assert Message.objects.filter(role="assistant").count() == 1


def test_staff_can_raise_or_lift_one_users_cap(auth_client, user, settings):
    settings.WEBOX_MAX_ACTIVE_REPLIES = 1
    pending_replies(user, 1)
    assert send(auth_client).status_code == 429
    UserLimits.objects.create(user=user, max_active_replies=0)  # 0: no limit for this user
    assert send(auth_client).status_code == 202


def test_regenerating_counts_against_the_cap(auth_client, user, settings):
    settings.WEBOX_MAX_ACTIVE_REPLIES = 1
    [reply] = pending_replies(user, 1)
    Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.COMPLETE)
    pending_replies(user, 1)
    response = auth_client.post(f"/api/chat/messages/{reply.pk}/regenerate")
    assert response.status_code == 429
    assert Message.objects.filter(role="assistant").count() == 2


def test_a_used_up_monthly_budget_refuses_turns_before_anything_is_stored(auth_client, user, settings):
    settings.WEBOX_MONTHLY_TOKEN_BUDGET = 100
    [reply] = pending_replies(user, 1)
    Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.STREAMING)
    reply_complete(reply_id=reply.pk, content="done", seq=1,
                   result=StreamResult(prompt_tokens=60, completion_tokens=40, finish_reason="stop"))
    month = timezone.now().date().replace(day=1)
    assert MonthlyUsage.objects.get(user=user, month=month).tokens == 100
    refused = send(auth_client, message="over budget")
    assert refused.status_code == 429 and "100 tokens" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert not Message.objects.filter(content="over budget").exists()
    UserLimits.objects.create(user=user, monthly_token_budget=1000)
    assert send(auth_client).status_code == 202


def test_a_used_up_monthly_cost_budget_refuses_turns_and_unpriced_replies_can_be_free(auth_client, user, settings):
    settings.WEBOX_MONTHLY_COST_BUDGET = Decimal("0.01")
    settings.WEBOX_UNPRICED_PRICE_PER_MTOK = Decimal(0)
    # demo-echo priced by the operator at 50 USD per million tokens in and out: 100 tokens cost 0.005.
    ModelPrice.objects.create(provider="demo", model="demo-echo", input_price_per_mtok=Decimal(50),
                              output_price_per_mtok=Decimal(50))
    first, second, unpriced = pending_replies(user, 3)
    Message.objects.filter(pk=unpriced.pk).update(provider="private", model="in-house-model")  # no known price
    for reply in (first, unpriced):
        Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.STREAMING)
        reply_complete(reply_id=reply.pk, content="done", seq=1,
                       result=StreamResult(prompt_tokens=60, completion_tokens=40, finish_reason="stop"))
    unpriced.refresh_from_db()
    assert unpriced.cost is None
    month = timezone.now().date().replace(day=1)
    usage = MonthlyUsage.objects.get(user=user, month=month)
    assert (usage.tokens, usage.cost) == (200, Decimal("0.005"))  # at a fallback of 0, unpriced adds tokens only
    Message.objects.filter(pk=second.pk).delete()
    assert send(auth_client, message="still within").status_code == 202
    Message.objects.filter(status=ReplyStatus.PENDING).delete()
    [third] = pending_replies(user, 1)
    Message.objects.filter(pk=third.pk).update(status=ReplyStatus.STREAMING)
    reply_complete(reply_id=third.pk, content="done", seq=1,
                   result=StreamResult(prompt_tokens=60, completion_tokens=40, finish_reason="stop"))
    refused = send(auth_client, message="over the cost budget")
    assert refused.status_code == 429 and "0.01 USD" in refused.json()["detail"]
    assert int(refused["Retry-After"]) > 0
    assert not Message.objects.filter(content="over the cost budget").exists()
    UserLimits.objects.create(user=user, monthly_cost_budget=Decimal(1))
    assert send(auth_client).status_code == 202


def end_with_tokens(reply, prompt_tokens: int, completion_tokens: int) -> None:
    Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.STREAMING)
    reply_complete(reply_id=reply.pk, content="done", seq=1, result=StreamResult(
        prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, finish_reason="stop"))


def test_an_unpriced_reply_counts_against_the_cost_budget_at_the_fallback_price(auth_client, user, settings):
    settings.WEBOX_MONTHLY_COST_BUDGET = Decimal("0.002")
    settings.WEBOX_UNPRICED_PRICE_PER_MTOK = Decimal(10)
    [unpriced] = pending_replies(user, 1)
    Message.objects.filter(pk=unpriced.pk).update(provider="private", model="in-house-model")  # no known price
    end_with_tokens(unpriced, 60, 40)
    unpriced.refresh_from_db()
    assert unpriced.cost is None  # the dashboard still says "unknown": the fallback is the budget's alone
    usage = MonthlyUsage.objects.get(user=user)
    assert (usage.tokens, usage.cost) == (100, Decimal("0.001"))  # 100 tokens at 10 USD per million
    assert send(auth_client, message="within").status_code == 202
    Message.objects.filter(status=ReplyStatus.PENDING).delete()
    [another] = pending_replies(user, 1)
    Message.objects.filter(pk=another.pk).update(provider="private", model="in-house-model")
    end_with_tokens(another, 100, 0)
    refused = send(auth_client, message="over the cost budget")
    assert refused.status_code == 429 and "0.002 USD" in refused.json()["detail"]
    assert not Message.objects.filter(content="over the cost budget").exists()


def test_a_price_in_another_currency_counts_at_the_fallback_and_a_free_model_counts_nothing(user, settings):
    settings.WEBOX_UNPRICED_PRICE_PER_MTOK = Decimal(2)
    ModelPrice.objects.create(provider="demo", model="demo-echo", input_price_per_mtok=Decimal(50),
                              output_price_per_mtok=Decimal(50), currency="EUR")
    ModelPrice.objects.create(provider="demo", model="demo-markdown", free=True)
    in_euros, free = pending_replies(user, 2)
    Message.objects.filter(pk=free.pk).update(model="demo-markdown")
    end_with_tokens(in_euros, 500_000, 0)
    end_with_tokens(free, 500_000, 0)
    in_euros.refresh_from_db()
    assert (in_euros.cost, in_euros.cost_currency) == (Decimal(25), "EUR")
    assert MonthlyUsage.objects.get(user=user).cost == Decimal(1)  # 500 000 tokens at 2 USD per million


def test_the_budget_survives_deleting_conversations(auth_client, user, settings):
    settings.WEBOX_MONTHLY_TOKEN_BUDGET = 50
    [reply] = pending_replies(user, 1)
    Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.STREAMING)
    reply_complete(reply_id=reply.pk, content="x", seq=1,
                   result=StreamResult(prompt_tokens=30, completion_tokens=30, finish_reason="stop"))
    auth_client.delete(f"/api/chat/conversations/{reply.conversation_id}")
    assert send(auth_client).status_code == 429


def test_staff_edit_a_users_limits_in_the_admin(client, user, make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b"limits-0-max_active_replies" in page.content and b"limits-0-monthly_token_budget" in page.content
    assert b"limits-0-monthly_cost_budget" in page.content
