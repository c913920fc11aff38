"""What each SDK sends for attachments, checked on the fake provider: image bytes, PDF text, vision."""

from __future__ import annotations

import base64
import json
import time

import pytest

from chat.attachments.vision import sees_images
from chat.models import Message, ReplyStatus, VisionModel
from chat.providers import provider_create
from chat.providers.base import ChatImage, ChatMessage, ChatRequest, ProviderConfig
from chat.providers.registry import build_provider
from testing.fake_provider import sent_images, sent_text
from tests.chat.attachments.conftest import PDF_TEXT, pdf_bytes, png_bytes
from tests.conftest import send_turn
from tests.providers.conftest import collect

PNG = png_bytes((3, 2))


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_each_adapter_sends_images_in_its_own_content_part_format(fake_provider, kind):
    url = fake_provider.anthropic_url if kind == "anthropic" else fake_provider.url
    provider = build_provider(ProviderConfig(name="p", kind=kind, base_url=url, api_key="test-key"))
    request = ChatRequest(model="fake-echo", messages=(
        ChatMessage("user", "what is this?", images=(ChatImage("image/png", PNG, "dot.png"),)),))

    await collect(provider, request)

    [sent] = fake_provider.chat_requests()
    [message] = sent["json"]["messages"]
    encoded = base64.b64encode(PNG).decode()
    if kind == "openai":
        assert message["content"] == [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
        ]
    else:
        assert message["content"] == [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}},
            {"type": "text", "text": "what is this?"},
        ]
    assert sent_images(message) == [("image/png", PNG)]


def test_the_vision_table_builtin_environment_and_admin(db, settings):
    assert sees_images("openai", "gpt-4o-mini") and sees_images("anthropic", "claude-sonnet-4-5")
    assert sees_images("openrouter", "openai/gpt-4o")
    assert not sees_images("openai", "gpt-3.5-turbo") and not sees_images("ollama", "llama3.1")

    settings.WEBOX_VISION_MODELS = json.dumps({"ollama": ["llama3*"]})
    assert sees_images("ollama", "llama3.1") and not sees_images("other", "llama3.1")

    VisionModel.objects.create(provider="ollama", model_pattern="llama3.1", sees_images=False)
    VisionModel.objects.create(provider="*", model_pattern="my-vl-*")
    assert not sees_images("ollama", "llama3.1") and sees_images("ollama", "llama3.2")
    assert sees_images("any", "my-vl-7b")


def wait_ended(reply_ids, timeout=60.0) -> dict[int, Message]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = {m.pk: m for m in Message.objects.filter(pk__in=reply_ids)}
        if all(not m.is_active for m in replies.values()):
            return replies
        time.sleep(0.05)
    raise AssertionError("replies did not end")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_process_runner")
def test_three_columns_get_the_image_and_pdf_as_their_models_can_take_them(fake_provider, user, post_file,
                                                                          settings):
    settings.WEBOX_VISION_MODELS = json.dumps({"*": ["fake-echo;id=vision"]})
    for name, kind in (("gpt", "openai"), ("claude", "anthropic"), ("local", "openai")):
        provider_create(name=name, kind=kind, api_key="test-key", model_names=["fake-echo"], default_model="fake-echo",
                        base_url=fake_provider.anthropic_url if kind == "anthropic" else fake_provider.url)
    image = post_file("chart.png", PNG).json()["id"]
    pdf = post_file("report.pdf", pdf_bytes()).json()["id"]
    models = {"gpt": "fake-echo;id=vision", "claude": "fake-echo;id=vision", "local": "fake-echo"}

    first = send_turn(user=user, conversation=None, message="Summarise these", selected_providers=list(models),
                      selected_models=models, attachments=[image, pdf])
    replies = wait_ended([r.pk for r in first.replies])
    assert all(r.status == ReplyStatus.COMPLETE for r in replies.values()), [r.error_detail for r in replies.values()]

    by_path = {r["path"]: [] for r in fake_provider.chat_requests()}
    for r in fake_provider.chat_requests():
        by_path[r["path"]].append(r["json"])
    [claude] = by_path["/anthropic/v1/messages"]
    openai_calls = {call["model"]: call for call in by_path["/v1/chat/completions"]}
    gpt, local = openai_calls["fake-echo;id=vision"], openai_calls["fake-echo"]
    for call in (gpt, claude):
        [question] = call["messages"]
        assert sent_images(question) == [("image/png", PNG)]
        assert PDF_TEXT in sent_text(question) and '<<<attachment "report.pdf" (PDF, its text)' in sent_text(question)
    [question] = local["messages"]
    assert question["content"].startswith("Summarise these")
    assert sent_images(question) == []
    assert PDF_TEXT in question["content"]
    assert '"chart.png", was attached here; this model cannot see images' in question["content"]
    # The PDF's text is counted in the estimate the context is trimmed (and priced) by.
    assert replies[first.replies[2].pk].prompt_tokens >= len(PDF_TEXT) // 4

    fake_provider.reset()
    second = send_turn(user=user, conversation=first.conversation, message="And now?",
                       selected_providers=["claude"], selected_models={"claude": "fake-echo;id=vision"})
    wait_ended([r.pk for r in second.replies])
    [call] = fake_provider.chat_requests()
    earlier, _, latest = call["json"]["messages"]
    assert sent_images(earlier) == [("image/png", PNG)] and PDF_TEXT in sent_text(earlier)
    assert sent_text(latest) == "And now?"
