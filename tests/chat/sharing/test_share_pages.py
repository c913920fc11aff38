"""The pages around share links: the owner's list with Revoke, the chat page's Share button, the admin's switch."""

from __future__ import annotations

import pytest

from chat.models import Message, Role, Share
from chat.services import conversation_create
from chat.sharing.services import share_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(user):
    conversation = conversation_create(owner=user, title="Recipe ideas")
    Message.objects.create(conversation=conversation, role=Role.USER, content="Soup?")
    return share_create(user=user, conversation=conversation)


def test_the_shares_page_lists_ones_links_and_revokes_them(client, user, other_user, shared):
    other = conversation_create(owner=other_user, title="Someone else's")
    Message.objects.create(conversation=other, role=Role.USER, content="Hi")
    others_share = share_create(user=other_user, conversation=other)
    client.force_login(user)

    page = client.get("/shares/").content.decode()
    assert "Recipe ideas" in page and f"/s/{shared.token}/" in page
    assert "Someone else" not in page and others_share.token not in page

    # Another user's token is no one's to revoke here.
    assert client.post(f"/shares/{others_share.token}/revoke").status_code == 404
    response = client.post(f"/shares/{shared.token}/revoke")
    assert response.status_code == 302 and response["Location"] == "/shares/"
    assert client.get(f"/s/{shared.token}/").status_code == 404
    assert list(Share.objects.values_list("token", flat=True)) == [others_share.token]


def test_the_shares_page_needs_a_login(client):
    assert client.get("/shares/").status_code == 302


def test_the_chat_page_offers_share_only_when_sharing_is_on(client, user, settings):
    client.force_login(user)
    assert 'id="share-button"' in client.get("/").content.decode()
    settings.WEBOX_SHARING = False
    assert 'id="share-button"' not in client.get("/").content.decode()
    settings.WEBOX_SHARING = True
    user.can_share = False
    user.save(update_fields=["can_share"])
    assert 'id="share-button"' not in client.get("/").content.decode()


def test_staff_see_and_filter_the_per_user_switch_in_the_admin(client, make_user, user, other_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert 'name="can_share"' in client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    other_user.can_share = False
    other_user.save(update_fields=["can_share"])
    listed = client.get("/admin/accounts/user/?can_share__exact=0").content.decode()
    assert "mallory" in listed and "alice" not in listed
