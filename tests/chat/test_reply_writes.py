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


def test_a_checkpoint_stores_each_replys_own_text_and_seq_as_the_orms_case_update_does(user):
    from django.db.models import Case, PositiveIntegerField, TextField, Value, When

    from chat.services.reply_writes import checkpoint_streaming

    ours = two_replies(user)
    orms = two_replies(user)
    now = datetime(2026, 12, 7, 1, 2, 3, 456000, tzinfo=UTC)
    texts = ["half of a fox — 狐 'quoted' %s", "another; DROP TABLE x; --"]

    checkpoints = [(r.pk, text, i + 3) for i, (r, text) in enumerate(zip(ours, texts, strict=True))]
    assert checkpoint_streaming(checkpoints, now) == 2
    Message.objects.filter(pk__in=[r.pk for r in orms], status=ReplyStatus.STREAMING).update(
        content=Case(*(When(pk=r.pk, then=Value(t)) for r, t in zip(orms, texts, strict=True)),
                     output_field=TextField()),
        seq=Case(*(When(pk=r.pk, then=Value(i + 3)) for i, r in enumerate(orms)), output_field=PositiveIntegerField()),
        updated_at=now)

    def rows(replies):
        return [Message.objects.values_list("content", "seq", "updated_at").get(pk=r.pk) for r in replies]

    assert rows(ours) == rows(orms) == [(texts[0], 3, now), (texts[1], 4, now)]


def test_a_checkpoint_leaves_a_reply_that_has_ended_alone(user):
    from chat.services.reply_writes import checkpoint_streaming

    streaming, _ = two_replies(user)
    ended, _ = two_replies(user, status=ReplyStatus.COMPLETE)
    now = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)

    assert checkpoint_streaming([(streaming.pk, "so far", 2), (ended.pk, "late text", 9)], now) == 1

    assert Message.objects.values_list("content", "seq").get(pk=streaming.pk) == ("so far", 2)
    assert Message.objects.values_list("content", "seq", "status").get(pk=ended.pk) == ("", 0, ReplyStatus.COMPLETE)
