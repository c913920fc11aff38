"""A socket ``send`` frame with ``edit`` edits that user message and sends it again, as the REST edit does."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chat.models import Conversation, Message
from chat.services import conversation_create
from tests.conftest import send_turn

from .conftest import connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


async def receive(comm, kind):
    while True:
        event = await comm.receive_json_from(timeout=10)
        if event["type"] == kind:
            return event


async def test_an_edit_frame_makes_a_new_branch_and_refuses_a_message_of_another_conversation(user, settings):
    settings.WEBOX_DEMO_DELAY_MS = 1
    conversation = await sync_to_async(conversation_create)(owner=user)
    other = await sync_to_async(conversation_create)(owner=user)
    first = (await sync_to_async(send_turn)(user=user, conversation=conversation, message="q1",
                                            selected_providers=["demo"])).user_message
    elsewhere = (await sync_to_async(send_turn)(user=user, conversation=other, message="there",
                                                selected_providers=["demo"])).user_message
    comm = await connect(user, conversation.pk)
    await receive(comm, "snapshot")

    await comm.send_json_to({"type": "send", "edit": elsewhere.pk, "message": "no"})
    error = await receive(comm, "error")
    assert error["code"] == "not_found"
    await comm.send_json_to({"type": "send", "edit": first.pk, "message": "q1", "selected_providers": ["demo"]})
    assert (await receive(comm, "error"))["code"] == "invalid"
    assert await Message.objects.filter(role="user").acount() == 2

    await comm.send_json_to({"type": "send", "edit": first.pk, "message": "q1, edited"})
    updated = await receive(comm, "conversation.updated")
    created = await receive(comm, "message.created")
    assert created["message"]["content"] == "q1, edited" and created["message"]["parent"] is None
    assert created["message"]["branch"] == {"index": 2, "count": 2, "siblings": [first.pk, created["message"]["id"]]}
    assert updated["conversation"]["active_leaf"] == created["message"]["id"]
    assert (await Conversation.objects.aget(pk=conversation.pk)).active_leaf_id == created["message"]["id"]
    await receive(comm, "message.completed")
    await comm.disconnect()
