"""manage.py webox_doctor: one line per part, exit code 1 when something users need is broken."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from chat.providers import provider_create

pytestmark = pytest.mark.django_db(transaction=True)


def doctor(*args) -> tuple[bool, dict[str, str]]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("webox_doctor", *args, stdout=out, no_color=True)
        passed = True
    except CommandError:
        passed = False
    lines = {}
    for line in out.getvalue().splitlines():
        state, rest = line[:4].strip(), line[6:]
        lines[rest[:22].strip()] = f"{state} {rest[22:].strip()}"
    return passed, lines


@pytest.fixture
def healthy(settings, fast_policy):
    settings.WEBOX_RUNNER = "embedded"
    settings.WEBOX_DEMO_DELAY_MS = 0
    settings.SECRET_KEY = "a-long-random-production-secret-key-for-the-doctor-tests-0123456789"


def test_a_healthy_installation_passes_with_one_line_per_part(healthy):
    passed, lines = doctor()
    assert passed, lines
    for part in ("settings", "database", "migrations", "redis", "channel layer", "broker", "workers",
                 "provider demo", "static files"):
        assert part in lines, part
    assert lines["migrations"] == "ok all applied"
    assert lines["workers"].startswith("skip")
    assert lines["provider demo"].startswith("ok builtin")


def test_an_unreachable_redis_fails(healthy, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    passed, lines = doctor()
    assert not passed and lines["redis"].startswith("FAIL")


def test_celery_without_a_worker_fails(healthy, settings):
    settings.WEBOX_RUNNER = "celery"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    passed, lines = doctor()
    assert not passed
    assert lines["broker"].startswith("FAIL") and lines["workers"] == "FAIL broker unreachable"


def test_an_unreachable_provider_fails(healthy):
    provider_create(name="far", kind="openai", api_key="k", model_names=["m"], default_model="m",
                    base_url="http://127.0.0.1:1/v1")
    passed, lines = doctor()
    assert not passed and lines["provider far"].startswith("FAIL db, unreachable")
    assert doctor("--no-provider-calls")[0]


def test_a_key_that_cannot_be_decrypted_fails(healthy, settings, fake_provider):
    settings.WEBOX_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    provider_create(name="gpt", kind="openai", api_key="test-key", model_names=["fake-echo"],
                    default_model="fake-echo", base_url=fake_provider.url)
    passed, lines = doctor()
    assert passed and lines["provider gpt"].startswith("ok db, fake-echo answered")
    settings.WEBOX_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key is gone
    passed, lines = doctor()
    assert not passed and "cannot be decrypted" in lines["provider gpt"]


def test_a_failing_system_check_fails(healthy, settings):
    settings.WEBOX_RUNNER = "threads"  # webox.E003
    passed, lines = doctor("--no-provider-calls")
    assert not passed and "webox.E003" in lines["settings"]


def test_a_database_without_migrations_exits_non_zero(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["WEBOX_VAR_DIR"] = str(tmp_path)  # a new, empty SQLite database
    result = subprocess.run([sys.executable, "manage.py", "webox_doctor", "--no-color"], env=env, timeout=120,
                            cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True)
    assert result.returncode == 1
    assert "FAIL  migrations" in result.stdout and "run manage.py migrate" in result.stdout
    assert "ok    database" in result.stdout and "1 check(s) failed." in result.stderr
