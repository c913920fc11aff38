"""GET /api/chat/providers: enabled providers and their models, never a key."""


import pytest

from chat.providers import (
    provider_create,
)
from tests.providers.conftest import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]

def test_providers_api_lists_enabled_providers_with_models_and_defaults(auth_client):
    provider_create(name="groq", kind="openai", base_url="https://api.groq.com/openai/v1", api_key=SECRET,
                    model_names=["llama-a", "llama-b"], default_model="llama-b")
    provider_create(name="off", kind="openai", enabled=False, model_names=["x"])

    response = auth_client.get("/api/chat/providers")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "demo", "kind": "demo", "models": ["demo-echo", "demo-markdown"], "default_model": "demo-echo",
         "accepts": ["max_tokens"]},
        {"name": "groq", "kind": "openai", "models": ["llama-a", "llama-b"], "default_model": "llama-b",
         "accepts": ["temperature", "max_tokens", "system_prompt"]},
    ]


def test_providers_api_requires_authentication(api_client):
    assert api_client.get("/api/chat/providers").status_code == 401


def test_providers_api_never_returns_keys_or_base_urls(auth_client, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env-secret-99887766")
    monkeypatch.setenv("ANTHROPIC_MODELS", "claude-x")
    provider_create(name="groq", kind="openai", base_url="https://secret-gateway.example.com/v1", api_key=SECRET,
                    model_names=["m"])

    body = auth_client.get("/api/chat/providers").content.decode()
    assert SECRET not in body and "sk-ant-env-secret-99887766" not in body
    assert "secret-gateway" not in body and "api.anthropic.com" not in body
    assert "api_key" not in body and "base_url" not in body


def test_providers_api_lists_the_endpoint_models_when_none_are_configured(auth_client, fake_provider, monkeypatch):
    fake_provider.models = ["fake-echo", "fake-echo;tokens=3"]
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")

    [openai] = [p for p in auth_client.get("/api/chat/providers").json() if p["name"] == "openai"]
    assert openai == {"name": "openai", "kind": "openai", "models": ["fake-echo", "fake-echo;tokens=3"],
                      "default_model": "fake-echo", "accepts": ["temperature", "max_tokens", "system_prompt"]}
