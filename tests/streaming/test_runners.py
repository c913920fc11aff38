"""Starting stored replies: a queue that refuses them never costs the turn, and the sweep ends them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from chat.models import Message, ReplyStatus
from chat.services import replies_sweep_orphans
from chat.streaming import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_send_while_the_broker_is_down_is_stored_once_and_its_replies_end_by_the_sweep(
        user, settings, monkeypatch, caplog):
    settings.WEBOX_RUNNER = "celery"

    def broker_down(*args, **kwargs):  # what Celery raises when it cannot reach its broker
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.generate_reply, "delay", broker_down)
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/chat/send", {"message": "anyone?", "selected_providers": ["demo"]}, format="json")
    assert response.status_code == 202, response.content
    [reply] = response.json()["replies"]
    assert Message.objects.filter(conversation__owner=user).count() == 2
    assert Message.objects.get(pk=reply["id"]).status == ReplyStatus.PENDING
    assert f"replies [{reply['id']}] could not be started" in caplog.text
    # Not lost: once stale, the sweep ends it, and the client is told why.
    Message.objects.filter(pk=reply["id"]).update(
        updated_at=timezone.now() - timedelta(seconds=settings.WEBOX_REPLY_STALE_SECONDS + 1))
    assert [m.pk for m in replies_sweep_orphans()] == [reply["id"]]
    ended = Message.objects.get(pk=reply["id"])
    assert (ended.status, ended.error_code) == (ReplyStatus.ERROR, "orphaned")
