"""manage.py providers list|add|remove|check."""

import io

import pytest
from django.core.management import CommandError, call_command

from chat.providers import (
    Provider,
    get_provider_config,
    provider_create,
)
from tests.providers.conftest import SECRET, closed_port, stored_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_environment")]

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
    provider_create(name="good", kind="openai", base_url=fake_provider.url, api_key="test-key",
                    default_model="fake-echo")
    provider_create(name="badkey", kind="anthropic", base_url=fake_provider.anthropic_url, api_key=SECRET,
                    default_model="fake-echo")
    provider_create(name="nomodel", kind="openai", base_url=fake_provider.url, api_key="test-key",
                    default_model="gpt-unknown")
    provider_create(name="down", kind="openai", base_url=f"http://127.0.0.1:{closed_port()}/v1", default_model="m")

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
