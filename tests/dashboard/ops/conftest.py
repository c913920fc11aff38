import pytest

from dashboard.ops import health


@pytest.fixture(autouse=True)
def fresh_worker_ping(monkeypatch):
    """Each test starts with no shared worker ping: one made by an earlier test (a worker stopped
    since, another broker) would otherwise answer its probes for a few seconds."""
    monkeypatch.setattr(health, "_last_ping", None)
