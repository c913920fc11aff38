"""The staff ops page and its JSON, on the configuration the tests run with (no worker started)."""

import pytest
from rest_framework.test import APIClient

from chat.models import Message, ReplyStatus

pytestmark = pytest.mark.django_db


def test_ops_page_is_for_staff_only(client, user):
    client.force_login(user)
    assert client.get("/dashboard/ops/").status_code == 302  # to the admin's login
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/ops/status")
    assert response.status_code == 403 and response.json()["detail"]


def test_ops_json_counts_streaming_pending_and_stuck_replies(staff_client, make_reply, settings):
    settings.WEBOX_REPLY_STALE_SECONDS = 60
    make_reply(ReplyStatus.STREAMING)
    make_reply(ReplyStatus.STREAMING, idle_seconds=300)
    make_reply(ReplyStatus.PENDING, idle_seconds=30)
    make_reply(ReplyStatus.COMPLETE, idle_seconds=300)
    body = staff_client.get("/api/ops/status").json()
    replies = body["replies"]
    assert (replies["streaming"], replies["pending"], replies["stuck"]) == (2, 1, 1)
    assert replies["oldest_pending_wait_seconds"] >= 0
    assert [r["status"] for r in replies["stuck_replies"]] == ["streaming"]
    assert replies["stuck_replies"][0]["seconds_since_checkpoint"] >= 299


def test_failures_of_the_last_hour_are_grouped_by_provider_and_error_code(staff_client, make_reply):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for provider, code in (("gpt", "rate_limited"), ("gpt", "rate_limited"), ("claude", "timeout")):
        make_reply(ReplyStatus.ERROR, provider=provider, error_code=code, completed_at=now)
    make_reply(ReplyStatus.ERROR, provider="gpt", error_code="timeout", completed_at=now - timedelta(hours=2))
    body = staff_client.get("/api/ops/status").json()
    assert body["failures_last_hour"] == [
        {"provider": "gpt", "error_code": "rate_limited", "count": 2},
        {"provider": "claude", "error_code": "timeout", "count": 1},
    ]
    page = staff_client.get("/dashboard/ops/").content.decode()
    assert "rate_limited" in page and "Failures in the last hour" in page


def test_the_end_button_ends_a_stuck_reply_as_the_sweep_would(operator_client, make_reply, settings):
    settings.WEBOX_REPLY_STALE_SECONDS = 60
    stuck = make_reply(ReplyStatus.STREAMING, idle_seconds=120, content="half a sen")
    page = operator_client.get("/dashboard/ops/").content.decode()
    assert f'action="/dashboard/ops/replies/{stuck.pk}/end"' in page and "csrfmiddlewaretoken" in page
    response = operator_client.post(f"/dashboard/ops/replies/{stuck.pk}/end", follow=True)
    assert f"Reply {stuck.pk} ended." in response.content.decode()
    stuck.refresh_from_db()
    assert (stuck.status, stuck.error_code, stuck.content) == (ReplyStatus.ERROR, "orphaned", "half a sen")


def test_a_live_reply_cannot_be_ended_as_stuck(operator_client, make_reply, settings):
    settings.WEBOX_REPLY_STALE_SECONDS = 60
    live = make_reply(ReplyStatus.STREAMING)
    response = operator_client.post(f"/api/ops/replies/{live.pk}/end")
    assert response.status_code == 409 and response.json()["detail"] == "This reply is not stuck."
    assert operator_client.post("/api/ops/replies/999999/end").status_code == 404
    assert Message.objects.get(pk=live.pk).status == ReplyStatus.STREAMING


def test_the_end_form_needs_a_csrf_token(make_reply, operator, settings):
    from django.test import Client

    settings.WEBOX_REPLY_STALE_SECONDS = 60
    stuck = make_reply(ReplyStatus.STREAMING, idle_seconds=120)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    assert client.post(f"/dashboard/ops/replies/{stuck.pk}/end").status_code == 403
    assert Message.objects.get(pk=stuck.pk).status == ReplyStatus.STREAMING


def test_embedded_runner_says_replies_run_in_process(staff_client, settings):
    settings.WEBOX_RUNNER = "embedded"
    page = staff_client.get("/dashboard/ops/").content.decode()
    assert "Replies run in-process" in page
    body = staff_client.get("/api/ops/status").json()
    assert body["runner"] == "embedded" and body["workers"] is None and body["queues"] is None


def test_celery_runner_with_no_worker_says_so(staff_client, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (the broker)")
    settings.WEBOX_RUNNER = "celery"
    page = staff_client.get("/dashboard/ops/").content.decode()
    assert "No worker answered" in page
    body = staff_client.get("/api/ops/status").json()
    assert body["workers"] == [] and body["queues"][0]["length"] == 0


ACTIONS = [
    ("/dashboard/ops/replies/{reply}/end", {}),
    ("/dashboard/ops/workers/drain", {"hostname": "w1@host"}),
    ("/dashboard/ops/workers/resume", {"hostname": "w1@host"}),
    ("/api/ops/replies/{reply}/end", {}),
    ("/api/ops/workers/drain", {"hostname": "w1@host"}),
    ("/api/ops/workers/resume", {"hostname": "w1@host"}),
]


def test_staff_without_the_operate_permission_read_the_page_but_cannot_act(staff_client, make_reply, settings):
    settings.WEBOX_RUNNER = "embedded"
    settings.WEBOX_REPLY_STALE_SECONDS = 60
    stuck = make_reply(ReplyStatus.STREAMING, idle_seconds=120)
    page = staff_client.get("/dashboard/ops/")
    assert page.status_code == 200 and staff_client.get("/api/ops/status").status_code == 200
    assert "/end" not in page.content.decode() and "dashboard.operate" in page.content.decode()
    for path, data in ACTIONS:
        assert staff_client.post(path.format(reply=stuck.pk), data).status_code == 403, path
    assert Message.objects.get(pk=stuck.pk).status == ReplyStatus.STREAMING


@pytest.mark.parametrize("who", ["operator", "superuser"])
def test_the_operate_permission_or_a_superuser_may_act(who, client, operator, make_user, make_reply, settings):
    settings.WEBOX_RUNNER = "embedded"  # no workers: drain and resume answer, and refuse (no such worker)
    settings.WEBOX_REPLY_STALE_SECONDS = 60
    client.force_login(operator if who == "operator" else make_user("root", is_staff=True, is_superuser=True))
    answers = {}
    for path, data in ACTIONS:
        stuck = make_reply(ReplyStatus.STREAMING, idle_seconds=120)
        answers[path] = client.post(path.format(reply=stuck.pk), data).status_code
    assert answers == {
        "/dashboard/ops/replies/{reply}/end": 302, "/dashboard/ops/workers/drain": 302,
        "/dashboard/ops/workers/resume": 302, "/api/ops/replies/{reply}/end": 200,
        "/api/ops/workers/drain": 409, "/api/ops/workers/resume": 409,  # allowed, but in-process: no workers
    }
