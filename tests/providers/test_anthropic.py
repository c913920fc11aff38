"""The Anthropic adapter against the fake server, through the real ``anthropic`` SDK."""

import time

import pytest

from chat.providers.anthropic_messages import DEFAULT_MAX_TOKENS, LEADING_USER_PLACEHOLDER
from chat.providers.base import ChatMessage, ChatRequest, ErrorCode, ProviderConfig
from chat.providers.registry import build_provider
from testing.fake_provider import expected_reply
from tests.providers.conftest import ask, closed_port, collect, failure

pytestmark = pytest.mark.usefixtures("fast_policy")


@pytest.fixture
def provider(fake_provider):
    return build_provider(ProviderConfig(name="claude", kind="anthropic", base_url=fake_provider.anthropic_url,
                                         api_key="test-key"))


async def test_streams_text_and_usage(provider):
    pieces, result = await collect(provider, ask("fake-echo;delay_ms=5", "what is the weather"))

    assert pieces == expected_reply("what is the weather")
    assert result.finish_reason == "stop"
    assert result.prompt_tokens == 4
    assert result.completion_tokens == len(pieces)
    assert result.ttft_ms is not None and 0 <= result.ttft_ms <= result.duration_ms


async def test_system_prompt_is_top_level_and_roles_alternate_from_a_user_turn(provider, fake_provider):
    request = ChatRequest(
        model="fake-echo",
        messages=(
            ChatMessage("assistant", "Welcome!"),
            ChatMessage("user", "first"),
            ChatMessage("user", "second"),
            ChatMessage("assistant", ""),
            ChatMessage("assistant", "answer"),
            ChatMessage("user", "third"),
        ),
        system_prompt="Be brief.", temperature=0.2, max_tokens=64,
    )
    await collect(provider, request)

    [sent] = fake_provider.chat_requests()
    assert sent["path"] == "/anthropic/v1/messages"
    assert sent["json"] == {
        "model": "fake-echo",
        "system": "Be brief.",
        "max_tokens": 64,
        "stream": True,
        "messages": [
            {"role": "user", "content": LEADING_USER_PLACEHOLDER},
            {"role": "assistant", "content": "Welcome!"},
            {"role": "user", "content": "first\n\nsecond"},
            {"role": "assistant", "content": "answer"},
            {"role": "user", "content": "third"},
        ],
    }


async def test_sends_the_key_and_the_api_version(provider, fake_provider):
    await collect(provider, ask("fake-echo"))

    [sent] = fake_provider.chat_requests()
    assert sent["headers"]["authorization"] == "Bearer test-key"
    assert sent["headers"]["anthropic-version"]


async def test_max_tokens_defaults_when_unset(provider, fake_provider):
    await collect(provider, ask("fake-echo"))
    assert fake_provider.chat_requests()[0]["json"]["max_tokens"] == DEFAULT_MAX_TOKENS


async def test_max_tokens_stop_reports_length(provider):
    pieces, result = await collect(provider, ask("fake-echo;tokens=10", max_tokens=3))

    assert pieces == expected_reply("hello there", 10)[:3]
    assert result.finish_reason == "length"
    assert result.completion_tokens == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, ErrorCode.BAD_REQUEST), (403, ErrorCode.AUTH), (404, ErrorCode.MODEL_NOT_FOUND),
     (413, ErrorCode.BAD_REQUEST), (429, ErrorCode.RATE_LIMITED), (500, ErrorCode.UPSTREAM_ERROR),
     (529, ErrorCode.UPSTREAM_ERROR)],
    ids=["prompt-too-long", "permission", "model-not-found", "too-large", "rate-limited", "api-error", "overloaded"],
)
async def test_error_bodies_become_error_codes(provider, settings, status, code):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    error = await failure(provider, ask(f"fake-echo;error={status}"))

    assert error.code == code
    assert error.retryable == (code in (ErrorCode.RATE_LIMITED, ErrorCode.UPSTREAM_ERROR))


async def test_prompt_too_long_keeps_the_upstream_message(provider):
    error = await failure(provider, ask("fake-echo;error=400"))
    assert error.code == ErrorCode.BAD_REQUEST
    assert "prompt is too long" in error.detail


async def test_unknown_model_is_model_not_found(provider):
    error = await failure(provider, ask("claude-nonexistent"))
    assert error.code == ErrorCode.MODEL_NOT_FOUND


async def test_wrong_key_is_auth_error_that_does_not_quote_the_key(fake_provider):
    provider = build_provider(ProviderConfig(name="x", kind="anthropic", base_url=fake_provider.anthropic_url,
                                             api_key="sk-ant-wrong-secret-1234"))
    error = await failure(provider, ask("fake-echo"))

    assert error.code == ErrorCode.AUTH and not error.retryable
    assert "sk-ant-wrong-secret-1234" not in str(error)
    assert len(fake_provider.chat_requests()) == 1


async def test_rate_limit_reports_retry_after_beyond_the_budget(provider, fake_provider):
    error = await failure(provider, ask("fake-echo;error=429;retry_after=9"))

    assert error.code == ErrorCode.RATE_LIMITED
    assert error.retry_after == 9.0
    assert len(fake_provider.chat_requests()) == 1


async def test_overloaded_before_the_first_token_is_retried(provider, fake_provider):
    pieces, _ = await collect(provider, ask("fake-echo;error=529;fail_times=2"))

    assert pieces == expected_reply("hello there")
    assert len(fake_provider.chat_requests()) == 3


async def test_retry_waits_for_retry_after(provider, fake_provider):
    started = time.monotonic()
    pieces, _ = await collect(provider, ask("fake-echo;error=429;retry_after=1;fail_times=1"))

    assert time.monotonic() - started >= 1.0
    assert pieces == expected_reply("hello there")


async def test_hang_before_the_first_token_hits_the_first_token_timeout(provider, settings):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    started = time.monotonic()
    error = await failure(provider, ask("fake-echo;hang_before=1"))

    assert error.code == ErrorCode.TIMEOUT
    assert 0.9 <= time.monotonic() - started < 3


async def test_hang_after_the_first_token_hits_the_idle_timeout_without_retry(provider, fake_provider):
    pieces: list[str] = []
    error = await failure(provider, ask("fake-echo;hang_after=2"), pieces)

    assert error.code == ErrorCode.TIMEOUT
    assert pieces == expected_reply("hello there")[:2]
    assert len(fake_provider.chat_requests()) == 1


async def test_drop_mid_stream_is_connection_lost_without_retry(provider, fake_provider):
    pieces: list[str] = []
    error = await failure(provider, ask("fake-echo;drop_after=3"), pieces)

    assert error.code == ErrorCode.CONNECTION_LOST
    assert pieces == expected_reply("hello there")[:3]
    assert len(fake_provider.chat_requests()) == 1


async def test_unreachable_endpoint_is_connection_lost_not_timeout(settings):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    port = closed_port()
    provider = build_provider(ProviderConfig(name="x", kind="anthropic", base_url=f"http://127.0.0.1:{port}"))
    error = await failure(provider, ask("fake-echo"))

    assert error.code == ErrorCode.CONNECTION_LOST and error.retryable


async def test_error_event_mid_stream_is_upstream_error_without_retry(provider, fake_provider):
    pieces: list[str] = []
    error = await failure(provider, ask("fake-echo;error=529;error_after=1"), pieces)

    assert error.code == ErrorCode.UPSTREAM_ERROR
    assert len(pieces) == 1
    assert len(fake_provider.chat_requests()) == 1


async def test_list_models_reads_the_models_listing(provider, fake_provider):
    fake_provider.models = ["claude-fake-1", "fake-echo"]
    assert await provider.list_models() == ["claude-fake-1", "fake-echo"]


async def test_same_model_name_streams_the_same_text_in_both_formats(provider, fake_provider):
    openai = build_provider(ProviderConfig(name="o", kind="openai", base_url=fake_provider.url, api_key="test-key"))
    request = ask("fake-echo;tokens=7", "one two")

    assert (await collect(provider, request))[0] == (await collect(openai, request))[0] == expected_reply("one two", 7)
