"""The ops page against a real Celery worker (production shape): its figures, drain and resume.

Runs when DATABASE_URL (PostgreSQL) and REDIS_URL are set; skipped on the embedded default
unless WEBOX_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

import time

import pytest
from rest_framework.test import APIClient

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from testing.processes import child_env, start_worker
from tests.processes import real_services

pytestmark = real_services()


@pytest.fixture
def worker(tmp_path):
    process = start_worker(tmp_path, child_env())
    yield process
    process.stop()


@pytest.fixture
def api(operator):
    client = APIClient()
    client.force_authenticate(operator)
    return client


def wait_for(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def send(user, model: str) -> int:
    client = APIClient()
    client.force_authenticate(user)
    body = client.post("/api/chat/send", {"message": "ops", "selected_providers": ["gpt"],
                                          "selected_models": {"gpt": model}}, format="json").json()
    return body["replies"][0]["id"]


def status(api) -> dict:
    response = api.get("/api/ops/status")
    assert response.status_code == 200
    return response.json()


def test_ops_shows_the_worker_its_streams_and_drains_it(api, user, operator_client, worker, fake_provider):
    provider_create(name="gpt", kind="openai", api_key="test-key", model_names=["fake-echo"],
                    default_model="fake-echo", base_url=fake_provider.url)
    long_reply = send(user, "fake-echo;tokens=400;delay_ms=25")
    body = wait_for(lambda: (b := status(api))["workers"] and b["workers"][0]["streaming_reply_ids"]
                    and b["replies"]["streaming"] == 1 and b)
    assert body, "the worker never reported the streaming reply"
    (row,) = body["workers"]
    assert row["hostname"].startswith("w") and row["pool"] == "thread" and row["concurrency"] == 50
    assert row["streaming_reply_ids"] == [long_reply] and row["active_tasks"] == 1
    assert row["uptime_seconds"] is not None and row["draining"] is False
    assert body["replies"]["streaming"] == 1
    page = operator_client.get("/dashboard/ops/").content.decode()
    assert row["hostname"] in page and 'action="/dashboard/ops/workers/drain"' in page

    response = operator_client.post("/dashboard/ops/workers/drain", {"hostname": row["hostname"]}, follow=True)
    assert f"{row['hostname']} now takes no new replies." in response.content.decode()
    assert status(api)["workers"][0]["draining"] is True
    waiting = send(user, "fake-echo;tokens=3")
    queued = wait_for(lambda: (b := status(api))["queues"][0]["length"] == 1 and b)
    assert queued and queued["replies"]["pending"] == 1 and queued["replies"]["oldest_pending_wait_seconds"] >= 0
    assert Message.objects.get(pk=long_reply).status == ReplyStatus.STREAMING  # its stream goes on

    assert api.post("/api/ops/workers/resume", {"hostname": row["hostname"]}, format="json").status_code == 200
    assert wait_for(lambda: Message.objects.get(pk=waiting).status == ReplyStatus.COMPLETE)
    assert status(api)["queues"][0]["length"] == 0
    owner = APIClient()
    owner.force_authenticate(user)
    assert owner.post(f"/api/chat/messages/{long_reply}/cancel").status_code == 202
    assert wait_for(lambda: Message.objects.get(pk=long_reply).status == ReplyStatus.CANCELLED)
    assert wait_for(lambda: status(api)["workers"][0]["processed"] == 2)


def test_drain_of_an_unknown_worker_is_a_404(api, worker):
    response = api.post("/api/ops/workers/drain", {"hostname": "nobody@nowhere"}, format="json")
    assert response.status_code == 404 and "did not answer" in response.json()["detail"]


def test_ready_is_200_once_a_worker_answers(client, worker):
    response = client.get("/healthz/ready")
    assert response.status_code == 200, response.json()
    assert response.json()["components"]["workers"]["detail"] == "1 answering"
