"""Cookie sessions need the CSRF token for every unsafe request; bearer tokens (no cookie) do not."""

from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from chat.models import Conversation
from tests.conftest import PASSWORD


def test_a_session_post_without_the_csrf_token_is_refused_and_stores_nothing(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/chat/conversations", {"title": "forged"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Conversation.objects.exists()


def test_a_session_post_with_the_csrf_token_is_accepted(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # the page sets the csrftoken cookie its scripts send back
    token = client.cookies["csrftoken"].value
    response = client.post("/api/chat/conversations", {"title": "mine"}, content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert Conversation.objects.get().title == "mine"


def test_a_bearer_token_needs_no_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    access = str(RefreshToken.for_user(user).access_token)
    response = client.post("/api/chat/conversations", {"title": "api"}, content_type="application/json",
                           headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 201


def test_the_login_form_without_the_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
