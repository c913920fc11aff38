"""A socket ``send`` frame takes ``attachments`` as the REST send does: the user's own pending uploads only."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chat.attachments.services import attachment_upload
from chat.models import Attachment, Message
from chat.services import conversation_create
from tests.streaming.conftest import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


async def receive(comm, kind):
    while True:
        event = await comm.receive_json_from(timeout=10)
        if event["type"] == kind:
            return event


async def test_a_send_frame_carries_attachments_and_refuses_another_users(user, other_user, settings):
    settings.WEBOX_DEMO_DELAY_MS = 1
    conversation = await sync_to_async(conversation_create)(owner=user, title="files")
    mine = await sync_to_async(attachment_upload)(owner=user, name="a.txt", data=b"alpha")
    theirs = await sync_to_async(attachment_upload)(owner=other_user, name="b.txt", data=b"beta")
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")

    frame = {"type": "send", "message": "read", "selected_providers": ["demo"]}
    await comm.send_json_to({**frame, "attachments": [theirs.pk]})
    error = await receive(comm, "error")
    assert error["code"] == "not_found" and "attachment" in error["detail"]

    await comm.send_json_to({**frame, "attachments": [mine.pk]})
    created = await receive(comm, "message.created")
    assert [a["id"] for a in created["message"]["attachments"]] == [mine.pk]
    assert (await Attachment.objects.aget(pk=mine.pk)).message_id == created["message"]["id"]
    assert await Message.objects.filter(role="user").acount() == 1
    # The demo reply ends before the test does (its end must not race the teardown's flush).
    await receive(comm, "message.completed")
    await comm.disconnect()
