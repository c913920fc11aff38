"""The tree's read in SQL (chat/tree.py ``load_tree``): the (turn, parent) pairs the ORM's query gave, oldest first."""

import pytest

from chat.models import Message, ReplyStatus, Role
from chat.services import conversation_create
from chat.tree import load_tree

pytestmark = pytest.mark.django_db


def test_the_tree_holds_the_user_turns_of_its_conversation_only_in_order(user):
    conversation, other = conversation_create(owner=user), conversation_create(owner=user)
    first = Message.objects.create(conversation=conversation, role=Role.USER, content="1")
    Message.objects.create(conversation=conversation, role=Role.ASSISTANT, reply_to=first, status=ReplyStatus.PENDING)
    branch = [Message.objects.create(conversation=conversation, role=Role.USER, content=n, parent=first) for n in "ab"]
    Message.objects.create(conversation=conversation, role=Role.USER, content="fused", reply_to=first)
    Message.objects.create(conversation=other, role=Role.USER, content="elsewhere")

    tree = load_tree(conversation.pk)

    expected = list(Message.objects.filter(conversation_id=conversation.pk, role=Role.USER, reply_to__isnull=True)
                    .order_by("id").values_list("id", "parent_id"))
    assert list(tree.parent.items()) == expected == [(first.pk, None), *((turn.pk, first.pk) for turn in branch)]
    assert tree.children == {None: [first.pk], first.pk: [turn.pk for turn in branch]}
