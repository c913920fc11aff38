"""The environment drives the settings; impossible combinations fail a system check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG",
                                                            "DJANGO_SECRET_KEY", "WEBOX_RUNNER"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
        timeout=60,
    )


def test_production_without_secret_key_fails_the_check():
    result = run_manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "webox.E001" in result.stderr


def test_celery_runner_with_in_memory_layer_fails_the_check():
    result = run_manage("check", WEBOX_RUNNER="celery")
    assert result.returncode != 0
    assert "webox.E002" in result.stderr


def test_without_a_receiver_for_stored_replies_the_check_fails(db):
    from django.core.checks import run_checks

    from chat.hooks import replies_stored
    from chat.streaming.runners import on_replies_stored

    assert "webox.E004" not in {error.id for error in run_checks()}
    replies_stored.disconnect(dispatch_uid="chat.streaming.start_replies")
    try:
        assert "webox.E004" in {error.id for error in run_checks()}
    finally:
        replies_stored.connect(on_replies_stored, dispatch_uid="chat.streaming.start_replies")


def test_deploy_check_is_clean_in_production_settings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x7Hq-" + "k" * 30 + "-Zp93mWbVcR2sT8uLyN4eAf6gD",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_database_and_redis_urls_select_production_shape():
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.WEBOX_RUNNER,"
        " s.DATABASES['default']['CONN_MAX_AGE'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="webox.settings", DATABASE_URL="postgres://u@db.invalid:5432/w",
               REDIS_URL="redis://cache.invalid:6379/0")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == [
        "webox.postgresql", "channels_redis.pubsub.RedisPubSubChannelLayer", "celery", "0"
    ], out.stderr


def test_embedded_default_uses_sqlite_and_in_memory_layer():
    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], s.WEBOX_RUNNER)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "WEBOX_RUNNER"}}
    env["DJANGO_SETTINGS_MODULE"] = "webox.settings"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == [
        "webox.sqlite", "webox.channel_layers.InMemoryChannelLayer", "embedded"
    ], out.stderr
