"""The provider admin: keys write-only, stored encrypted, shown masked."""


import pytest

from chat.providers import (
    Provider,
    get_provider_config,
    provider_create,
)
from tests.conftest import PASSWORD
from tests.providers.conftest import SECRET, stored_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]

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


# --- providers configured outside the database, and the operator actions ------------------------

LIST = "/admin/chat/provider/"


def messages_of(client) -> list[str]:
    return [str(m) for m in client.get(LIST).context["messages"]]


@pytest.fixture
def env_openai(monkeypatch, fake_provider):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_provider.url)
    monkeypatch.setenv("OPENAI_API_KEY", fake_provider.api_key)
    monkeypatch.setenv("OPENAI_MODELS", "fake-echo")
    return fake_provider


def test_environment_and_builtin_providers_are_listed_read_only_with_masked_keys(staff_client, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_MODELS", "gpt-a,gpt-b")
    provider_create(name="groq", kind="openai", api_key="sk-other-0123456789")
    page = staff_client.get(LIST)
    html = page.content.decode()
    rows = {row["config"].name: row for row in page.context["configured_elsewhere"]}
    assert set(rows) == {"demo", "openai"}
    assert (rows["openai"]["source"], rows["demo"]["source"]) == ("environment", "built in")
    section = html[html.index("Configured outside the database"):]
    assert 'data-provider="openai"' in section and "read-only" in section and "gpt-a, gpt-b" in section
    assert "••••WXYZ" in section and SECRET not in html and SECRET[:-4] not in html
    # The record stays in the editable list above, not in the read-only section.
    assert 'data-provider="groq"' not in section and [p.name for p in page.context["cl"].result_list] == ["groq"]


def test_a_record_hiding_an_environment_provider_is_marked(staff_client, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    provider_create(name="openai", kind="openai", enabled=False)
    html = staff_client.get(LIST).content.decode()
    assert "hidden by the record of the same name above" in html


def test_check_connection_action_reports_in_the_message_bar(staff_client, fake_provider):
    good = provider_create(name="fake", kind="openai", base_url=fake_provider.url, api_key="test-key",
                           model_names=["fake-echo"])
    bad = provider_create(name="wrongkey", kind="openai", base_url=fake_provider.url, api_key="sk-wrong-000000000",
                          model_names=["fake-echo"])
    response = staff_client.post(LIST, {"action": "check_connection", "_selected_action": [good.pk, bad.pk]})
    assert response.status_code == 302
    reported = sorted(messages_of(staff_client))
    assert reported[0].startswith("fake: ok, fake-echo answered in ")
    assert reported[1].startswith("wrongkey: bad key (auth:")


def test_check_connection_of_an_environment_provider(staff_client, env_openai):
    response = staff_client.post(f"{LIST}configured/openai/check/")
    assert response.status_code == 302 and response["Location"] == LIST
    assert messages_of(staff_client)[0].startswith("openai: ok, fake-echo answered in ")
    assert staff_client.get(f"{LIST}configured/openai/check/").status_code == 405


def test_refresh_models_of_an_environment_provider_reports_the_listing(staff_client, env_openai):
    env_openai.models = ["fake-echo", "fake-other"]
    staff_client.post(f"{LIST}configured/openai/models/")
    assert messages_of(staff_client) == ["openai: the endpoint lists 2 models: fake-echo, fake-other"]


def test_unreachable_environment_provider_is_reported_not_raised(staff_client, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")  # nothing listens on port 1
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    staff_client.post(f"{LIST}configured/openai/models/")
    [message] = messages_of(staff_client)
    assert message.startswith("openai: connection_lost:") and SECRET not in message


def test_unknown_configured_provider_is_a_404(staff_client):
    assert staff_client.post(f"{LIST}configured/nothing/check/").status_code == 404


def test_non_staff_cannot_run_the_configured_operations(client, user, env_openai):
    client.login(username=user.username, password=PASSWORD)
    response = client.post(f"{LIST}configured/openai/check/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert env_openai.requests == []
