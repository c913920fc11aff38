"""Log-in limits count failures: correct log-ins never lock anyone out, and while someone guesses
an account's password from elsewhere, its owner still logs in from an address already known."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

OWNER = "198.51.100.7"
ATTACKER = "203.0.113.9"
PROXY = "10.0.0.5"


@pytest.fixture
def staff(make_user):
    return make_user("alice", is_staff=True)


def page_login(password: str, address: str = OWNER, **extra) -> int:
    return Client().post("/accounts/login/", {"username": "alice", "password": password},
                         REMOTE_ADDR=address, **extra).status_code


def admin_login(password: str, address: str = OWNER, **extra):
    return Client().post("/admin/login/", {"username": "alice", "password": password, "next": "/admin/"},
                         REMOTE_ADDR=address, **extra)


def token(password: str, address: str = OWNER, **extra) -> int:
    return APIClient().post("/api/auth/token", {"username": "alice", "password": password}, format="json",
                            REMOTE_ADDR=address, **extra).status_code


def test_twelve_correct_log_ins_in_a_row_all_succeed_on_the_page_the_admin_and_the_token_api(staff):
    assert [page_login(PASSWORD) for _ in range(12)] == [302] * 12
    assert [admin_login(PASSWORD).status_code for _ in range(12)] == [302] * 12
    assert [token(PASSWORD) for _ in range(12)] == [200] * 12


def test_wrong_admin_passwords_are_refused_with_429_after_the_limit(staff, settings):
    assert settings.WEBOX_LOGIN_RATE_ACCOUNT == "10/300"
    responses = [admin_login("wrong") for _ in range(40)]
    assert [r.status_code for r in responses] == [200] * 10 + [429] * 30
    assert 0 < int(responses[-1]["Retry-After"]) <= 300
    assert b"Too many attempts" in responses[-1].content
    # From an address the account never logged in from, the right password is not even checked.
    refused = admin_login(PASSWORD)
    assert refused.status_code == 429 and "_auth_user_id" not in refused.wsgi_request.session


def test_admin_attempts_per_address_are_limited_across_accounts(staff, settings):
    settings.WEBOX_LOGIN_RATE_ACCOUNT = "0/300"
    settings.WEBOX_LOGIN_RATE_IP = "3/300"
    assert [admin_login("wrong").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert admin_login("wrong", address="192.0.2.50").status_code == 200


def test_while_someone_guesses_from_elsewhere_the_owner_logs_in_from_a_known_address(staff):
    assert token(PASSWORD) == 200  # the owner's address is now known to the account
    guesses = [token(f"guess-{n}", address=ATTACKER) for n in range(12)]
    assert guesses == [401] * 10 + [429] * 2
    assert token(PASSWORD, address=ATTACKER) == 429  # the right password too, unchecked
    assert token(PASSWORD) == 200
    assert page_login(PASSWORD) == 302
    assert admin_login(PASSWORD).status_code == 302
    # An address the account never logged in from waits for the window's end, like the attacker.
    assert token(PASSWORD, address="192.0.2.50") == 429


def test_guesses_from_a_known_address_are_limited_too(user):
    assert token(PASSWORD) == 200
    assert [token("wrong") for _ in range(11)] == [401] * 10 + [429]
    assert token(PASSWORD) == 429
    assert token(PASSWORD, address=ATTACKER) == 200  # that address's failures are its own


def test_a_correct_password_gives_back_its_place_in_the_address_count(make_user, settings):
    settings.WEBOX_LOGIN_RATE_IP = "3/300"
    for name in ("u1", "u2", "u3", "u4", "u5"):
        make_user(name)
        response = APIClient().post("/api/auth/token", {"username": name, "password": PASSWORD}, format="json")
        assert response.status_code == 200
    codes = [APIClient().post("/api/auth/token", {"username": "u1", "password": "wrong"}, format="json").status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_a_forged_forwarded_header_cannot_borrow_the_owners_known_address(user, settings):
    settings.WEBOX_TRUSTED_PROXIES = [PROXY]
    assert token(PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR=OWNER) == 200
    forged = f"{OWNER}, {ATTACKER}"  # the attacker wrote the owner's address; the proxy appended theirs
    assert [token("wrong", address=PROXY, HTTP_X_FORWARDED_FOR=forged) for _ in range(11)] == [401] * 10 + [429]
    assert token(PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR=OWNER) == 200
