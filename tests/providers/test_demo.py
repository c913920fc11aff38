"""The offline demo provider: no key, no network, a deterministic reply."""

import pytest

from chat.providers.base import ChatMessage, ChatRequest, StreamResult
from chat.providers.demo import DEMO_MODELS, demo_reply_text, split_tokens
from chat.providers.registry import build_provider, get_provider_config, provider_configs

pytestmark = pytest.mark.django_db

PROVIDER_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OLLAMA_BASE_URL")


@pytest.fixture(autouse=True)
def nothing_configured(monkeypatch, settings):
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    settings.WEBOX_DEMO_DELAY_MS = 0


async def collect(provider, request):
    pieces = []
    async for item in provider.stream(request):
        if isinstance(item, StreamResult):
            return pieces, item
        pieces.append(item.text)
    raise AssertionError("no StreamResult")


def test_demo_is_the_only_provider_with_nothing_configured():
    assert [(c.name, c.kind, c.models, c.default_model) for c in provider_configs()] == [
        ("demo", "demo", DEMO_MODELS, "demo-echo")
    ]


def test_demo_can_be_turned_off(settings):
    settings.WEBOX_DEMO_PROVIDER = False
    assert get_provider_config("demo") is None


async def test_demo_streams_a_labelled_reply_quoting_the_last_message():
    request = ChatRequest(model="demo-echo", messages=(ChatMessage("user", "Is it   raining?"),))
    provider = build_provider(await _demo_config())
    pieces, result = await collect(provider, request)

    text = "".join(pieces)
    assert text == demo_reply_text(request)
    assert "Demo reply" in text and "“Is it raining?”" in text
    assert result.finish_reason == "stop"
    assert result.completion_tokens == len(pieces) == len(split_tokens(text))
    assert result.prompt_tokens == 3


async def test_demo_max_tokens_stop_reports_length():
    request = ChatRequest(model="demo-echo", messages=(ChatMessage("user", "hello"),), max_tokens=4)
    pieces, result = await collect(build_provider(await _demo_config()), request)

    assert len(pieces) == 4
    assert result.finish_reason == "length"


async def test_demo_markdown_model_adds_a_table_and_code():
    request = ChatRequest(model="demo-markdown", messages=(ChatMessage("user", "two words"),))
    pieces, _ = await collect(build_provider(await _demo_config()), request)

    text = "".join(pieces)
    assert "| words | 2 |" in text and "```python" in text


async def test_demo_lists_its_models():
    assert await build_provider(await _demo_config()).list_models() == list(DEMO_MODELS)


async def _demo_config():
    from asgiref.sync import sync_to_async

    return await sync_to_async(get_provider_config)("demo")
