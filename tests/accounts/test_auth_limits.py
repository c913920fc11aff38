"""Tokens of deleted or changed accounts stop working; log-in, token and sign-up attempts are limited."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_refreshing_a_deleted_users_token_is_a_401(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.delete()
    response = api_client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
    assert response.status_code == 401 and response.json()["detail"]


def test_a_password_change_ends_every_token_issued_before(api_client, user):
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    user.set_password("a-brand-new-password-7")
    user.save()
    assert api_client.post("/api/auth/token/refresh", {"refresh": str(refresh)}, format="json").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api_client.get("/api/auth/me").status_code == 401


def test_a_deactivated_users_refresh_token_is_a_401(api_client, user):
    refresh = str(RefreshToken.for_user(user))
    user.is_active = False
    user.save()
    assert api_client.post("/api/auth/token/refresh", {"refresh": refresh}, format="json").status_code == 401


def test_a_valid_refresh_still_works(api_client, user):
    response = api_client.post("/api/auth/token/refresh", {"refresh": str(RefreshToken.for_user(user))},
                               format="json")
    assert response.status_code == 200 and response.json()["access"]


def test_token_attempts_per_account_are_limited_with_retry_after(api_client, user, settings):
    settings.WEBOX_LOGIN_RATE_ACCOUNT = "3/300"
    codes = [api_client.post("/api/auth/token", {"username": "alice", "password": "wrong"}, format="json")
             .status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    refused = api_client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 300
    assert "Try again" in refused.json()["detail"]
    other = api_client.post("/api/auth/token", {"username": "bob", "password": "wrong"}, format="json")
    assert other.status_code == 401  # another account is not locked out


def test_token_attempts_per_address_are_limited_across_accounts(api_client, settings):
    settings.WEBOX_LOGIN_RATE_IP = "2/300"
    for name in ("a1", "a2"):
        assert api_client.post("/api/auth/token", {"username": name, "password": "x"}, format="json").status_code == 401
    assert api_client.post("/api/auth/token", {"username": "a3", "password": "x"}, format="json").status_code == 429
    other_address = api_client.post("/api/auth/token", {"username": "a3", "password": "x"}, format="json",
                                    REMOTE_ADDR="10.1.2.3")
    assert other_address.status_code == 401


def test_the_login_page_is_limited_too(client, user, settings):
    settings.WEBOX_LOGIN_RATE_ACCOUNT = "2/300"
    for _ in range(2):
        assert client.post("/accounts/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    refused = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert b"Too many attempts" in refused.content
    assert "_auth_user_id" not in client.session


def test_sign_ups_per_address_are_limited(api_client, client, settings):
    from django.contrib.auth import get_user_model

    settings.WEBOX_REGISTER_RATE_IP = "2/3600"
    first = api_client.post("/api/auth/register", {"username": "u1", "email": "u1@example.com",
                                                   "password": PASSWORD}, format="json")
    assert first.status_code == 201
    second = client.post("/accounts/register/", {"username": "u2", "email": "u2@example.com", "password": PASSWORD})
    assert second.status_code == 302
    third = api_client.post("/api/auth/register", {"username": "u3", "email": "u3@example.com",
                                                   "password": PASSWORD}, format="json")
    assert third.status_code == 429 and third["Retry-After"]
    page = client.post("/accounts/register/", {"username": "u4", "email": "u4@example.com", "password": PASSWORD})
    assert page.status_code == 429
    assert sorted(get_user_model().objects.values_list("username", flat=True)) == ["u1", "u2"]
