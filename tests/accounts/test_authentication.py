"""A bearer token's user is read at most once every USER_CACHE_SECONDS per process; what changes the
user is seen at once where it is saved, and everywhere within that time."""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import authentication
from accounts.authentication import USER_CACHE_SECONDS, cached_user

pytestmark = pytest.mark.django_db


def bearer(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return api_client


def user_reads(queries) -> int:
    return len([q for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]])


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by hand."""
    now = SimpleNamespace(value=1000.0)
    monkeypatch.setattr(authentication, "_clock", lambda: now.value)
    return now


def test_a_tokens_user_is_read_once_for_requests_in_a_row(api_client, user, clock):
    client = bearer(api_client, user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/auth/me").status_code == 200
        assert client.get("/api/auth/me").status_code == 200
    assert user_reads(queries) == 1


def test_the_user_is_read_again_once_the_cache_time_has_passed(api_client, user, clock):
    client = bearer(api_client, user)
    assert client.get("/api/auth/me").status_code == 200
    clock.value += USER_CACHE_SECONDS + 0.01
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/auth/me").status_code == 200
    assert user_reads(queries) == 1


def test_a_deactivated_user_is_refused_at_once(api_client, user, clock):
    client = bearer(api_client, user)
    assert client.get("/api/auth/me").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/auth/me").status_code == 401


def test_a_deleted_user_is_refused_at_once(api_client, user, clock):
    client = bearer(api_client, user)
    assert client.get("/api/auth/me").status_code == 200
    user.delete()
    assert client.get("/api/auth/me").status_code == 401


def test_a_password_change_refuses_the_old_token_at_once_and_takes_a_new_one(api_client, user, clock):
    client = bearer(api_client, user)
    assert client.get("/api/auth/me").status_code == 200
    user.set_password("a-brand-new-password-7")
    user.save()
    assert client.get("/api/auth/me").status_code == 401
    assert bearer(api_client, user).get("/api/auth/me").status_code == 200


def test_a_deactivation_the_signals_miss_is_refused_once_the_cache_time_has_passed(api_client, user, clock):
    client = bearer(api_client, user)
    assert client.get("/api/auth/me").status_code == 200
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # as another process would
    clock.value += USER_CACHE_SECONDS + 0.01
    assert client.get("/api/auth/me").status_code == 401


def test_a_token_issued_after_a_password_change_elsewhere_is_taken_at_once(api_client, user, clock):
    assert bearer(api_client, user).get("/api/auth/me").status_code == 200
    user.set_password("changed-in-another-process-3")
    get_user_model().objects.filter(pk=user.pk).update(password=user.password)  # no signal: the cache is stale
    assert bearer(api_client, user).get("/api/auth/me").status_code == 200


def test_each_caller_gets_its_own_copy_of_the_cached_user(user, clock):
    reads = []

    def read():
        reads.append(1)
        return get_user_model().objects.get(pk=user.pk)

    first, second = cached_user(user.pk, read), cached_user(user.pk, read)
    first.first_name = "changed by one request"
    assert len(reads) == 1 and first is not second and second.first_name != "changed by one request"
