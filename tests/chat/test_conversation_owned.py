"""``conversation_owned`` (chat/selectors.py) answers as ``conversation_get_for_user`` finds or refuses."""

import pytest
from django.contrib.auth.models import AnonymousUser

from chat.models import Conversation
from chat.selectors import ConversationNotFound, conversation_get_for_user, conversation_owned

pytestmark = pytest.mark.django_db


def found(user, conversation_id) -> bool:
    try:
        conversation_get_for_user(user=user, conversation_id=conversation_id)
    except ConversationNotFound:
        return False
    return True


def test_a_conversation_is_owned_exactly_when_the_access_check_finds_it(user, other_user):
    mine = Conversation.objects.create(owner=user, title="mine")
    cases = [(user, mine.pk, True), (user, str(mine.pk), True), (other_user, mine.pk, False),
             (user, mine.pk + 1000, False), (AnonymousUser(), mine.pk, False), (user, "x", False),
             (user, None, False), (user, 2**63, False), (user, -(2**63) - 1, False)]
    for who, conversation_id, owned in cases:
        assert conversation_owned(user=who, conversation_id=conversation_id) is owned, (who, conversation_id)
        assert found(who, conversation_id) is owned, (who, conversation_id)


def test_the_answer_is_one_query_that_reads_no_row(user, django_assert_num_queries):
    mine = Conversation.objects.create(owner=user, title="mine")
    with django_assert_num_queries(1) as queries:
        assert conversation_owned(user=user, conversation_id=mine.pk)
    assert queries.captured_queries[0]["sql"].startswith("SELECT 1 FROM")
