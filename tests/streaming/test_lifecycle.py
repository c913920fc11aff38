"""The embedded server's stop and start, with a real daphne process on its own SQLite file.

Stopped with SIGTERM (what Ctrl-C and a service manager send), it ends each streaming reply at
once as ``interrupted`` with all the text its sockets saw; killed without a chance to, its next
start ends what it left behind before anyone can look. Runs in both test modes: the server is the
embedded default whatever the suite's own database is.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from testing.client import ChatSocket, post
from testing.fake_provider import FakeProviderServer, expected_reply
from testing.processes import ROOT, Process, start_daphne

LONG = "fake-echo;delay_ms=25;tokens=4000"  # streams for 100 s: still going whenever the test stops it
MESSAGE = "hello there"


@pytest.fixture(scope="module")
def fake():
    server = FakeProviderServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, fake) -> dict[str, str]:
    """The environment of an embedded-default server on a migrated SQLite file of its own."""
    tmp_path = tmp_path_factory.mktemp("embedded")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "WEBOX_RUNNER")}
    env.update(WEBOX_VAR_DIR=str(tmp_path), WEBOX_DEMO_PROVIDER="0", PYTHONUNBUFFERED="1",
               OPENAI_BASE_URL=fake.url, OPENAI_API_KEY=fake.api_key, OPENAI_MODELS=LONG)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def register(port: int) -> str:
    name = f"u{uuid.uuid4().hex[:10]}"
    body = json.dumps({"username": name, "email": f"{name}@example.com", "password": "a long pass phrase 1"})
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/auth/register", data=body.encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["access"]


async def stream_a_while(port: int, token: str) -> tuple[int, str]:
    """Send one message to the long model; once some text has streamed, (its reply's id, the text seen)."""
    turn = post(port, "/api/chat/send", token, {"message": MESSAGE, "selected_providers": ["openai"],
                                                 "selected_models": {"openai": LONG}})
    reply = turn["replies"][0]["id"]
    async with ChatSocket(port, turn["conversation"]["id"], token) as sock:
        await sock.until(lambda log: len(log.seqs[reply]) >= 5)
        return reply, sock.log.text[reply]


def reply_row(var_dir: str, reply_id: int) -> dict:
    with sqlite3.connect(Path(var_dir) / "webox.sqlite3") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT status, error_code, content FROM chat_message WHERE id = ?", (reply_id,)).fetchone()
    return dict(row)


def assert_ended_interrupted(row: dict, seen: str) -> None:
    assert (row["status"], row["error_code"]) == ("error", "interrupted")
    assert row["content"].startswith(seen)
    assert "".join(expected_reply(MESSAGE, 4000)).startswith(row["content"])


async def test_sigterm_ends_each_streaming_reply_as_interrupted_with_all_its_text(tmp_path, embedded):
    daphne, port = start_daphne(tmp_path, embedded)
    with daphne:
        reply, seen = await stream_a_while(port, register(port))
        stopped_at = time.monotonic()
        daphne.handle.send_signal(signal.SIGTERM)
        daphne.handle.wait(15)
        took = time.monotonic() - stopped_at

    row = reply_row(embedded["WEBOX_VAR_DIR"], reply)
    assert_ended_interrupted(row, seen)
    # More than the last checkpoint (about a second old): the text up to the stop.
    assert len(row["content"]) >= len(seen)
    assert took < 10, f"stopping took {took:.1f} s"
    assert "ended 1 streaming replies as interrupted" in daphne.output()


async def test_a_restart_ends_at_once_the_replies_a_killed_server_left_streaming(tmp_path, embedded):
    daphne, port = start_daphne(tmp_path, embedded)
    with daphne:
        reply, _ = await stream_a_while(port, register(port))
        time.sleep(1.2)  # one checkpoint, about once a second, holds some text
        daphne.kill()
    left = reply_row(embedded["WEBOX_VAR_DIR"], reply)
    assert left["status"] == "streaming" and left["content"]

    again, _ = start_daphne(tmp_path, embedded)
    with again:
        deadline = time.monotonic() + 5
        while reply_row(embedded["WEBOX_VAR_DIR"], reply)["status"] == "streaming" and time.monotonic() < deadline:
            time.sleep(0.05)
        row = reply_row(embedded["WEBOX_VAR_DIR"], reply)
    assert_ended_interrupted(row, left["content"])
    assert row["content"] == left["content"]


def test_runserver_on_a_busy_port_exits_with_a_message(tmp_path, embedded):
    daphne, port = start_daphne(tmp_path, embedded)
    with daphne:
        second = Process([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"], embedded,
                         tmp_path / "second.log")
        with second:
            assert second.handle.wait(30) == 1
        assert f"Port {port} on 127.0.0.1 is already in use" in second.output()
