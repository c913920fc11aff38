"""Log lines: one JSON object each in production, with request, user, conversation and reply ids."""

import io
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from chat.models import Message, ReplyStatus
from webox.logging_context import ContextFilter, WeboxJsonFormatter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_log():
    """Every record logged during the test, as the production handler would write it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(WeboxJsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.mark.django_db
def test_a_request_line_carries_its_request_id_and_user(json_log, user):
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/auth/me", headers={"X-Request-ID": "probe-123"})
    assert response["X-Request-ID"] == "probe-123"
    (line,) = [line for line in json_log() if line["logger"] == "webox.request"]
    assert line["message"] == "GET /api/auth/me 200" and line["level"] == "INFO"
    assert (line["request_id"], line["user_id"], line["status"]) == ("probe-123", user.pk, 200)
    assert "time" in line and "reply_id" not in line


@pytest.mark.django_db
def test_a_request_without_a_usable_id_gets_a_fresh_one(client):
    response = client.get("/healthz/live", headers={"X-Request-ID": "not an id\n"})
    assert len(response["X-Request-ID"]) == 32 and response["X-Request-ID"] != "not an id\n"
    assert client.get("/healthz/live")["X-Request-ID"] != response["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_a_replys_lines_carry_its_ids_and_never_its_text(json_log, user, in_process_runner, settings):
    settings.WEBOX_DEMO_DELAY_MS = 0
    client = APIClient()
    client.force_authenticate(user)
    secret = "my-private-thought-4711"
    body = client.post("/api/chat/send", {"message": secret, "selected_providers": ["demo"]}, format="json").json()
    reply_id = body["replies"][0]["id"]
    deadline = time.monotonic() + 20
    while Message.objects.get(pk=reply_id).status != ReplyStatus.COMPLETE and time.monotonic() < deadline:
        time.sleep(0.05)
    deadline = time.monotonic() + 5
    while not [line for line in json_log() if line.get("reply_id") == reply_id] and time.monotonic() < deadline:
        time.sleep(0.05)
    (ended,) = [line for line in json_log() if line.get("reply_id") == reply_id]
    assert ended["message"] == f"reply {reply_id} ended complete"
    assert ended["conversation_id"] == body["conversation"]["id"] and ended["provider"] == "demo"
    reply_text = Message.objects.get(pk=reply_id).content
    everything = json.dumps(json_log())
    assert secret not in everything and reply_text not in everything


def test_production_logs_are_one_json_object_per_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"WEBOX_LOG_FORMAT", "DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, WEBOX_VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="webox.settings")
    code = "import django, logging; django.setup(); logging.getLogger('webox.x').warning('hello %s', 'there')"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    (line,) = result.stderr.strip().splitlines()
    assert json.loads(line) | {"time": None} == {"time": None, "level": "WARNING", "logger": "webox.x",
                                                 "message": "hello there"}
    env["WEBOX_LOG_FORMAT"] = "plain"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.stderr.strip().endswith("WARNING webox.x [-] hello there")
