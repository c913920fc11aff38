"""The user admin: chat totals per user, and deactivating accounts from the list."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from chat.models import Conversation, Message, ReplyStatus, Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIST = "/admin/accounts/user/"


@pytest.fixture
def staff(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def converse(owner, turns: int, replies_per_turn: int) -> Conversation:
    conversation = Conversation.objects.create(owner=owner, title="talk")
    for _ in range(turns):
        question = Message.objects.create(conversation=conversation, role=Role.USER, content="q")
        for n in range(replies_per_turn):
            Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider=f"p{n}", model="m",
                                   reply_to=question, status=ReplyStatus.COMPLETE, content="a")
    return conversation


def test_list_shows_conversation_and_reply_totals_per_user(staff_client, user, other_user):
    converse(user, turns=2, replies_per_turn=3)
    converse(user, turns=1, replies_per_turn=2)
    converse(other_user, turns=1, replies_per_turn=1)
    page = staff_client.get(LIST, {"o": "-6"})  # by replies, most first
    assert page.status_code == 200
    rows = [(u.username, u.conversation_total, u.reply_total) for u in page.context["cl"].result_list]
    assert rows == [("alice", 2, 8), ("mallory", 1, 1), ("root", 0, 0)]
    assert '<td class="field-reply_total">8</td>' in page.content.decode()


def test_list_shows_each_users_known_cost(staff_client, user, other_user):
    converse(user, turns=1, replies_per_turn=3)
    converse(other_user, turns=1, replies_per_turn=1)
    replies = list(Message.objects.filter(conversation__owner=user, role=Role.ASSISTANT).order_by("pk"))
    Message.objects.filter(pk=replies[0].pk).update(cost=Decimal("0.25"), cost_currency="USD")
    Message.objects.filter(pk=replies[1].pk).update(cost=Decimal("0.5"), cost_currency="USD")
    page = staff_client.get(LIST)
    by_name = {row.username: row for row in page.context["cl"].result_list}
    assert by_name[user.username].cost_total == Decimal("0.75")
    assert by_name[other_user.username].cost_total is None  # no known price: not shown as 0
    html = page.content.decode()
    row = html[html.index(f">{user.username}<"):]
    assert '<td class="field-cost_total">0.75</td>' in row[:row.index("</tr>")]


def test_deactivate_action_stops_the_user_signing_in(staff_client, user):
    browser = APIClient()
    assert browser.login(username="alice", password=PASSWORD)
    assert browser.get("/api/chat/conversations").status_code == 200
    token = APIClient().post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert token.status_code == 200

    response = staff_client.post(LIST, {"action": "deactivate", "_selected_action": [user.pk]})
    assert response.status_code == 302
    assert not get_user_model().objects.get(pk=user.pk).is_active
    assert browser.get("/api/chat/conversations").status_code in (401, 403)
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    assert bearer.get("/api/chat/conversations").status_code == 401
    assert not APIClient().login(username="alice", password=PASSWORD)

    staff_client.post(LIST, {"action": "activate", "_selected_action": [user.pk]})
    assert get_user_model().objects.get(pk=user.pk).is_active


def test_staff_cannot_deactivate_themselves(staff_client, staff, user):
    staff_client.post(LIST, {"action": "deactivate", "_selected_action": [staff.pk, user.pk]})
    assert get_user_model().objects.filter(is_active=True).count() == 2
    messages = [str(m) for m in staff_client.get(LIST).context["messages"]]
    assert messages == ["You cannot deactivate your own account."]
