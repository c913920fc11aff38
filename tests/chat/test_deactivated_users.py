"""Deactivating or deleting an account stops its replies still generating (chat/signals.py), and no one else's."""

import uuid

from accounts.services import user_set_active
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.stream_store import stream_store


def active_replies(owner):
    conversation = Conversation.objects.create(owner=owner)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="Hello")

    def reply(status, **fields):
        return Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="openai", model="m",
                                      reply_to=question, status=status, **fields)

    return reply(ReplyStatus.PENDING), reply(ReplyStatus.STREAMING, stream_id=uuid.uuid4().hex)


def test_deactivating_a_user_stops_their_pending_and_streaming_replies_only(
        user, other_user, django_capture_on_commit_callbacks):
    pending, streaming = active_replies(user)
    others_pending, others_streaming = active_replies(other_user)

    with django_capture_on_commit_callbacks(execute=True):
        assert user_set_active(user=user, active=False)

    pending.refresh_from_db()
    assert pending.status == ReplyStatus.CANCELLED
    # A streaming reply is stopped by whichever worker runs it, through the stream store's flag.
    keys = [streaming.stream_key, others_streaming.stream_key]
    assert stream_store().cancel_requested(keys) == {streaming.stream_key}
    others_pending.refresh_from_db()
    assert others_pending.status == ReplyStatus.PENDING


def test_other_saves_of_a_user_stop_nothing(user, django_capture_on_commit_callbacks):
    pending, streaming = active_replies(user)
    with django_capture_on_commit_callbacks(execute=True):
        user.first_name = "Alice"
        user.save()
        user_set_active(user=user, active=True)  # already active: nothing changes

    pending.refresh_from_db()
    assert pending.status == ReplyStatus.PENDING
    assert stream_store().cancel_requested([streaming.stream_key]) == set()


def test_deleting_a_user_asks_their_streaming_replies_to_stop(user, other_user):
    _, streaming = active_replies(user)
    _, others_streaming = active_replies(other_user)
    key = streaming.stream_key

    user.delete()

    assert not Message.objects.filter(pk=streaming.pk).exists()
    assert stream_store().cancel_requested([key, others_streaming.stream_key]) == {key}
