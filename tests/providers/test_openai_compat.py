"""The OpenAI-compatible adapter against the fake server, through the real ``openai`` SDK."""

import time

import pytest

from chat.providers.base import ChatMessage, ChatRequest, ErrorCode, ProviderConfig, ProviderError, Retrying
from chat.providers.openai_compat import OpenAIProvider
from chat.providers.registry import build_provider
from testing.fake_provider import expected_reply
from tests.providers.conftest import ask, closed_port, collect, failure

pytestmark = pytest.mark.usefixtures("fast_policy")


@pytest.fixture
def provider(fake_provider):
    return build_provider(ProviderConfig(name="fake", kind="openai", base_url=fake_provider.url, api_key="test-key"))


async def test_streams_text_and_usage(provider):
    pieces, result = await collect(provider, ask("fake-echo;delay_ms=5", "what is the weather"))

    assert pieces == expected_reply("what is the weather")
    assert result.finish_reason == "stop"
    assert result.prompt_tokens == 4
    assert result.completion_tokens == len(pieces)
    assert result.ttft_ms is not None and 0 <= result.ttft_ms <= result.duration_ms


async def test_sends_the_exact_chat_completions_payload(provider, fake_provider):
    request = ChatRequest(
        model="fake-echo",
        messages=(ChatMessage("user", "hi"), ChatMessage("assistant", "hello"), ChatMessage("user", "again")),
        system_prompt="Be brief.", temperature=0.3, max_tokens=50,
    )
    await collect(provider, request)

    [sent] = fake_provider.chat_requests()
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer test-key"
    assert sent["json"] == {
        "model": "fake-echo",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "again"},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.3,
        "max_tokens": 50,
    }


def test_api_openai_com_gets_max_completion_tokens():
    provider = OpenAIProvider(ProviderConfig(name="openai", kind="openai", api_key="k"))
    assert provider._parameters(ask("gpt", max_tokens=5)) == {"max_completion_tokens": 5}


async def test_max_tokens_stop_reports_length(provider):
    pieces, result = await collect(provider, ask("fake-echo;tokens=10", max_tokens=3))

    assert pieces == expected_reply("hello there", 10)[:3]
    assert result.finish_reason == "length"
    assert result.completion_tokens == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, ErrorCode.BAD_REQUEST), (403, ErrorCode.AUTH), (404, ErrorCode.MODEL_NOT_FOUND),
     (429, ErrorCode.RATE_LIMITED), (500, ErrorCode.UPSTREAM_ERROR), (503, ErrorCode.UPSTREAM_ERROR)],
    ids=["context-too-long", "forbidden", "model-not-found", "rate-limited", "server-error", "overloaded"],
)
async def test_error_bodies_become_error_codes(provider, settings, status, code):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    error = await failure(provider, ask(f"fake-echo;error={status}"))

    assert error.code == code
    assert error.retryable == (code in (ErrorCode.RATE_LIMITED, ErrorCode.UPSTREAM_ERROR))


async def test_context_too_long_keeps_the_upstream_message(provider):
    error = await failure(provider, ask("fake-echo;error=400"))
    assert error.code == ErrorCode.BAD_REQUEST
    assert "maximum context length" in error.detail
    assert not error.retryable


async def test_unknown_model_is_model_not_found(provider, fake_provider):
    error = await failure(provider, ask("no-such-model"))
    assert error.code == ErrorCode.MODEL_NOT_FOUND
    assert len(fake_provider.chat_requests()) == 1


async def test_wrong_key_is_auth_error_that_does_not_quote_the_key(fake_provider):
    provider = build_provider(ProviderConfig(name="x", kind="openai", base_url=fake_provider.url,
                                             api_key="sk-wrong-secret-1234"))
    error = await failure(provider, ask("fake-echo"))

    assert error.code == ErrorCode.AUTH and not error.retryable
    assert "sk-wrong-secret-1234" not in str(error)
    assert len(fake_provider.chat_requests()) == 1


async def test_rate_limit_reports_retry_after_beyond_the_budget(provider, fake_provider):
    error = await failure(provider, ask("fake-echo;error=429;retry_after=7"))

    assert error.code == ErrorCode.RATE_LIMITED
    assert error.retry_after == 7.0
    assert len(fake_provider.chat_requests()) == 1


async def test_transient_errors_before_the_first_token_are_retried(provider, fake_provider):
    pieces, result = await collect(provider, ask("fake-echo;error=503;fail_times=2"))

    assert pieces == expected_reply("hello there")
    assert result.finish_reason == "stop"
    assert len(fake_provider.chat_requests()) == 3


async def test_retry_waits_for_retry_after(provider, fake_provider):
    started = time.monotonic()
    pieces, _ = await collect(provider, ask("fake-echo;error=429;retry_after=1;fail_times=1"))

    assert time.monotonic() - started >= 1.0
    assert pieces == expected_reply("hello there")
    assert len(fake_provider.chat_requests()) == 2


async def test_each_retry_is_announced_before_its_wait(provider, fake_provider):
    retries: list[Retrying] = []
    pieces, _ = await collect(provider, ask("fake-echo;error=503;fail_times=2"), retries=retries)

    assert [(r.retry, r.max_retries, r.code) for r in retries] == [
        (1, 3, ErrorCode.UPSTREAM_ERROR), (2, 3, ErrorCode.UPSTREAM_ERROR)]
    # Backoff from 0.01 s (fast_policy), doubling, jittered down by at most a quarter.
    assert 0.0075 <= retries[0].delay <= 0.01 and 0.015 <= retries[1].delay <= 0.02
    assert pieces == expected_reply("hello there")


async def test_a_retry_announces_the_retry_after_it_waits_for(provider, settings):
    # Timers far from what a loaded machine takes: this test is about the announcement, and a first
    # attempt slower than fast_policy's 1 s would be a timeout retry, not the rate limit's.
    settings.WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT = 20.0
    settings.WEBOX_PROVIDER_RETRY_BUDGET = 60.0
    retries: list[Retrying] = []
    started = time.monotonic()
    await collect(provider, ask("fake-echo;error=429;retry_after=1;fail_times=1"), retries=retries)

    assert retries == [Retrying(retry=1, max_retries=3, code=ErrorCode.RATE_LIMITED, delay=1.0)]
    assert time.monotonic() - started >= 1.0


async def test_an_error_that_is_not_retried_announces_no_retry(provider, settings):
    seen = []
    with pytest.raises(ProviderError):
        async for item in provider.stream(ask("fake-echo;error=400")):
            seen.append(item)
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    with pytest.raises(ProviderError):
        async for item in provider.stream(ask("fake-echo;error=503")):
            seen.append(item)

    assert seen == []


async def test_the_last_retry_allowed_is_announced_then_the_error_reaches_the_caller(provider):
    seen = []
    with pytest.raises(ProviderError) as caught:
        async for item in provider.stream(ask("fake-echo;error=500")):
            seen.append(item)

    assert [(r.retry, r.max_retries) for r in seen] == [(1, 3), (2, 3), (3, 3)]
    assert caught.value.code == ErrorCode.UPSTREAM_ERROR


async def test_retries_stop_at_max_retries(provider, fake_provider):
    error = await failure(provider, ask("fake-echo;error=500"))

    assert error.code == ErrorCode.UPSTREAM_ERROR
    assert len(fake_provider.chat_requests()) == 1 + 3


async def test_retries_stop_at_the_retry_budget(provider, fake_provider, settings):
    settings.WEBOX_PROVIDER_RETRY_BUDGET = 1.5
    error = await failure(provider, ask("fake-echo;error=503;retry_after=1"))

    assert error.code == ErrorCode.UPSTREAM_ERROR
    assert len(fake_provider.chat_requests()) == 2


async def test_hang_before_the_first_token_hits_the_first_token_timeout(provider, settings):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    started = time.monotonic()
    error = await failure(provider, ask("fake-echo;hang_before=1"))

    assert error.code == ErrorCode.TIMEOUT
    assert "first-token" in error.detail
    assert 0.9 <= time.monotonic() - started < 3


async def test_hang_before_the_response_headers_hits_the_first_token_timeout(provider, settings):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    error = await failure(provider, ask("fake-echo;hang_before=headers"))
    assert error.code == ErrorCode.TIMEOUT


async def test_hang_after_the_first_token_hits_the_idle_timeout_without_retry(provider, fake_provider):
    pieces: list[str] = []
    error = await failure(provider, ask("fake-echo;hang_after=2"), pieces)

    assert error.code == ErrorCode.TIMEOUT
    assert "idle" in error.detail
    assert pieces == expected_reply("hello there")[:2]
    assert len(fake_provider.chat_requests()) == 1


async def test_slow_but_steady_stream_is_not_an_idle_timeout(provider):
    pieces, result = await collect(provider, ask("fake-echo;tokens=4;delay_ms=300;ttft_ms=700"))
    assert len(pieces) == 4 and result.finish_reason == "stop"


async def test_drop_mid_stream_is_connection_lost_without_retry(provider, fake_provider):
    pieces: list[str] = []
    error = await failure(provider, ask("fake-echo;drop_after=3"), pieces)

    assert error.code == ErrorCode.CONNECTION_LOST
    assert pieces == expected_reply("hello there")[:3]
    assert len(fake_provider.chat_requests()) == 1


async def test_error_event_after_the_first_token_is_not_retried(provider, fake_provider):
    pieces: list[str] = []
    error = await failure(provider, ask("fake-echo;error=500;error_after=2"), pieces)

    assert error.code == ErrorCode.UPSTREAM_ERROR
    assert len(pieces) == 2
    assert len(fake_provider.chat_requests()) == 1


async def test_unreachable_endpoint_is_connection_lost(settings):
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    port = closed_port()
    provider = build_provider(ProviderConfig(name="x", kind="openai", base_url=f"http://127.0.0.1:{port}/v1"))
    error = await failure(provider, ask("fake-echo"))

    assert error.code == ErrorCode.CONNECTION_LOST and error.retryable


async def test_list_models_reads_the_models_listing(provider, fake_provider):
    fake_provider.models = ["fake-echo", "fake-echo;tokens=3"]
    assert await provider.list_models() == ["fake-echo", "fake-echo;tokens=3"]


async def test_keyless_endpoint_never_gets_the_environment_key(fake_provider, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    fake_provider.api_key = "no-key"
    provider = build_provider(ProviderConfig(name="ollama", kind="openai", base_url=fake_provider.url))
    await collect(provider, ask("fake-echo"))

    [sent] = fake_provider.chat_requests()
    assert sent["headers"]["authorization"] == "Bearer no-key"


async def test_the_payload_passed_past_the_sdks_transform_is_one_the_transform_leaves_unchanged():
    # The adapter hands its messages and parameters to the SDK as extra_body, which is sent as it is:
    # the SDK's transform of its typed params walked every message and changed nothing of ours.
    from openai._utils._transform import async_maybe_transform
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

    from chat.providers.base import ChatImage
    from chat.providers.openai_compat import openai_messages

    request = ChatRequest(
        model="gpt", system_prompt="Be brief.", temperature=0.3, max_tokens=50,
        messages=(ChatMessage("user", "look", images=(ChatImage("image/png", b"\x89PNG"),)),
                  ChatMessage("assistant", "a cat"), ChatMessage("user", "again")),
    )
    provider = OpenAIProvider(ProviderConfig(name="openai", kind="openai", api_key="k"))
    payload = {"model": "gpt", "messages": openai_messages(request), "stream": True,
               "stream_options": {"include_usage": True}, **provider._parameters(request)}
    assert await async_maybe_transform(payload, CompletionCreateParamsStreaming) == payload
