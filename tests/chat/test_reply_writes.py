"""A reply's claim and end UPDATE in SQL (chat/services/reply_writes.py) store what the ORM's ``update()`` stores."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chat.models import ACTIVE_STATUSES, Message, ReplyStatus, Role
from chat.services import conversation_create
from chat.services.reply_writes import update_reply_if

pytestmark = pytest.mark.django_db

ENDED = {"status": ReplyStatus.COMPLETE, "completed_at": datetime(2026, 12, 6, 19, 30, 1, 250000, tzinfo=UTC),
         "content": "a fox — 狐", "seq": 7, "prompt_tokens": 12, "completion_tokens": 20, "cost": Decimal("0.00012345"),
         "cost_currency": "USD", "usage_estimated": True, "cost_estimated": False, "tokens_per_second": 41.5,
         "finish_reason": "stop", "error_detail": ""}


def two_replies(user, status=ReplyStatus.STREAMING) -> tuple[Message, Message]:
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="q")
    return tuple(Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="demo", model="m",
                                        reply_to=question, status=status) for _ in range(2))


def stored(reply: Message) -> dict:
    return {name: getattr(Message.objects.get(pk=reply.pk), name) for name in ENDED}


def test_the_values_read_back_as_those_the_orms_update_stores(user):
    ours, orms = two_replies(user)

    assert update_reply_if(ours.pk, ACTIVE_STATUSES, **ENDED) == 1
    Message.objects.filter(pk=orms.pk, status__in=ACTIVE_STATUSES).update(**ENDED)

    assert stored(ours) == stored(orms) == ENDED


def test_a_reply_in_another_status_is_left_alone(user):
    reply, other = two_replies(user, status=ReplyStatus.CANCELLED)

    assert update_reply_if(reply.pk, ACTIVE_STATUSES, **ENDED) == 0
    assert update_reply_if(reply.pk, (ReplyStatus.PENDING,), status=ReplyStatus.STREAMING) == 0

    assert Message.objects.get(pk=reply.pk).status == ReplyStatus.CANCELLED
    assert Message.objects.get(pk=reply.pk).content == ""


def test_only_the_reply_named_is_written(user):
    reply, other = two_replies(user, status=ReplyStatus.PENDING)

    assert update_reply_if(reply.pk, (ReplyStatus.PENDING,), status=ReplyStatus.STREAMING, stream_id="abc") == 1

    assert (Message.objects.get(pk=reply.pk).status, Message.objects.get(pk=reply.pk).stream_id) == (
        ReplyStatus.STREAMING, "abc")
    assert Message.objects.get(pk=other.pk).status == ReplyStatus.PENDING
