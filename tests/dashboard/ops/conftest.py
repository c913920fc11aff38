import pytest

from dashboard.ops import health


@pytest.fixture(autouse=True)
def fresh_worker_ping(monkeypatch):
    """Each test starts with no shared worker ping: one made by an earlier test (a worker stopped
    since, another broker) would otherwise answer its probes for a few seconds."""
    monkeypatch.setattr(health, "_last_ping", None)


@pytest.fixture
def operator(make_user):
    """Staff with the permission to act on the ops page (dashboard.operate), not a superuser."""
    from django.contrib.auth.models import Permission

    member = make_user("operator", is_staff=True)
    member.user_permissions.add(Permission.objects.get(content_type__app_label="dashboard", codename="operate"))
    return member


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
