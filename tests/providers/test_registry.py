"""Where providers come from: the environment, records, and their base URLs."""


import pytest
from django.core.exceptions import ValidationError

from chat.providers import (
    ChatMessage,
    ChatRequest,
    StreamResult,
    build_provider,
    get_provider_config,
    provider_configs,
    provider_create,
    provider_delete,
    provider_update,
    registry,
)
from testing.fake_provider import expected_reply
from tests.providers.conftest import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]

def test_environment_providers(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_MODELS", "gpt-a, gpt-b")
    monkeypatch.setenv("OPENAI_DEFAULT_MODEL", "gpt-b")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://proxy.internal:8080")
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://ollama:11434")

    configs = {c.name: c for c in provider_configs()}
    assert set(configs) == {"demo", "openai", "anthropic", "ollama"}
    assert (configs["openai"].base_url, configs["openai"].models, configs["openai"].default_model) == (
        "https://api.openai.com/v1", ("gpt-a", "gpt-b"), "gpt-b")
    assert configs["openai"].api_key == SECRET
    assert (configs["anthropic"].kind, configs["anthropic"].base_url) == ("anthropic", "http://proxy.internal:8080")
    assert (configs["ollama"].kind, configs["ollama"].base_url, configs["ollama"].api_key) == (
        "openai", "http://ollama:11434/v1", "")


def test_record_wins_over_environment_provider_of_the_same_name(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    provider_create(name="openai", kind="openai", base_url="https://gateway.example.com/v1", api_key="db-key-1234",
                    model_names=["m1"])

    config = get_provider_config("openai")
    assert (config.source, config.base_url, config.api_key, config.models) == (
        "db", "https://gateway.example.com/v1", "db-key-1234", ("m1",))


def test_disabled_record_hides_the_environment_provider(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    provider_create(name="openai", kind="openai", enabled=False)
    assert get_provider_config("openai") is None


def test_providers_are_listed_with_one_aggregate_once_their_records_were_read(django_assert_num_queries, monkeypatch):
    provider_create(name="a", kind="openai", api_key="key-a-123456")
    provider_create(name="b", kind="anthropic", api_key="key-b-123456")
    with django_assert_num_queries(2):  # the records' version, then the records
        first = provider_configs()
    decrypted = []
    monkeypatch.setattr(registry, "decrypt_secret", lambda value: decrypted.append(value) or "")
    with django_assert_num_queries(1):  # the version alone: no row read, no key decrypted
        again = provider_configs()
    assert again == first and decrypted == []
    assert {c.name: c.api_key for c in again if c.source == "db"} == {"a": "key-a-123456", "b": "key-b-123456"}


def test_a_record_saved_added_or_deleted_is_listed_as_it_now_is():
    record = provider_create(name="a", kind="openai", api_key="key-a-123456")
    assert "a" in {c.name for c in provider_configs()}

    provider_update(provider=record, enabled=False)
    assert "a" not in {c.name for c in provider_configs()}
    provider_update(provider=record, enabled=True, api_key="key-a-654321")
    assert [c.api_key for c in provider_configs() if c.name == "a"] == ["key-a-654321"]
    provider_create(name="b", kind="anthropic", api_key="key-b-123456")
    assert {"a", "b"} <= {c.name for c in provider_configs()}
    provider_delete(provider=record)
    assert "a" not in {c.name for c in provider_configs()}


@pytest.mark.parametrize("url", ["ftp://host/v1", "http://user:pw@host/v1", "not a url"])
def test_base_url_must_be_http_without_credentials(url):
    with pytest.raises(ValidationError):
        provider_create(name="bad", kind="openai", base_url=url)


def test_docker_service_name_is_a_valid_base_url():
    provider = provider_create(name="vllm", kind="openai", base_url="http://vllm:8000/v1")
    assert provider.base_url == "http://vllm:8000/v1"


async def test_pointing_openai_base_url_at_a_compatible_server_streams_its_models(fake_provider, monkeypatch):
    from asgiref.sync import sync_to_async

    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    config = await sync_to_async(get_provider_config)("openai")
    provider = build_provider(config)
    [model] = await provider.list_models()

    pieces = []
    async for item in provider.stream(ChatRequest(model=model, messages=(ChatMessage("user", "hi you"),))):
        if not isinstance(item, StreamResult):
            pieces.append(item.text)
    assert pieces == expected_reply("hi you")
