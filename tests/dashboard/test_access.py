"""Who sees what: one's own figures; staff the site's and any user's; bad parameters are a 400."""

import pytest
from rest_framework.test import APIClient

from .conftest import client_for

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/dashboard/summary", "/api/dashboard/models", "/api/dashboard/daily"]


@pytest.mark.parametrize("path", [*ENDPOINTS, "/api/dashboard/users"])
def test_anonymous_callers_get_401(path):
    assert APIClient().get(path).status_code == 401


def test_the_page_and_downloads_send_anonymous_visitors_to_log_in():
    for path in ("/dashboard/", "/dashboard/models.csv", "/dashboard/daily.csv"):
        response = APIClient().get(path)
        assert response.status_code == 302 and "/accounts/login" in response["Location"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_user_sees_only_their_own_replies(seeded, bob, path):
    body = client_for(bob).get(path, {"days": 7}).json()
    if path.endswith("summary"):
        assert body["totals"]["replies"]["value"] == 2
    elif path.endswith("models"):
        assert [r["replies"] for r in body["models"]] == [2]
    else:
        assert sum(r["replies"] for r in body["days"]) == 2


@pytest.mark.parametrize("params", [{"scope": "site"}, {"user": "1"}])
def test_non_staff_cannot_ask_for_the_site_or_another_user(seeded, bob, params):
    client = client_for(bob)
    for path in ENDPOINTS:
        response = client.get(path, params)
        assert response.status_code == 403 and "staff" in response.json()["detail"]
    assert client.get("/api/dashboard/users").status_code == 403
    assert client.get("/dashboard/", params).status_code == 403
    assert client.get("/dashboard/models.csv", params).status_code == 403


@pytest.mark.parametrize("params, detail", [
    ({"days": "14"}, "days must be 7, 30 or 90."),
    ({"from": "2026-01-10"}, "Give both from and to, or neither."),
    ({"from": "2026-01-10", "to": "2026-01-01"}, "to must not be before from."),
    ({"from": "2025-01-01", "to": "2026-12-31"}, "A period is at most 366 days."),
    ({"from": "yesterday", "to": "2026-01-01"}, "from must be a date like 2026-01-31."),
    ({"scope": "everyone"}, "scope must be site or me."),
])
def test_bad_parameters_are_a_400_with_a_detail(user, params, detail):
    client = client_for(user)
    for path in ENDPOINTS:
        response = client.get(path, params)
        assert (response.status_code, response.json()) == (400, {"detail": detail})
    page = client.get("/dashboard/", params)
    assert page.status_code == 400 and detail in page.content.decode()


def test_staff_asking_for_a_missing_user_or_a_bad_sort_get_a_400(staff):
    client = client_for(staff)
    assert client.get("/api/dashboard/summary", {"user": "99999"}).json() == {"detail": "No such user."}
    response = client.get("/api/dashboard/users", {"sort": "password"})
    assert response.status_code == 400 and "sort must be one of" in response.json()["detail"]


def test_the_dashboard_endpoints_are_in_the_openapi_schema(staff):
    schema = client_for(staff).get("/api/schema/", {"format": "json"}).json()
    for path in [*ENDPOINTS, "/api/dashboard/users"]:
        assert "get" in schema["paths"][path], path
    assert "tokens_per_second_p50" in schema["components"]["schemas"]["ModelRow"]["properties"]
