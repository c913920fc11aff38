import pytest
from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_register_page_creates_account_and_logs_in(client):
    response = client.post(
        "/accounts/register/", {"username": "bob", "email": "Bob@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="bob")
    assert user.email == "bob@example.com"
    assert client.get("/api/auth/me").json()["username"] == "bob"


def test_register_page_shows_password_validator_errors(client):
    response = client.post("/accounts/register/", {"username": "bob", "email": "b@example.com", "password": "123"})
    assert response.status_code == 400
    assert b"too short" in response.content
    assert not get_user_model().objects.filter(username="bob").exists()


def test_login_page_is_served_and_logs_in(client, user):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_home_redirects_anonymous_user_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_logout_ends_the_session(client, user):
    client.force_login(user)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_api_register_returns_tokens_that_authenticate(api_client):
    response = api_client.post(
        "/api/auth/register", {"username": "carol", "email": "carol@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["username"] == "carol"
    assert "password" not in str(body["user"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api_client.get("/api/auth/me").json()["email"] == "carol@example.com"


def test_api_register_rejects_weak_password_and_duplicate_email_with_messages(api_client, user):
    response = api_client.post(
        "/api/auth/register", {"username": "dave", "email": "ALICE@example.com", "password": "password"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert "detail" in body
    assert "email" in body["errors"] and "password" in body["errors"]
    assert "too common" in " ".join(body["errors"]["password"])


def test_api_token_pair_and_refresh(api_client, user):
    response = api_client.post("/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    refreshed = api_client.post("/api/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get("/api/auth/me").json()["username"] == "alice"


def test_api_token_with_wrong_password_is_401_with_message(api_client, user):
    response = api_client.post("/api/auth/token", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_api_me_requires_authentication(api_client):
    response = api_client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["detail"]
