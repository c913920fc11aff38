"""A joining socket's snapshot read (chat/streaming/join_reads.py) reads what the ORM's query does, field for field."""

from decimal import Decimal

import pytest
from django.utils import timezone

from chat.models import ACTIVE_STATUSES, Conversation, Message, ReplyStatus, Role
from chat.streaming.join_reads import active_replies

pytestmark = pytest.mark.django_db


def orm_active_replies(conversation_id: int) -> list[Message]:
    """The same read through the ORM, as the snapshot made it before it was written in SQL."""
    return list(Message.objects.filter(conversation_id=conversation_id, role=Role.ASSISTANT,
                                       status__in=ACTIVE_STATUSES).order_by("created_at", "id"))


def assert_same_rows(ours: list[Message], theirs: list[Message]) -> None:
    assert [message.pk for message in ours] == [message.pk for message in theirs]
    for mine, orm in zip(ours, theirs, strict=True):
        assert type(mine) is type(orm)
        for field in Message._meta.concrete_fields:
            value, expected = getattr(mine, field.attname), getattr(orm, field.attname)
            assert (value, type(value)) == (expected, type(expected)), field.name
        assert mine._state.adding is False and mine._state.db == orm._state.db


def test_the_active_replies_read_as_through_the_orm_every_field_and_in_order(user, make_reply):
    streaming = make_reply("streaming", content="half a fox", seq=3, stream_id="s-1", column="gpt:1",
                           parameters={"temperature": 0.2}, estimate={"cost": "0.1"}, cost=Decimal("0.00012"),
                           chosen=True, usage_estimated=True, tokens_per_second=12.5, started_at=timezone.now(),
                           blind_label="A", fuse={"sources": [1, 2]})
    pending = make_reply("pending")
    make_reply("completed", content="done", completed_at=timezone.now())
    make_reply("error", error_code="boom")
    # Two rows with the same created_at: the id decides their order, as in the ORM's.
    Message.objects.filter(pk=pending.pk).update(created_at=streaming.created_at)
    Message.objects.create(conversation=streaming.conversation, role=Role.USER, status=ReplyStatus.STREAMING)
    other = Conversation.objects.create(owner=user, title="other")
    Message.objects.create(conversation=other, role=Role.ASSISTANT, status=ReplyStatus.STREAMING)

    ours = active_replies(conversation_id=streaming.conversation_id)

    assert [reply.pk for reply in ours] == [streaming.pk, pending.pk]
    assert_same_rows(ours, orm_active_replies(streaming.conversation_id))


def test_a_conversation_without_active_replies_has_none(user):
    conversation = Conversation.objects.create(owner=user, title="quiet")
    assert active_replies(conversation_id=conversation.pk) == orm_active_replies(conversation.pk) == []

