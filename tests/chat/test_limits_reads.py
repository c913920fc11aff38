"""The limits' reads in SQL (chat/limits.py) read what the ORM's did: a user's overrides, locked, and their
replies generating."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from accounts.models import UserLimits
from chat import limits
from chat.models import ACTIVE_STATUSES, Message, ReplyStatus, Role
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def test_a_users_own_limits_are_read_with_their_types_and_the_defaults_fill_the_rest(user, settings):
    settings.WEBOX_MAX_ACTIVE_REPLIES, settings.WEBOX_MONTHLY_TOKEN_BUDGET = 16, 1000
    UserLimits.objects.create(user=user, max_active_replies=3, monthly_cost_budget=Decimal("0.1"))

    with transaction.atomic():
        read = limits.lock_user_and_read_limits(user)

    assert read == limits.EffectiveLimits(3, 1000, Decimal("0.1"))
    assert type(read.monthly_cost_budget) is Decimal and type(read.max_active_replies) is int


def test_a_user_without_limits_of_their_own_gets_the_sites(user, settings):
    settings.WEBOX_MAX_ACTIVE_REPLIES, settings.WEBOX_MONTHLY_COST_BUDGET = 5, Decimal("7.5")

    with transaction.atomic():
        assert limits.lock_user_and_read_limits(user) == limits.EffectiveLimits(5, 0, Decimal("7.5"))


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="the database locks no rows")
@pytest.mark.django_db(transaction=True)
def test_the_lock_outside_a_transaction_is_refused_as_the_orms_select_for_update(user):
    with pytest.raises(TransactionManagementError):
        limits.lock_user_and_read_limits(user)


def test_the_replies_generating_are_counted_as_the_orm_counts_them(user, other_user):
    for owner in (user, other_user):
        conversation = conversation_create(owner=owner)
        question = Message.objects.create(conversation=conversation, role=Role.USER, content="q")
        for status in ReplyStatus.values:
            Message.objects.create(conversation=conversation, role=Role.ASSISTANT, reply_to=question, status=status)
        Message.objects.create(conversation=conversation, role=Role.USER, content="r", status=ReplyStatus.PENDING)

    expected = Message.objects.filter(conversation__owner_id=user.pk, role=Role.ASSISTANT,
                                      status__in=ACTIVE_STATUSES).count()
    assert limits.active_replies(user) == expected == 2
