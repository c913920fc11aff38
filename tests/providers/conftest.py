"""Shared helpers of the provider tests: driving one adapter directly, and a clean provider environment."""

import pytest
from django.db import connection

from chat.providers import ChatMessage, ChatRequest, ProviderError, Retrying, StreamResult
from testing.processes import free_port


def ask(model: str, text: str = "hello there", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), **fields)


async def collect(provider, request, into: list[str] | None = None, *,
                  retries: list[Retrying] | None = None) -> tuple[list[str], StreamResult]:
    """The text pieces and the final result; ``into`` keeps the pieces even if the stream fails,
    ``retries`` the ``Retrying`` items (which must all come before the first piece)."""
    pieces = [] if into is None else into
    async for item in provider.stream(request):
        if isinstance(item, StreamResult):
            return pieces, item
        if isinstance(item, Retrying):
            assert not pieces, "a retry after text arrived"
            if retries is not None:
                retries.append(item)
            continue
        pieces.append(item.text)
    raise AssertionError("the stream ended without a StreamResult")


def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then released)."""
    return free_port()


async def failure(provider, request, into: list[str] | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await collect(provider, request, into)
    return caught.value


SECRET = "sk-live-0123456789abcdefWXYZ"
PROVIDER_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODELS", "OPENAI_DEFAULT_MODEL", "OPENAI_ALLOWED_MODELS",
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODELS", "ANTHROPIC_DEFAULT_MODEL",
    "ANTHROPIC_ALLOWED_MODELS",
    "OLLAMA_BASE_URL", "OLLAMA_MODELS", "OLLAMA_DEFAULT_MODEL", "OLLAMA_ALLOWED_MODELS",
)


@pytest.fixture
def clean_environment(monkeypatch, settings):
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    settings.WEBOX_ENCRYPTION_KEYS = []
    settings.WEBOX_PROVIDER_MAX_RETRIES = 0
    settings.WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT = 2.0
    settings.WEBOX_PROVIDER_IDLE_TIMEOUT = 1.0


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def stored_key(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key_encrypted FROM chat_provider WHERE name = %s", [name])
        return cursor.fetchone()[0]
