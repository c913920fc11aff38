"""WEBOX_SIGNUP: open (anyone), invite (a staff-made link, once), closed (no page, API refuses)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Invitation
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


def api_register(api_client, username="newbie", **extra):
    return api_client.post("/api/auth/register", {"username": username, "email": f"{username}@example.com",
                                                  "password": PASSWORD, **extra}, format="json")


def test_closed_hides_the_page_and_the_links_and_the_api_refuses(client, api_client, settings):
    settings.WEBOX_SIGNUP = "closed"
    assert client.get("/accounts/register/").status_code == 404
    assert client.post("/accounts/register/", {"username": "x", "email": "x@example.com",
                                               "password": PASSWORD}).status_code == 404
    login = client.get("/accounts/login/").content.decode()
    assert "/accounts/register/" not in login
    response = api_register(api_client)
    assert response.status_code == 403 and response.json() == {"detail": "Sign-up is closed on this server."}
    assert not User.objects.filter(username="newbie").exists()


def test_an_unknown_mode_counts_as_closed(api_client, settings):
    settings.WEBOX_SIGNUP = "opne"
    assert api_register(api_client).status_code == 403


def test_open_shows_the_link(client, settings):
    settings.WEBOX_SIGNUP = "open"
    assert "/accounts/register/" in client.get("/accounts/login/").content.decode()


def test_invite_needs_a_usable_invitation_and_uses_it_once(api_client, settings, make_user):
    settings.WEBOX_SIGNUP = "invite"
    invitation = Invitation.objects.create(created_by=make_user("boss", is_staff=True))
    refused = api_register(api_client)
    assert refused.status_code == 403 and "invitation" in refused.json()["detail"]
    assert api_register(api_client, invitation="made-up").status_code == 403
    created = api_register(api_client, invitation=invitation.token)
    assert created.status_code == 201
    invitation.refresh_from_db()
    assert invitation.used_by.username == "newbie" and invitation.used_at is not None
    again = api_register(api_client, username="second", invitation=invitation.token)
    assert again.status_code == 403 and not User.objects.filter(username="second").exists()


def test_an_invitation_for_one_address_or_expired_is_refused(api_client, settings):
    settings.WEBOX_SIGNUP = "invite"
    for_carol = Invitation.objects.create(email="carol@example.com")
    response = api_register(api_client, invitation=for_carol.token)
    assert response.status_code == 400 and response.json()["detail"].startswith("email:")
    assert api_register(api_client, "carol", invitation=for_carol.token).status_code == 201
    expired = Invitation.objects.create(expires_at=timezone.now() - timedelta(minutes=1))
    assert api_register(api_client, "late", invitation=expired.token).status_code == 403


def test_the_invite_link_opens_the_sign_up_page(client, settings):
    settings.WEBOX_SIGNUP = "invite"
    invitation = Invitation.objects.create()
    assert client.get("/accounts/register/").status_code == 403
    assert "/accounts/register/" not in client.get("/accounts/login/").content.decode()
    page = client.get(f"/accounts/register/?invite={invitation.token}")
    assert page.status_code == 200 and f'value="{invitation.token}"' in page.content.decode()
    response = client.post("/accounts/register/", {"username": "dora", "email": "dora@example.com",
                                                   "password": PASSWORD, "invitation": invitation.token})
    assert response.status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).used_by.username == "dora"


def test_staff_create_invitations_in_the_admin_and_see_the_link(client, make_user):
    boss = make_user("boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    response = client.post("/admin/accounts/invitation/add/", {
        "email": "", "note": "for Eve", "expires_at_0": "2099-01-01", "expires_at_1": "00:00:00"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(note="for Eve")
    assert invitation.created_by == boss
    page = client.get(f"/admin/accounts/invitation/{invitation.pk}/change/").content.decode()
    assert f"/accounts/register/?invite={invitation.token}" in page


def test_the_first_admin_is_created_from_the_environment_without_a_prompt(client, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "root")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, verbosity=0)
    admin = User.objects.get(username="root")
    assert admin.is_superuser and admin.is_staff and admin.email == "root@example.com"
    assert client.login(username="root", password=PASSWORD)
    assert client.get("/admin/").status_code == 200
