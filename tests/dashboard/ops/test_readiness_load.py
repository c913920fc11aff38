"""Readiness probes by the hundred leave every other request answering as usual.

Against a real daphne and Celery worker on PostgreSQL and Redis (production shape; skipped on the
embedded default unless WEBOX_REQUIRE_SERVICES=1). The shared worker ping and the database
connection handed back at once are tested on their own in test_worker_ping.py.
"""

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from rest_framework_simplejwt.tokens import RefreshToken

from testing.processes import child_env, start_daphne, start_worker
from tests.processes import real_services

pytestmark = real_services()


def get(port: int, path: str, token: str | None = None) -> tuple[int, float]:
    """(status, seconds) of one GET."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            json.loads(response.read())
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def test_two_hundred_probes_at_once_leave_the_api_answering(tmp_path, user):
    env = child_env(WEBOX_RUNNER="celery")
    worker = start_worker(tmp_path, env, concurrency=2)
    daphne, port = start_daphne(tmp_path, env)
    token = str(RefreshToken.for_user(user).access_token)
    try:
        assert get(port, "/api/chat/providers", token)[0] == 200
        during: list[tuple[int, float]] = []
        probing = threading.Event()

        def ask_the_api():
            probing.wait()
            for _ in range(20):
                during.append(get(port, "/api/chat/providers", token))

        asker = threading.Thread(target=ask_the_api)
        asker.start()
        with ThreadPoolExecutor(max_workers=200) as pool:
            probes = [pool.submit(get, port, "/healthz/ready") for _ in range(200)]
            probing.set()
            probes = [probe.result() for probe in probes]
        asker.join(60)
        after = [get(port, "/api/chat/providers", token) for _ in range(10)]
        output = daphne.output()
    finally:
        daphne.stop()
        worker.stop()
    assert [status for status, _ in probes] == [200] * 200, output[-3000:]
    assert [status for status, _ in during] == [200] * 20, output[-3000:]
    assert [status for status, _ in after] == [200] * 10, output[-3000:]
    # Before, twenty probes at once raised this request's median from 10 ms to 1.3 s.
    assert statistics.median(seconds for _, seconds in during) < 0.5, during
    assert max(seconds for _, seconds in after) < 0.5, after
