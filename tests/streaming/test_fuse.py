"""A fused reply streams through the engine like any reply, and its model is sent exactly the fuse prompt."""

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chat.providers import provider_create
from chat.services import conversation_create
from testing.client import StreamLog
from testing.fake_provider import expected_reply

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


async def test_a_fused_reply_is_sent_only_the_prompt_with_the_replies_and_streams(user, auth_client, fake_provider,
                                                                                settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 20
    for name, kind in (("gpt", "openai"), ("claude", "anthropic")):
        await sync_to_async(provider_create)(
            name=name, kind=kind, api_key="test-key", model_names=["fake-echo"], default_model="fake-echo",
            base_url=fake_provider.anthropic_url if kind == "anthropic" else fake_provider.url)
    conversation = await sync_to_async(conversation_create)(owner=user, system_prompt="Answer briefly.")
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    models = {"gpt": "fake-echo;tokens=4", "claude": "fake-echo;tokens=6"}
    sent = (await sync_to_async(auth_client.post)("/api/chat/send", {
        "conversation_id": conversation.pk, "message": "two answers", "selected_providers": list(models),
        "selected_models": models}, format="json")).json()
    await collect_until(comm, log, all_ended([r["id"] for r in sent["replies"]]))
    fake_provider.reset()

    response = await sync_to_async(auth_client.post)(f"/api/chat/messages/{sent['user_message']['id']}/fuse", {
        "provider": "claude", "model": "fake-echo;tokens=5", "prompt": "Fuse for {question}:\n{replies}"},
        format="json")
    assert response.status_code == 202, response.content
    fused = response.json()["reply"]
    await collect_until(comm, log, all_ended([fused["id"]]))

    texts = ["".join(expected_reply("two answers", 4)), "".join(expected_reply("two answers", 6))]
    prompt = (f'Fuse for two answers:\n<reply number="1">\n{texts[0]}\n</reply>\n\n'
              f'<reply number="2">\n{texts[1]}\n</reply>')
    [request] = fake_provider.chat_requests()
    assert "system" not in request["json"]
    assert [(m["role"], m["content"] if isinstance(m["content"], str) else m["content"][0]["text"])
            for m in request["json"]["messages"]] == [("user", prompt)]
    stored = await Message.objects.aget(pk=fused["id"])
    assert (stored.status, stored.content, stored.column) == ("complete", "".join(expected_reply(prompt, 5)), "fuse")
    assert stored.fuse["prompt"] == prompt
    await comm.disconnect()
