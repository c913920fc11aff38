"""Celery's settings for long streams, read from the environment (docs/deployment.md, "Celery for long
streams"): time limits above the longest allowed reply, one queue per provider where asked, prefetch,
pool and concurrency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from celery.app.routes import prepare
from kombu.utils.functional import maybe_evaluate

from chat.models import Message
from testing.processes import ROOT

SHOW = ("import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({k: getattr(s, k)"
        " for k in ('CELERY_TASK_SOFT_TIME_LIMIT', 'CELERY_TASK_TIME_LIMIT', 'CELERY_TASK_QUEUES',"
        " 'WEBOX_CELERY_PROVIDER_QUEUES', 'CELERY_WORKER_PREFETCH_MULTIPLIER', 'CELERY_WORKER_POOL',"
        " 'CELERY_WORKER_CONCURRENCY', 'CELERY_TASK_ACKS_LATE')}))")


def settings_with(**env: str) -> subprocess.CompletedProcess:
    """webox's settings as a new process with ``env`` reads them."""
    return subprocess.run([sys.executable, "-c", SHOW], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "webox.settings", **env})


def test_celery_settings_come_from_the_environment():
    result = settings_with(WEBOX_REPLY_DEADLINE_SECONDS="300", WEBOX_CELERY_PROVIDER_QUEUES="claude=w-ant, gpt=w-oai",
                           WEBOX_CELERY_QUEUE="w-default", WEBOX_CELERY_PREFETCH="2", WEBOX_CELERY_POOL="prefork",
                           WEBOX_CELERY_CONCURRENCY="4")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    # The limits follow the reply deadline: a reply inside it is never cut by Celery.
    assert 300 < shown["CELERY_TASK_SOFT_TIME_LIMIT"] < shown["CELERY_TASK_TIME_LIMIT"]
    assert shown["WEBOX_CELERY_PROVIDER_QUEUES"] == {"claude": "w-ant", "gpt": "w-oai"}
    # A worker without -Q consumes the default queue and every provider's.
    assert list(shown["CELERY_TASK_QUEUES"]) == ["w-default", "w-ant", "w-oai"]
    assert (shown["CELERY_WORKER_PREFETCH_MULTIPLIER"], shown["CELERY_WORKER_POOL"],
            shown["CELERY_WORKER_CONCURRENCY"]) == (2, "prefork", 4)
    assert shown["CELERY_TASK_ACKS_LATE"] is False


def test_a_soft_time_limit_inside_the_reply_deadline_is_refused():
    result = settings_with(WEBOX_REPLY_DEADLINE_SECONDS="600", WEBOX_CELERY_SOFT_TIME_LIMIT="300")
    assert result.returncode != 0
    assert "WEBOX_CELERY_SOFT_TIME_LIMIT must be above WEBOX_REPLY_DEADLINE_SECONDS" in result.stderr


@pytest.mark.django_db
def test_a_reply_goes_to_its_providers_queue(settings, user):
    from django.conf import settings as django_settings

    (lazy_router,) = prepare(django_settings.CELERY_TASK_ROUTES)
    router = maybe_evaluate(lazy_router)  # the string in the settings names the router, as Celery reads it
    settings.WEBOX_CELERY_PROVIDER_QUEUES = {"claude": "webox-anthropic"}
    from chat.services import conversation_create

    conversation = conversation_create(owner=user)
    claude = Message.objects.create(conversation=conversation, role="assistant", provider="claude", model="m")
    gpt = Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="m")
    assert router("chat.tasks.generate_reply", (claude.pk,), {}, {}) == {"queue": "webox-anthropic"}
    assert router("chat.tasks.generate_reply", (gpt.pk,), {}, {}) is None  # the default queue
    assert router("chat.tasks.sweep_orphaned_replies", (), {}, {}) is None
