"""A provider's key never reaches an error or a log line."""

import logging

import pytest
from asgiref.sync import async_to_sync

from chat.providers import (
    ChatMessage,
    ChatRequest,
    ErrorCode,
    ProviderError,
    build_provider,
    get_provider_config,
    provider_create,
)
from tests.providers.conftest import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]

def test_key_is_absent_from_errors_and_logs(fake_provider, caplog, settings):
    caplog.set_level(logging.DEBUG)
    settings.WEBOX_PROVIDER_MAX_RETRIES = 2
    settings.WEBOX_PROVIDER_BACKOFF_BASE = 0.01
    provider_create(name="fake", kind="openai", base_url=fake_provider.url, api_key=SECRET)
    config = get_provider_config("fake")

    def fail(model: str) -> ProviderError:
        stream = build_provider(config).stream(ChatRequest(model=model, messages=(ChatMessage("user", "x"),)))
        with pytest.raises(ProviderError) as caught:
            async_to_sync(_drain)(stream)
        return caught.value

    fake_provider.api_key = SECRET
    retried = fail("fake-echo;error=503")
    fake_provider.api_key = "another-key"
    rejected = fail("fake-echo")

    assert (retried.code, rejected.code) == (ErrorCode.UPSTREAM_ERROR, ErrorCode.AUTH)
    assert fake_provider.chat_requests()[0]["headers"]["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in str(retried) + str(rejected)
    assert "retry 2" in caplog.text  # the retries were logged, without the key
    assert SECRET not in caplog.text


async def _drain(stream):
    async for _ in stream:
        pass
