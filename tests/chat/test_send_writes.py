"""A send's writes in SQL (chat/services/send_writes.py) store and return what the ORM's ``create``,
``bulk_create``, ``save(update_fields=…)`` and ``update()`` do."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from chat.models import Conversation, Message, ReplyStatus, Role
from chat.services import conversation_create
from chat.services.send_writes import conversation_save, estimates_update, messages_insert

pytestmark = pytest.mark.django_db

ESTIMATE = {"key": "a", "input_tokens": 5, "exact": False, "cost_low": "0.1", "currency": "USD", "note": "狐"}


def assert_same_fields(ours: Message, theirs: Message, *, but=("id", "created_at", "updated_at")):
    for field in Message._meta.concrete_fields:
        if field.name in but:
            continue
        mine, orm = getattr(ours, field.attname), getattr(theirs, field.attname)
        assert (mine, type(mine)) == (orm, type(orm)), field.name


def replies_to(question: Message, count: int) -> list[Message]:
    return [Message(conversation=question.conversation, role=Role.ASSISTANT, provider="demo", model=f"m{n}",
                    column=f"demo#{n}", reply_to=question, status=ReplyStatus.PENDING,
                    parameters={"temperature": 0.5, "history": "empty"}, blind_label="AB"[n]) for n in range(count)]


def test_inserted_messages_read_back_as_the_orms_and_the_instances_as_saved(user):
    conversation = conversation_create(owner=user)
    before = timezone.now()
    [ours] = messages_insert([Message(conversation=conversation, role=Role.USER, content="a fox — 狐")])
    theirs = Message.objects.create(conversation=conversation, role=Role.USER, content="a fox — 狐")

    assert_same_fields(Message.objects.get(pk=ours.pk), Message.objects.get(pk=theirs.pk))
    assert_same_fields(ours, theirs)
    assert ours._state.adding is False and ours._state.db == theirs._state.db
    stored = Message.objects.get(pk=ours.pk)
    assert before <= ours.created_at == stored.created_at and ours.updated_at == stored.updated_at


def test_several_messages_go_in_one_insert_in_order_with_their_ids(user, django_assert_num_queries):
    question = Message.objects.create(conversation=conversation_create(owner=user), role=Role.USER, content="q")

    with django_assert_num_queries(1):
        ours = messages_insert(replies_to(question, 2))
    theirs = Message.objects.bulk_create(replies_to(question, 2))

    assert [reply.model for reply in Message.objects.filter(pk__in=[r.pk for r in ours]).order_by("pk")] == ["m0", "m1"]
    for mine, orm in zip(ours, theirs, strict=True):
        assert_same_fields(Message.objects.get(pk=mine.pk), Message.objects.get(pk=orm.pk))
        assert_same_fields(mine, orm)


def test_a_message_following_one_stored_in_the_same_call_gets_its_parents_id(user):
    conversation = conversation_create(owner=user)
    [first] = messages_insert([Message(conversation=conversation, role=Role.USER, content="q")])
    [second] = messages_insert([Message(conversation=conversation, role=Role.USER, content="r", parent=first)])

    assert Message.objects.get(pk=second.pk).parent_id == first.pk


def test_a_conversation_saved_stores_its_fields_and_moves_updated_at_as_the_orms_save(user):
    ours, theirs = conversation_create(owner=user), conversation_create(owner=user)
    leaf = Message.objects.create(conversation=ours, role=Role.USER, content="q")
    for conversation in (ours, theirs):
        conversation.title, conversation.system_prompt, conversation.active_leaf = "Foxes", "Be brief.", leaf
    stale = ours.updated_at

    conversation_save(ours, ["title", "system_prompt", "active_leaf", "updated_at"])
    theirs.save(update_fields=["title", "system_prompt", "active_leaf", "updated_at"])

    stored = Conversation.objects.get(pk=ours.pk)
    assert (stored.title, stored.system_prompt, stored.active_leaf_id) == ("Foxes", "Be brief.", leaf.pk)
    assert stored.updated_at == ours.updated_at > stale
    assert type(ours.updated_at) is type(theirs.updated_at)


def test_saving_a_deleted_conversation_fails_as_the_orms_save(user):
    conversation = conversation_create(owner=user)
    Conversation.objects.filter(pk=conversation.pk).delete()

    with pytest.raises(DatabaseError, match="did not affect any rows"):
        conversation_save(conversation, ["title", "updated_at"])


def test_the_estimates_are_stored_per_reply_in_one_update_leaving_the_rest(user, django_assert_num_queries):
    question = Message.objects.create(conversation=conversation_create(owner=user), role=Role.USER, content="q")
    replies = messages_insert(replies_to(question, 2))
    updated_at = Message.objects.get(pk=replies[0].pk).updated_at
    replies[0].estimate, replies[1].estimate = ESTIMATE, {**ESTIMATE, "key": "b", "cost_low": None}

    with django_assert_num_queries(1):
        estimates_update(replies)

    stored = Message.objects.get(pk=replies[0].pk)
    assert [Message.objects.get(pk=r.pk).estimate for r in replies] == [ESTIMATE, {**ESTIMATE, "key": "b",
                                                                                  "cost_low": None}]
    assert stored.updated_at == updated_at and stored.content == "" and question.estimate is None
    assert stored.updated_at < timezone.now() + timedelta(seconds=1)
