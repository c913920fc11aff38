"""A reply's total deadline and size cap: a provider that trickles text cannot hold a reply open."""

import time

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from chat.services import conversation_create
from testing.fake_provider import expected_reply

from .conftest import all_ended, collect_until
from .test_engine import open_socket, rest_send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture
def gpt(fake_provider, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 20
    return provider_create(name="gpt", kind="openai", api_key="test-key", base_url=fake_provider.url,
                           model_names=["fake-echo"], default_model="fake-echo")


async def send_and_wait(user, auth_client, message: str, model: str) -> tuple[Message, dict]:
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm, log = await open_socket(user, conversation.pk)
    body = await rest_send(auth_client, conversation_id=conversation.pk, message=message,
                           selected_providers=["gpt"], selected_models={"gpt": model})
    reply_id = body["replies"][0]["id"]
    await collect_until(comm, log, all_ended([reply_id]))
    await comm.disconnect()
    return await Message.objects.aget(pk=reply_id), log.ended[reply_id]


async def test_a_trickling_reply_ends_at_its_deadline_with_its_text_and_usage(user, auth_client, gpt, settings):
    settings.WEBOX_REPLY_DEADLINE_SECONDS = 1.5
    started = time.monotonic()
    reply, ended = await send_and_wait(user, auth_client, "trickle", "fake-echo;tokens=1000;delay_ms=50")
    assert time.monotonic() - started < 5
    assert (reply.status, reply.error_code) == (ReplyStatus.ERROR, "deadline_exceeded")
    assert "1.5 seconds" in reply.error_detail
    pieces = expected_reply("trickle", 1000)
    assert reply.content and "".join(pieces).startswith(reply.content), (reply.error_code, reply.error_detail)
    assert len(reply.content) < len("".join(pieces))
    assert reply.completion_tokens and reply.prompt_tokens
    assert ended["type"] == "message.error" and ended["content"] == reply.content


async def test_a_reply_past_the_size_cap_ends_as_too_long_cut_at_the_cap(user, auth_client, gpt, settings):
    settings.WEBOX_REPLY_MAX_CHARS = 50
    reply, ended = await send_and_wait(user, auth_client, "a long one", "fake-echo;tokens=1000")
    assert (reply.status, reply.error_code) == (ReplyStatus.ERROR, "too_long")
    assert reply.content == "".join(expected_reply("a long one", 1000))[:50]
    assert reply.completion_tokens
    assert ended["content"] == reply.content


async def test_a_reply_within_both_limits_completes(user, auth_client, gpt, settings):
    settings.WEBOX_REPLY_DEADLINE_SECONDS = 5
    settings.WEBOX_REPLY_MAX_CHARS = len("".join(expected_reply("just fits")))
    reply, _ = await send_and_wait(user, auth_client, "just fits", "fake-echo;delay_ms=10")
    assert reply.status == ReplyStatus.COMPLETE
    assert reply.content == "".join(expected_reply("just fits"))
