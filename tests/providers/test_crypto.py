"""Provider API keys are encrypted at rest, and key rotation."""


import pytest
from cryptography.fernet import Fernet

from chat.providers import (
    decrypt_secret,
    encrypt_secret,
    get_provider_config,
    provider_create,
    provider_rotate_keys,
    provider_set_api_key,
)
from tests.providers.conftest import SECRET, stored_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]


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
