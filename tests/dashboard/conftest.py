from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation, Message, ReplyStatus, Role


@pytest.fixture
def staff(make_user):
    return make_user("operator", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def make_reply(user):
    """A stored reply in a given state; ``idle_seconds`` moves its last checkpoint into the past."""
    conversation = Conversation.objects.create(owner=user, title="ops")
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="hi")

    def make(status=ReplyStatus.STREAMING, *, provider="gpt", model="m", idle_seconds=0, **fields):
        reply = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, reply_to=question,
                                       provider=provider, model=model, status=status, **fields)
        if idle_seconds:
            Message.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - timedelta(seconds=idle_seconds))
        return reply

    return make
