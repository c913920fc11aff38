"""A reply's first text reaches the socket at once; later text is still coalesced per tick."""

import time

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chat.providers import provider_create
from chat.services import conversation_create
from testing.client import StreamLog
from testing.fake_provider import expected_reply

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


async def send_and_read(user, auth_client, model: str):
    """(seconds from the send to the first delta, the socket's log, the reply's id)."""
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    sent = time.monotonic()
    response = await sync_to_async(auth_client.post)(
        "/api/chat/send", {"conversation_id": conversation.pk, "message": "first one fast",
                           "selected_providers": ["gpt"], "selected_models": {"gpt": model}}, format="json")
    [reply] = response.json()["replies"]
    await collect_until(comm, log, lambda lg: lg.of_type("message.delta"), timeout=10)
    first_after = time.monotonic() - sent
    await collect_until(comm, log, all_ended([reply["id"]]), timeout=10)
    await comm.disconnect()
    return first_after, log, reply["id"]


async def test_the_first_delta_does_not_wait_for_the_flush_tick(user, auth_client, fake_provider, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 1500  # a tick far longer than the provider's first token
    await sync_to_async(provider_create)(name="gpt", kind="openai", api_key="test-key", model_names=["fake-echo"],
                                         default_model="fake-echo", base_url=fake_provider.url)
    # The SDK's first call in a process pays for its lazy imports (about a second here): not measured.
    await send_and_read(user, auth_client, "fake-echo;tokens=2")
    # 60 ms between pieces: the first goes out alone even when this loop is a little late (a loaded machine).
    first_after, log, reply_id = await send_and_read(user, auth_client, "fake-echo;tokens=20;delay_ms=60")
    reply = {"id": reply_id}
    deltas = log.of_type("message.delta")
    assert first_after < 0.75, f"the first delta came {first_after:.2f}s after the send: it waited for the tick"
    assert deltas[0]["seq"] == 1 and deltas[0]["text"] == expected_reply("first one fast")[0]
    # The other 19 pieces came in the ~1.2 s the stream lasted (under one tick): coalesced, not one event each.
    assert len(deltas) <= 3, [d["text"] for d in deltas]
    stored = await Message.objects.aget(pk=reply["id"])
    assert log.text[reply["id"]] == stored.content == "".join(expected_reply("first one fast", 20))
