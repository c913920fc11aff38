"""``conversation_get_for_user`` (chat/selectors.py), SQL written once, reads a conversation as the ORM's
``Conversation.objects.get(pk=…, owner=…)`` does, and finds only the user's own."""

import pytest
from django.utils import timezone

from chat.models import Conversation, Folder, Message, Role
from chat.selectors import ConversationNotFound, conversation_get_for_user
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def test_the_conversation_reads_field_for_field_as_through_the_orm(user):
    conversation = conversation_create(owner=user, title="Foxes", system_prompt="Be brief.", context_mode="chosen",
                                       default_providers=["demo"], default_models={"demo": "demo-echo"},
                                       default_params={"temperature": 0.5}, blind=True)
    leaf = Message.objects.create(conversation=conversation, role=Role.USER, content="q")
    Conversation.objects.filter(pk=conversation.pk).update(
        folder=Folder.objects.create(owner=user, name="f"), pinned_at=timezone.now(), active_leaf=leaf,
        metadata={"from": "狐"}, archived=True)

    ours = conversation_get_for_user(user=user, conversation_id=str(conversation.pk))
    theirs = Conversation.objects.get(pk=conversation.pk, owner=user)

    for field in Conversation._meta.concrete_fields:
        mine, orm = getattr(ours, field.attname), getattr(theirs, field.attname)
        assert (mine, type(mine)) == (orm, type(orm)), field.name
    assert ours._state.adding is False and ours._state.db == theirs._state.db


@pytest.mark.parametrize("conversation_id", ["another's", "none", "nope", 2**63, -(2**63) - 1])
def test_what_is_not_the_users_conversation_is_not_found(user, other_user, conversation_id):
    ids = {"another's": conversation_create(owner=other_user).pk, "none": 10**9}
    conversation_create(owner=user)

    with pytest.raises(ConversationNotFound):
        conversation_get_for_user(user=user, conversation_id=ids.get(conversation_id, conversation_id))


def test_a_send_to_an_id_out_of_range_answers_404(auth_client):
    sent = auth_client.post("/api/chat/send", {"message": "hi", "selected_providers": ["demo"],
                                               "conversation_id": 2**70}, format="json")

    assert sent.status_code == 404
