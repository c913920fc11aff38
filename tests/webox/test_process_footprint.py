"""What each kind of process loads: the HTTP server only where HTTP is served; no URLconf in a worker."""

import asyncio
import subprocess
import sys

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
