"""What each kind of process loads: the HTTP server only where HTTP is served; no URLconf in a worker; the
libraries of rarely used pages and uploads only when one is used."""

import asyncio
import os
import subprocess
import sys

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from chat.services import conversation_create
from testing.client import ChatSocket
from testing.processes import ROOT, Process, child_env, free_port, wait_for_port
from tests.processes import real_services

# What Celery's worker does to Django before its first task (celery.fixups.django), then what it imported.
WORKER_START = """
import sys
from webox.celery import app
from celery.fixups.django import DjangoWorkerFixup
DjangoWorkerFixup(app).validate_models()
print(sorted(name for name in ("twisted.internet.reactor", "daphne.server", "webox.urls") if name in sys.modules))
"""


def test_a_worker_starts_django_without_the_http_server_or_the_urlconf():
    done = subprocess.run([sys.executable, "-c", WORKER_START], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"

# Tens of MB each that an idle server or worker never uses: the leaderboard's numpy and scipy, the charts'
# pygal, the metrics' prometheus_client, the uploads' Pillow and pypdf.
HEAVY = ("numpy", "scipy", "pygal", "prometheus_client", "PIL", "pypdf")
PRINT_HEAVY = f"print('heavy:', *sorted(name for name in {HEAVY!r} if name in sys.modules))"
# What daphne imports, then the URLconf with every view, as its first request loads it.
SERVER_START = f"""
import sys
import django
django.setup()
import webox.asgi
from django.urls import get_resolver
get_resolver().url_patterns
{PRINT_HEAVY}
"""
# Django as Celery's worker sets it up, then the worker's start hook (the SDKs, the price table).
WORKER_INIT = f"""
import sys
from webox.celery import _load_provider_sdks, app
from celery.fixups.django import DjangoWorkerFixup
DjangoWorkerFixup(app).validate_models()
_load_provider_sdks()
{PRINT_HEAVY}
"""


def _heavy_loaded(script: str, tmp_path, runner: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBOX_RUNNER", "WEBOX_VAR_DIR"))}
    env.update(DJANGO_SETTINGS_MODULE="webox.settings", WEBOX_RUNNER=runner, WEBOX_VAR_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1].split()
    assert last[0] == "heavy:", done.stdout[-3000:]
    return last[1:]


@pytest.mark.parametrize("runner", ["embedded", "celery"])
def test_a_server_with_every_view_loaded_imports_no_library_of_a_rarely_used_page(tmp_path, runner):
    assert _heavy_loaded(SERVER_START, tmp_path, runner) == []


def test_a_started_worker_imports_no_library_of_a_page_or_an_upload(tmp_path):
    assert _heavy_loaded(WORKER_INIT, tmp_path, "celery") == []


# `python -m webox.workers` as far as its worker command's options (the imports and the fork's preload
# done), then what it imported of Celery's interactive shells.
WORKERS_TO_THEIR_OPTIONS = """
import runpy, sys
sys.argv = ["webox.workers", "1", "--help"]
try:
    runpy.run_module("webox.workers", run_name="__main__")
except SystemExit:
    pass
print("shells:", *sorted(name for name in ("click_repl", "prompt_toolkit", "celery.bin.celery") if name in sys.modules))
"""


def test_forked_workers_import_no_interactive_shell_of_celerys_command_line(tmp_path):
    env = {**child_env(), "WEBOX_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", WORKERS_TO_THEIR_OPTIONS], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "--concurrency" in done.stdout  # the worker command's own help: it got as far as its options
    assert done.stdout.strip().splitlines()[-1] == "shells:"


class TestRunserver:
    pytestmark = real_services()

    def test_manage_py_runserver_serves_the_chat_socket(self, tmp_path, user):
        conversation = conversation_create(owner=user)
        token = str(RefreshToken.for_user(user).access_token)
        port = free_port()
        process = Process([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                          child_env(), tmp_path / "runserver.log")
        try:
            wait_for_port(port, process)

            async def snapshot():
                async with ChatSocket(port, conversation.id, token) as socket:
                    return socket.log.of_type("snapshot")

            assert asyncio.run(snapshot())[0]["conversation_id"] == conversation.id
            assert "ASGI/Daphne" in process.output()
        finally:
            process.stop()
