"""Provider configuration: encrypted keys, the registry, the API, the admin and the command."""

import io
import logging
import socket

import pytest
from asgiref.sync import async_to_sync
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from chat.crypto import decrypt_secret, encrypt_secret
from chat.models import Provider
from chat.provider_services import provider_create, provider_rotate_keys, provider_set_api_key
from chat.providers.base import ChatMessage, ChatRequest, ErrorCode, ProviderError, StreamResult
from chat.providers.registry import build_provider, get_provider_config, provider_configs
from tests.conftest import PASSWORD
from tests.fake_provider import expected_reply

pytestmark = pytest.mark.django_db

SECRET = "sk-live-0123456789abcdefWXYZ"
PROVIDER_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODELS", "OPENAI_DEFAULT_MODEL",
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODELS", "ANTHROPIC_DEFAULT_MODEL",
    "OLLAMA_BASE_URL", "OLLAMA_MODELS", "OLLAMA_DEFAULT_MODEL",
)


@pytest.fixture(autouse=True)
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


# --- encryption -------------------------------------------------------------------------------

def test_api_key_is_encrypted_in_the_database():
    provider_create(name="groq", kind="openai", base_url="https://api.groq.com/openai/v1", api_key=SECRET)

    raw = stored_key("groq")
    assert raw and SECRET not in raw and SECRET[-8:] not in raw
    assert get_provider_config("groq").api_key == SECRET


def test_first_encryption_key_encrypts_and_every_key_decrypts(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.WEBOX_ENCRYPTION_KEYS = [old]
    token = encrypt_secret(SECRET)

    settings.WEBOX_ENCRYPTION_KEYS = [new, old]
    assert decrypt_secret(token) == SECRET
    assert Fernet(new.encode()).decrypt(encrypt_secret(SECRET).encode()).decode() == SECRET


def test_rotate_keys_reencrypts_with_the_first_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.WEBOX_ENCRYPTION_KEYS = [old]
    provider_create(name="groq", kind="openai", api_key=SECRET)

    settings.WEBOX_ENCRYPTION_KEYS = [new, old]
    assert provider_rotate_keys() == 1
    settings.WEBOX_ENCRYPTION_KEYS = [new]
    assert get_provider_config("groq").api_key == SECRET


def test_without_configured_keys_a_key_derived_from_secret_key_works(settings):
    token = encrypt_secret(SECRET)
    assert decrypt_secret(token) == SECRET
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    with pytest.raises(Exception, match="decrypt"):
        decrypt_secret(token)


def test_values_written_before_keys_were_configured_stay_readable(settings):
    token = encrypt_secret(SECRET)
    settings.WEBOX_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert decrypt_secret(token) == SECRET


def test_set_api_key_replaces_and_empty_clears():
    provider = provider_create(name="groq", kind="openai", api_key="old-key-value")
    provider_set_api_key(provider=provider, api_key=SECRET)
    assert get_provider_config("groq").api_key == SECRET
    provider_set_api_key(provider=provider, api_key="")
    assert stored_key("groq") == "" and get_provider_config("groq").api_key == ""


# --- registry -----------------------------------------------------------------------------------

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


def test_provider_configs_is_one_query(django_assert_num_queries):
    provider_create(name="a", kind="openai", api_key="key-a-123456")
    provider_create(name="b", kind="anthropic", api_key="key-b-123456")
    with django_assert_num_queries(1):
        provider_configs()


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


# --- API -----------------------------------------------------------------------------------------

def test_providers_api_lists_enabled_providers_with_models_and_defaults(auth_client):
    provider_create(name="groq", kind="openai", base_url="https://api.groq.com/openai/v1", api_key=SECRET,
                    model_names=["llama-a", "llama-b"], default_model="llama-b")
    provider_create(name="off", kind="openai", enabled=False, model_names=["x"])

    response = auth_client.get("/api/chat/providers")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "demo", "kind": "demo", "models": ["demo-echo", "demo-markdown"], "default_model": "demo-echo"},
        {"name": "groq", "kind": "openai", "models": ["llama-a", "llama-b"], "default_model": "llama-b"},
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
                      "default_model": "fake-echo"}


# --- admin -----------------------------------------------------------------------------------------

def admin_form(**fields):
    data = {"name": "groq", "kind": "openai", "base_url": "https://api.groq.com/openai/v1", "enabled": "on",
            "model_names": "llama-a\nllama-b", "default_model": "llama-a", "context_tokens": "", "api_key": ""}
    data.update(fields)
    return data


def test_admin_stores_the_key_encrypted_and_shows_it_masked(staff_client):
    response = staff_client.post("/admin/chat/provider/add/", admin_form(api_key=SECRET))
    assert response.status_code == 302

    provider = Provider.objects.get(name="groq")
    assert SECRET not in stored_key("groq")
    assert provider.model_names == ["llama-a", "llama-b"]
    page = staff_client.get(f"/admin/chat/provider/{provider.pk}/change/").content.decode()
    assert SECRET not in page and SECRET[:-4] not in page
    assert "••••WXYZ" in page
    listing = staff_client.get("/admin/chat/provider/").content.decode()
    assert SECRET not in listing and "••••WXYZ" in listing


def test_admin_blank_key_keeps_the_stored_key(staff_client):
    provider = provider_create(name="groq", kind="openai", api_key=SECRET)
    response = staff_client.post(f"/admin/chat/provider/{provider.pk}/change/", admin_form(default_model="llama-b"))
    assert response.status_code == 302

    config = get_provider_config("groq")
    assert (config.api_key, config.default_model) == (SECRET, "llama-b")


def test_admin_clear_checkbox_removes_the_key(staff_client):
    provider = provider_create(name="groq", kind="openai", api_key=SECRET)
    staff_client.post(f"/admin/chat/provider/{provider.pk}/change/", admin_form(clear_api_key="on"))
    assert stored_key("groq") == ""


def test_admin_rejects_a_key_in_the_base_url(staff_client):
    response = staff_client.post("/admin/chat/provider/add/", admin_form(base_url="https://u:p@host/v1"))
    assert response.status_code == 200
    assert not Provider.objects.exists()


def test_admin_form_errors_do_not_echo_the_typed_key(staff_client):
    response = staff_client.post("/admin/chat/provider/add/", admin_form(api_key=SECRET, base_url="ftp://x"))
    assert response.status_code == 200 and SECRET not in response.content.decode()


def test_admin_action_refreshes_the_model_list(staff_client, fake_provider):
    fake_provider.models = ["fake-echo", "fake-other"]
    provider = provider_create(name="fake", kind="openai", base_url=fake_provider.url, api_key="test-key",
                               model_names=["gone"], default_model="gone")
    response = staff_client.post("/admin/chat/provider/",
                                 {"action": "refresh_models", "_selected_action": [provider.pk]})
    assert response.status_code == 302

    provider.refresh_from_db()
    assert (provider.model_names, provider.default_model) == (["fake-echo", "fake-other"], "fake-echo")


def test_non_staff_cannot_reach_the_provider_admin(client, user):
    client.login(username=user.username, password=PASSWORD)
    assert client.get("/admin/chat/provider/add/").status_code == 302


# --- keys stay out of errors and logs ------------------------------------------------------------

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


# --- management command --------------------------------------------------------------------------

def run(*args, **options) -> str:
    out = io.StringIO()
    call_command("providers", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_command_add_reads_the_key_from_an_environment_variable(monkeypatch):
    monkeypatch.setenv("GROQ_KEY", SECRET)
    run("add", "groq", "--kind", "openai", "--base-url", "https://api.groq.com/openai/v1",
        "--api-key-env", "GROQ_KEY", "--models", "a,b", "--default-model", "b")

    config = get_provider_config("groq")
    assert (config.api_key, config.models, config.default_model) == (SECRET, ("a", "b"), "b")
    assert SECRET not in stored_key("groq")


def test_command_add_reads_the_key_from_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    run("add", "groq", "--kind", "openai", "--api-key-stdin")
    assert get_provider_config("groq").api_key == SECRET


def test_command_list_shows_every_source_but_no_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-secret-4455667788")
    provider_create(name="groq", kind="openai", api_key=SECRET, enabled=False)

    out = run("list")
    assert "demo" in out and "builtin" in out and "openai" in out and "env" in out and "groq" in out
    assert SECRET not in out and "sk-env-secret-4455667788" not in out


def test_command_remove_deletes_a_record():
    provider_create(name="groq", kind="openai")
    run("remove", "groq")
    assert not Provider.objects.exists()


def test_command_remove_refuses_environment_providers(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with pytest.raises(CommandError, match="environment|env"):
        run("remove", "openai")


def test_command_check_reports_each_outcome(fake_provider):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider_create(name="good", kind="openai", base_url=fake_provider.url, api_key="test-key",
                    default_model="fake-echo")
    provider_create(name="badkey", kind="anthropic", base_url=fake_provider.anthropic_url, api_key=SECRET,
                    default_model="fake-echo")
    provider_create(name="nomodel", kind="openai", base_url=fake_provider.url, api_key="test-key",
                    default_model="gpt-unknown")
    provider_create(name="down", kind="openai", base_url=f"http://127.0.0.1:{closed_port}/v1", default_model="m")

    out = io.StringIO()
    with pytest.raises(CommandError, match="3 provider"):
        call_command("providers", "check", "good", "badkey", "nomodel", "down", stdout=out)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert lines["good"].startswith("ok (fake-echo")
    assert lines["badkey"].startswith("bad key")
    assert lines["nomodel"].startswith("model unknown")
    assert lines["down"].startswith("unreachable")
    assert SECRET not in out.getvalue()
    assert [r["json"]["max_tokens"] for r in fake_provider.chat_requests()] == [1, 1, 1]
