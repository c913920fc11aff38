"""An operator restricts each provider to a list (or patterns) of models: the picker, the send and the engine."""

import io

import pytest
from django.core.management import call_command

from chat.models import Conversation, Message
from chat.providers import ErrorCode, Provider, get_provider_config, provider_create
from chat.services import send_input_clean
from chat.streaming.engine import prepare_reply
from tests.providers.conftest import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]


def send(client, provider: str, model: str):
    return client.post("/api/chat/send", {"message": "Hi", "selected_providers": [provider],
                                          "selected_models": {provider: model}}, format="json")


def test_environment_allowed_models_narrow_the_list_and_the_default(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_MODELS", "gpt-a, gpt-b, gpt-4o-mini")
    monkeypatch.setenv("OPENAI_DEFAULT_MODEL", "gpt-b")
    monkeypatch.setenv("OPENAI_ALLOWED_MODELS", "gpt-a, gpt-4o*")
    config = get_provider_config("openai")
    assert (config.models, config.default_model) == (("gpt-a", "gpt-4o-mini"), "gpt-a")
    assert config.allowed_models == ("gpt-a", "gpt-4o*")
    assert config.allows("gpt-4o-2024-08-06") and not config.allows("gpt-b") and not config.allows("GPT-A")


def test_no_allowed_models_means_any_model(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_MODELS", "gpt-a")
    config = get_provider_config("openai")
    assert config.allowed_models == () and config.allows("anything-at-all")


def test_a_send_naming_a_model_outside_the_list_is_a_400_naming_the_field(auth_client):
    provider_create(name="groq", kind="demo", model_names=["demo-echo", "demo-markdown"],
                    allowed_models=["demo-echo"])
    response = send(auth_client, "groq", "demo-markdown")
    assert response.status_code == 400
    body = response.json()
    assert "selected_models" in body["errors"] and "'demo-markdown' is not allowed for groq" in body["detail"]
    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert send(auth_client, "groq", "demo-echo").status_code == 202


def test_a_pattern_allows_a_model_the_list_does_not_name(auth_client):
    provider_create(name="groq", kind="demo", model_names=["demo-echo"], allowed_models=["demo-*"])
    assert send(auth_client, "groq", "demo-markdown").status_code == 202
    assert send(auth_client, "groq", "other").status_code == 400


def test_a_default_model_outside_the_list_is_replaced_by_an_allowed_one():
    provider_create(name="groq", kind="demo", model_names=["demo-echo", "demo-markdown"],
                    default_model="demo-echo", allowed_models=["demo-markdown"])
    cleaned = send_input_clean(message="Hi", selected_providers=["groq"])
    assert [(c.provider, c.model) for c in cleaned.columns] == [("groq", "demo-markdown")]


def test_the_picker_lists_only_allowed_models(auth_client, fake_provider, monkeypatch):
    fake_provider.models = ["fake-echo", "fake-echo;tokens=3", "other-model"]
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_ALLOWED_MODELS", "fake-echo*")
    provider_create(name="groq", kind="demo", model_names=["demo-echo", "demo-markdown"],
                    allowed_models=["demo-markdown"])
    listed = {p["name"]: p for p in auth_client.get("/api/chat/providers").json()}
    assert (listed["openai"]["models"], listed["openai"]["default_model"]) == (
        ["fake-echo", "fake-echo;tokens=3"], "fake-echo")
    assert (listed["groq"]["models"], listed["groq"]["default_model"]) == (["demo-markdown"], "demo-markdown")


def test_the_admin_stores_allowed_models_one_per_line_or_comma_separated(staff_client):
    form = {"name": "groq", "kind": "openai", "base_url": "https://api.groq.com/openai/v1", "enabled": "on",
            "model_names": "llama-a", "default_model": "llama-a", "allowed_models": "llama-a\n llama-3*, mixtral-*",
            "context_tokens": "", "api_key": ""}
    response = staff_client.post("/admin/chat/provider/add/", form)
    assert response.status_code == 302, response.content
    assert Provider.objects.get().allowed_models == ["llama-a", "llama-3*", "mixtral-*"]
    assert get_provider_config("groq").allows("llama-3.1-8b")
    page = staff_client.get(f"/admin/chat/provider/{Provider.objects.get().pk}/change/").content.decode()
    assert "llama-3*" in page


def test_a_reply_of_a_model_disallowed_since_its_send_ends_as_model_not_allowed(auth_client):
    record = provider_create(name="groq", kind="demo", model_names=["demo-echo"])
    reply_id = send(auth_client, "groq", "demo-echo").json()["replies"][0]["id"]
    record.allowed_models = ["demo-markdown"]
    record.save(update_fields=["allowed_models"])
    prepared = prepare_reply(reply_id)
    assert prepared.failure.code == ErrorCode.MODEL_NOT_ALLOWED
    assert "'demo-echo' is not allowed" in prepared.failure.detail


def test_the_command_add_takes_allowed_models():
    call_command("providers", "add", "groq", "--kind", "demo", "--models", "demo-echo,demo-markdown",
                 "--allowed-models", "demo-mark*", stdout=io.StringIO())
    config = get_provider_config("groq")
    assert (config.allowed_models, config.models) == (("demo-mark*",), ("demo-markdown",))
