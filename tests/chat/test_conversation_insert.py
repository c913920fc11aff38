"""A new conversation's INSERT (chat/services/conversation_insert.py) stores what the ORM's ``save()`` stores."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import signals

from chat.models import ContextMode, Conversation
from chat.services import conversation_create
from chat.services.conversation_insert import conversation_insert

pytestmark = pytest.mark.django_db

SAVED_LATER = {"id", "created_at", "updated_at"}


def fields_of(conversation: Conversation) -> dict:
    return {field.attname: getattr(conversation, field.attname) for field in Conversation._meta.concrete_fields}


def assert_same_types(ours: dict, theirs: dict) -> None:
    assert {name: type(value) for name, value in ours.items()} == {name: type(value) for name, value in theirs.items()}


@pytest.mark.parametrize("fields", [
    {},
    {"title": "Foxes", "system_prompt": "Be brief.", "context_mode": ContextMode.CHOSEN, "archived": True,
     "blind": True, "default_providers": ["gpt"], "default_models": {"gpt": "m1"},
     "default_params": {"temperature": 0.5}, "default_columns": [{"key": "gpt:1", "provider": "gpt"}],
     "metadata": {"imported_from": "chatgpt"}},
])
def test_a_new_conversation_is_stored_and_returned_as_the_orms_save_does(user, fields):
    ours = conversation_insert(Conversation(owner=user, **fields))
    theirs = Conversation(owner=user, **fields)
    theirs.save()

    assert ours.pk is not None and ours.pk != theirs.pk
    assert ours._state.adding is False and ours._state.db == theirs._state.db
    # As returned: every field, with the same types (the ids and times differ).
    returned, orm_returned = fields_of(ours), fields_of(theirs)
    assert_same_types(returned, orm_returned)
    assert {k: v for k, v in returned.items() if k not in SAVED_LATER} == \
           {k: v for k, v in orm_returned.items() if k not in SAVED_LATER}
    # As stored: read back, it is what was returned.
    stored = fields_of(Conversation.objects.get(pk=ours.pk))
    assert stored == returned
    assert_same_types(stored, fields_of(Conversation.objects.get(pk=theirs.pk)))


def test_the_save_signals_are_sent_as_for_the_orms_save(user):
    sent = []

    def pre(sender, instance, **kwargs):
        sent.append(("pre_save", instance.pk, kwargs))

    def post(sender, instance, **kwargs):
        sent.append(("post_save", instance.pk, kwargs))

    signals.pre_save.connect(pre, sender=Conversation)
    signals.post_save.connect(post, sender=Conversation)
    try:
        ours = conversation_insert(Conversation(owner=user))
        theirs = Conversation(owner=user)
        theirs.save()
    finally:
        signals.pre_save.disconnect(pre, sender=Conversation)
        signals.post_save.disconnect(post, sender=Conversation)

    def without_signal(events):
        return [(name, kwargs) for name, _, kwargs in events]

    assert [(name, pk) for name, pk, _ in sent] == [("pre_save", None), ("post_save", ours.pk),
                                                     ("pre_save", None), ("post_save", theirs.pk)]
    assert without_signal(sent[:2]) == without_signal(sent[2:])


def test_a_failed_insert_marks_its_transaction_for_rollback_as_the_orms_does():
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            conversation_insert(Conversation(owner_id=None))
        assert transaction.get_connection().needs_rollback is True


def test_the_api_service_stores_through_it(user):
    conversation = conversation_create(owner=user, title="  A title  ")
    assert Conversation.objects.get(pk=conversation.pk).title == "A title"
