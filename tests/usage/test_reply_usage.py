"""Every reply that asked a provider records its usage and cost, however it ended."""

import asyncio
import math
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import MonthlyUsage
from chat.context import estimate_tokens
from chat.models import Conversation, Message, ModelPrice, ReplyStatus
from chat.providers import Provider, provider_create, provider_set_api_key
from chat.services import conversation_create, replies_sweep_orphans, reply_fail
from testing.client import StreamLog
from testing.fake_provider import expected_reply
from tests.conftest import send_turn
from tests.streaming.conftest import all_ended, collect_until, connect

# Streams for about 140 ms after its first token, so tokens per second has a duration to divide by.
SLOW8 = "fake-echo;tokens=8;delay_ms=20"

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture
def providers(fake_provider, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 20
    for name, kind in (("gpt", "openai"), ("claude", "anthropic")):
        provider_create(name=name, kind=kind, api_key="test-key", model_names=["fake-echo"], default_model="fake-echo",
                        base_url=fake_provider.anthropic_url if kind == "anthropic" else fake_provider.url)


def make_turn(conversation, *, status, content="", updated_ago=0):
    question = Message.objects.create(conversation=conversation, role="user", content="q")
    reply = Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="fake-echo",
                                   reply_to=question, status=status, content=content)
    Message.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - timedelta(seconds=updated_ago))
    return reply


def prompt_estimate(*texts: str) -> int:
    return sum(estimate_tokens(t) for t in texts)


async def run_turn(user, message: str, models: dict, *, cancel_after: int | None = None) -> dict[str, Message]:
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    result = await sync_to_async(send_turn)(user=user, conversation=conversation, message=message,
                                                selected_providers=list(models), selected_models=models)
    ids = {r.provider: r.pk for r in result.replies}
    if cancel_after is not None:
        (reply_id,) = ids.values()
        await collect_until(comm, log, lambda lg: len(lg.text[reply_id]) >= cancel_after)
        await comm.send_json_to({"type": "cancel", "message_id": reply_id})
    await collect_until(comm, log, all_ended(ids.values()))
    await comm.disconnect()
    return {name: await Message.objects.aget(pk=pk) for name, pk in ids.items()}


async def test_a_completed_reply_stores_the_providers_counts_and_its_override_price(user, providers):
    await ModelPrice.objects.acreate(provider="gpt", model=SLOW8, input_price_per_mtok=Decimal("2"),
                                     output_price_per_mtok=Decimal("10"), currency="EUR")
    replies = await run_turn(user, "price me", {"gpt": SLOW8})
    reply = replies["gpt"]
    assert reply.status == ReplyStatus.COMPLETE and reply.completion_tokens == 8 and not reply.usage_estimated
    expected = (Decimal(2) * reply.prompt_tokens + Decimal(10) * 8) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("1e-8")) and reply.cost_currency == "EUR"
    assert reply.cost_estimated is False
    assert reply.tokens_per_second == pytest.approx(8 / ((reply.duration_ms - reply.ttft_ms) / 1000))


async def test_a_stopped_reply_records_the_tokens_it_streamed_as_estimated(user, providers):
    replies = await run_turn(user, "stop me now", {"gpt": "fake-echo;tokens=400;delay_ms=15"}, cancel_after=40)
    reply = replies["gpt"]
    assert reply.status == ReplyStatus.CANCELLED and 40 <= len(reply.content) < len("".join(expected_reply("x", 400)))
    assert reply.completion_tokens == math.ceil(len(reply.content) / 4)
    assert reply.prompt_tokens == prompt_estimate("stop me now")
    assert reply.usage_estimated is True
    # The loopback endpoint has no known price and no override: unknown, never 0.
    assert reply.cost is None and reply.cost_currency == ""


async def test_a_reply_that_dropped_mid_stream_records_estimated_usage_and_cost(user, providers):
    await ModelPrice.objects.acreate(provider="claude", model="", input_price_per_mtok=Decimal("3"),
                                     output_price_per_mtok=Decimal("15"))
    replies = await run_turn(user, "drop after a few", {"claude": "fake-echo;drop_after=3;delay_ms=5"})
    reply = replies["claude"]
    assert reply.status == ReplyStatus.ERROR and reply.content == "".join(expected_reply("drop after a few")[:3])
    assert reply.completion_tokens == math.ceil(len(reply.content) / 4) > 0
    assert reply.prompt_tokens == prompt_estimate("drop after a few")
    assert reply.usage_estimated is True and reply.cost_estimated is True
    expected = (Decimal(3) * reply.prompt_tokens + Decimal(15) * reply.completion_tokens) / 1_000_000
    assert reply.cost == expected.quantize(Decimal("1e-8")) and reply.cost_currency == "USD"


async def test_a_free_provider_costs_zero_not_unknown(user, providers):
    await ModelPrice.objects.acreate(provider="gpt", model="", free=True)
    reply = (await run_turn(user, "free please", {"gpt": "fake-echo;tokens=5"}))["gpt"]
    assert reply.cost == 0 and reply.cost_currency == "USD"


def test_a_reply_whose_provider_was_never_asked_records_no_usage(user):
    reply = make_turn(conversation_create(owner=user), status=ReplyStatus.STREAMING)
    ended = reply_fail(reply_id=reply.pk, content="", seq=0, code="provider_unknown", detail="not configured",
                       ttft_ms=None, duration_ms=None)
    assert (ended.prompt_tokens, ended.completion_tokens, ended.cost, ended.usage_estimated) == (None, None, None,
                                                                                                 False)


async def test_the_context_sent_counts_for_an_estimated_prompt(user, providers):
    conversation = await sync_to_async(conversation_create)(owner=user, system_prompt="Be brief.")
    # Connected first: a reply that ends before the socket opens would send it nothing to wait for.
    comm = await connect(user, conversation.pk)
    first = await sync_to_async(send_turn)(user=user, conversation=conversation, message="first question",
                                               selected_providers=["gpt"], selected_models={"gpt": "fake-echo"})
    log = StreamLog()
    await collect_until(comm, log, all_ended([first.replies[0].pk]))
    earlier = await Message.objects.aget(pk=first.replies[0].pk)
    second = await sync_to_async(send_turn)(user=user, conversation=conversation, message="second question",
                                                selected_providers=["gpt"],
                                                selected_models={"gpt": "fake-echo;drop_after=2"})
    await collect_until(comm, log, all_ended([second.replies[0].pk]))
    await comm.disconnect()
    reply = await Message.objects.aget(pk=second.replies[0].pk)
    assert reply.prompt_tokens == prompt_estimate("Be brief.", "first question", earlier.content, "second question")


def test_a_reply_dropped_by_its_worker_gets_estimated_usage_from_the_sweep(user, settings):
    settings.WEBOX_REPLY_STALE_SECONDS = 30
    conversation = conversation_create(owner=user)
    stalled = make_turn(conversation, status=ReplyStatus.STREAMING, content="Partial text here", updated_ago=120)
    Message.objects.filter(pk=stalled.pk).update(started_at=stalled.created_at)
    replies_sweep_orphans()
    stalled.refresh_from_db()
    assert stalled.error_code == "orphaned"
    assert stalled.completion_tokens == math.ceil(len("Partial text here") / 4)
    assert stalled.prompt_tokens == prompt_estimate(stalled.reply_to.content)
    assert stalled.usage_estimated is True


LONG = "fake-echo;tokens=400;delay_ms=15"  # six seconds of text


async def start_long_turn(user, message: str):
    """A turn streaming LONG, its socket, and the text seen so far once 40 characters have arrived."""
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    result = await sync_to_async(send_turn)(user=user, conversation=conversation, message=message,
                                            selected_providers=["gpt"], selected_models={"gpt": LONG})
    reply_id = result.replies[0].pk
    await collect_until(comm, log, lambda lg: len(lg.text[reply_id]) >= 40)
    return conversation, comm, log.text[reply_id]


async def month_tokens(user, timeout: float = 10.0) -> int:
    """The user's tokens this month, once the ended reply has been charged."""
    async with asyncio.timeout(timeout):
        while not (row := await MonthlyUsage.objects.filter(user=user).afirst()):
            await asyncio.sleep(0.05)
    return row.tokens


async def test_a_reply_deleted_with_its_conversation_mid_stream_still_counts_against_the_budget(
        user, providers, settings):
    settings.WEBOX_MONTHLY_TOKEN_BUDGET = 1_000_000
    conversation, comm, seen = await start_long_turn(user, "delete me midway")
    client = APIClient()
    client.force_authenticate(user)
    response = await sync_to_async(client.delete)(f"/api/chat/conversations/{conversation.pk}")
    assert response.status_code == 204
    tokens = await month_tokens(user)
    completion = tokens - prompt_estimate("delete me midway")
    assert math.ceil(len(seen) / 4) <= completion < math.ceil(len("".join(expected_reply("x", 400))) / 4)
    await comm.disconnect()


async def test_a_reply_whose_row_goes_without_a_stop_flag_stops_at_its_next_checkpoint_and_is_charged(
        user, providers, settings):
    """A claim that raced its conversation's deletion: nobody raised its stop flag, its row is gone."""
    settings.WEBOX_CHECKPOINT_INTERVAL_MS = 100
    conversation, comm, seen = await start_long_turn(user, "race the delete")
    await Conversation.objects.filter(pk=conversation.pk).adelete()
    tokens = await month_tokens(user, timeout=3.0)  # well before the six seconds of the whole reply
    completion = tokens - prompt_estimate("race the delete")
    assert math.ceil(len(seen) / 4) <= completion < math.ceil(len("".join(expected_reply("x", 400))) / 4)
    await comm.disconnect()


async def test_a_price_set_or_changed_between_two_replies_prices_the_next_one(user, providers):
    """Each process reads a price once per version of it (chat/usage/pricing.py, ``override_at``)."""
    unpriced = (await run_turn(user, "no price yet", {"gpt": SLOW8}))["gpt"]
    assert unpriced.cost is None and unpriced.cost_currency == ""
    price = await ModelPrice.objects.acreate(provider="gpt", model=SLOW8, input_price_per_mtok=Decimal("2"),
                                             output_price_per_mtok=Decimal("10"), currency="EUR")
    priced = (await run_turn(user, "priced now", {"gpt": SLOW8}))["gpt"]
    assert priced.cost == ((Decimal(2) * priced.prompt_tokens + Decimal(80)) / 1_000_000).quantize(Decimal("1e-8"))
    assert priced.cost_currency == "EUR"
    price.output_price_per_mtok, price.currency = Decimal("20"), "USD"
    await price.asave()
    repriced = (await run_turn(user, "priced again", {"gpt": SLOW8}))["gpt"]
    assert repriced.cost == ((Decimal(2) * repriced.prompt_tokens + Decimal(160)) / 1_000_000).quantize(Decimal("1e-8"))
    assert repriced.cost_currency == "USD"
    await ModelPrice.objects.filter(provider="gpt").adelete()
    assert (await run_turn(user, "no price again", {"gpt": SLOW8}))["gpt"].cost is None


async def test_a_provider_key_changed_between_two_replies_is_the_key_the_next_one_sends(user, providers):
    """Each process reads a provider's record once per version of it (chat.providers.provider_config_at)."""
    assert (await run_turn(user, "the first key", {"gpt": SLOW8}))["gpt"].status == ReplyStatus.COMPLETE
    record = await Provider.objects.aget(name="gpt")
    await sync_to_async(provider_set_api_key)(provider=record, api_key="a-key-the-fake-refuses")
    refused = (await run_turn(user, "a rotated key", {"gpt": SLOW8}))["gpt"]
    assert refused.status == ReplyStatus.ERROR and refused.error_code == "auth", refused.error_detail
    await sync_to_async(provider_set_api_key)(provider=record, api_key="test-key")
    assert (await run_turn(user, "the key back", {"gpt": SLOW8}))["gpt"].status == ReplyStatus.COMPLETE
