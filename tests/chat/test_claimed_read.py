"""The claim's read (chat/services/claimed.py) reads what the ORM's ``select_related`` read does, field for field."""

from decimal import Decimal

import pytest
from django.db.models import Exists, OuterRef, Subquery

from chat.attachments.models import Attachment
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.providers import provider_create
from chat.providers.models import Provider
from chat.services import conversation_create, reply_start
from chat.services.claimed import claimed_reply
from chat.usage.models import ModelPrice

pytestmark = pytest.mark.django_db


def orm_read(reply_id: int) -> Message:
    """The same read through the ORM, as the claim made it before it was written in SQL."""
    prices = ModelPrice.objects.filter(provider=OuterRef("provider")).order_by()
    return (Message.objects.select_related("conversation", "reply_to").filter(pk=reply_id).annotate(
        provider_at=Subquery(Provider.objects.filter(name=OuterRef("provider")).values("updated_at")[:1]),
        price_model_at=Subquery(prices.filter(model=OuterRef("model")).values("updated_at")[:1]),
        price_any_at=Subquery(prices.filter(model="").values("updated_at")[:1]),
        question_has_files=Exists(Attachment.objects.filter(message_id=OuterRef("reply_to_id"))),
    ).get())


def assert_same_fields(ours, theirs):
    assert type(ours) is type(theirs)
    for field in type(theirs)._meta.concrete_fields:
        mine, orm = getattr(ours, field.attname), getattr(theirs, field.attname)
        assert (mine, type(mine)) == (orm, type(orm)), field.name
    assert ours._state.adding is False and ours._state.db == theirs._state.db


def pending_reply(user, *, provider="gpt", model="m1", files=False) -> Message:
    conversation = conversation_create(owner=user)
    Conversation.objects.filter(pk=conversation.pk).update(
        system_prompt="Be brief.", context_mode="chosen", default_params={"temperature": 0.5}, blind=True)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="what is a fox?")
    if files:
        Attachment.objects.create(owner=user, message=question, name="a.txt", kind="text", media_type="text/plain",
                                  size=3, sha256="0" * 64, text="fox")
    return Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider=provider, model=model,
                                  reply_to=question, status=ReplyStatus.PENDING, column="gpt:1",
                                  parameters={"temperature": 0.2, "max_tokens": 50}, estimate={"cost": "0.1"})


def test_the_claimed_reply_its_conversation_and_question_read_as_through_the_orm(user):
    reply = pending_reply(user, files=True)
    provider_create(name="gpt", kind="openai", api_key="k", model_names=["m1"], default_model="m1")
    ModelPrice.objects.create(provider="gpt", model="m1", input_price_per_mtok=Decimal("1"),
                              output_price_per_mtok=Decimal("2"))
    ModelPrice.objects.create(provider="gpt", model="", free=True)

    claimed = reply_start(reply_id=reply.pk)

    expected = orm_read(reply.pk)
    assert_same_fields(claimed, expected)
    assert_same_fields(claimed.conversation, expected.conversation)
    assert_same_fields(claimed.reply_to, expected.reply_to)
    assert claimed.status == ReplyStatus.STREAMING and claimed.started_at is not None
    for name in ("provider_at", "price_model_at", "price_any_at", "question_has_files"):
        assert getattr(claimed, name) == getattr(expected, name), name
        assert getattr(claimed, name) is not None, name
    assert claimed.question_has_files is True


def test_without_a_provider_record_prices_or_files_the_versions_are_none(user):
    reply = pending_reply(user, provider="demo", model="demo-echo")

    claimed = claimed_reply(reply.pk)

    assert (claimed.provider_at, claimed.price_model_at, claimed.price_any_at) == (None, None, None)
    assert claimed.question_has_files is False


def test_the_related_rows_are_read_with_the_reply_not_afterwards(user, django_assert_num_queries):
    reply = pending_reply(user)

    with django_assert_num_queries(1):
        claimed = claimed_reply(reply.pk)
        assert claimed.conversation.system_prompt == "Be brief."
        assert claimed.reply_to.content == "what is a fox?"


def test_a_reply_without_a_question_reads_none_for_it(user):
    conversation = conversation_create(owner=user)
    reply = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="demo", model="m")

    claimed = claimed_reply(reply.pk)

    assert claimed.reply_to is None and claimed.reply_to_id is None
    assert claimed.conversation == conversation


def test_a_reply_that_is_gone_reads_none(user):
    reply = pending_reply(user)
    reply.conversation.delete()

    assert claimed_reply(reply.pk) is None
