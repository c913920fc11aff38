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
