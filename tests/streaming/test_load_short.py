"""The load scenario (testing/load.py) in a short form: real daphne, a Celery worker, the fake provider.

Many sockets and turns at once for a few seconds; every reply on every socket must match the
fake provider's text exactly: nothing lost, doubled, crossed into another conversation, or stuck.
Runs when DATABASE_URL (PostgreSQL) and REDIS_URL are set, as in CI; skipped on the embedded
default unless WEBOX_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""


from django.conf import settings

from testing import load
from tests.processes import real_services

pytestmark = real_services()


def test_many_users_sockets_and_turns_at_once_get_exactly_their_own_text(tmp_path, fake_provider):
    summary = load.run_stack(tmp_path, fake=fake_provider, users=8, conversations_per_user=2,
                             sockets_per_conversation=2, duration=8.0, tokens=20, delay_ms=20, concurrency=50,
                             env={"WEBOX_CELERY_QUEUE": f"{settings.WEBOX_REDIS_PREFIX}-load"})
    load.report([summary])
    turns, replies = summary.row[4], summary.row[5]
    assert turns >= 16 and replies == 2 * turns  # every conversation finished at least one turn
    assert summary.problems == []
