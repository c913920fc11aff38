import pytest

from chat.models import Conversation, Message, ReplyStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_lists_conversations_and_searches_message_text(staff_client, user):
    hit = Conversation.objects.create(owner=user, title="Weather talk")
    Message.objects.create(conversation=hit, role="user", content="Is it raining in Lisbon?")
    Message.objects.create(conversation=hit, role="user", content="And in Lisbon tomorrow?")
    miss = Conversation.objects.create(owner=user, title="Other")
    Message.objects.create(conversation=miss, role="user", content="Tell me a joke")

    page = staff_client.get("/admin/chat/conversation/", {"q": "lisbon"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [hit]


def test_admin_conversation_page_shows_messages_inline(staff_client, user):
    conversation = Conversation.objects.create(owner=user, title="Inline")
    Message.objects.create(
        conversation=conversation, role="assistant", provider="demo", model="demo-1",
        content="a reply", status=ReplyStatus.COMPLETE,
    )
    page = staff_client.get(f"/admin/chat/conversation/{conversation.pk}/change/")
    assert page.status_code == 200
    assert b"a reply" in page.content


def test_admin_filters_by_archived(staff_client, user):
    Conversation.objects.create(owner=user, title="Kept")
    Conversation.objects.create(owner=user, title="Old", archived=True)
    page = staff_client.get("/admin/chat/conversation/", {"archived__exact": "1"})
    assert [c.title for c in page.context["cl"].result_list] == ["Old"]


def test_admin_is_refused_to_non_staff(client, user):
    client.force_login(user)
    assert client.get("/admin/chat/conversation/").status_code == 302
