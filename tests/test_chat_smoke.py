import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chat.services import message_send

from .chat_helpers import StreamLog, all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_demo_reply_streams_to_socket(user, settings):
    settings.WEBOX_DEMO_DELAY_MS = 5
    conversation = (await sync_to_async(message_send)(
        user=user, conversation=None, message="warm up", selected_providers=["demo"])).conversation
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    log.add(await comm.receive_json_from())
    result = await sync_to_async(message_send)(
        user=user, conversation=conversation, message="hello there", selected_providers=["demo"])
    reply_id = result.replies[0].pk
    await collect_until(comm, log, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    assert stored.status == "complete"
    assert log.text[reply_id] == stored.content
    assert "hello there" in stored.content
    await comm.disconnect()
