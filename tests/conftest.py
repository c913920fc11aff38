import asyncio
import copy
import os
import uuid

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery-9"


def send_turn(*, user, conversation, **fields):
    """``message_send`` with the fields of a REST send or a socket ``send`` frame."""
    from chat.services import message_send, send_input_clean

    return message_send(user=user, conversation=conversation, send=send_input_clean(**fields))


@pytest.fixture
def make_user(db):
    def make(username: str = "alice", **extra):
        return get_user_model().objects.create_user(
            username=username, email=f"{username}@example.com", password=PASSWORD, **extra
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("mallory")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def auth_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def unreachable_stream_store(settings):
    """The stream store on a Redis where nothing listens (port 1): cancel flags cannot be raised."""
    from chat.stream_store import stream_store

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    stream_store.cache_clear()
    yield
    stream_store.cache_clear()


@pytest.fixture
def fake_provider():
    """A fake OpenAI/Anthropic server on loopback (see testing/fake_provider/), key ``test-key``."""
    from testing.fake_provider import FakeProviderServer

    server = FakeProviderServer().start()
    yield server
    server.stop()


# One Redis namespace and Celery queue per test session: test databases restart their ids, so
# keys or tasks left by an earlier run must never be mistaken for this run's.
TEST_NAMESPACE = f"webox-test-{uuid.uuid4().hex[:10]}"


def pytest_configure(config):
    from django.conf import settings

    settings.WEBOX_REDIS_PREFIX = TEST_NAMESPACE
    settings.CACHES["default"]["KEY_PREFIX"] = TEST_NAMESPACE
    layer_config = settings.CHANNEL_LAYERS["default"].setdefault("CONFIG", {})
    if "hosts" in layer_config:
        layer_config["prefix"] = TEST_NAMESPACE
    from webox.celery import app

    app.conf.task_default_queue = TEST_NAMESPACE
    if settings.REDIS_URL:
        app.conf.broker_transport_options = {"global_keyprefix": f"{TEST_NAMESPACE}:"}
    os.environ["WEBOX_REDIS_PREFIX"] = TEST_NAMESPACE
    os.environ["WEBOX_CELERY_QUEUE"] = TEST_NAMESPACE
    # Most tests make a user, many log in: the real hasher's deliberate slowness (about a second a hash on a
    # busy 2-core machine) only slows the suite. The processes tests start keep the real one.
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()
    _flush_postgresql_with_delete()


def _flush_postgresql_with_delete() -> None:
    """Empty PostgreSQL's tables after a transactional test with DELETE, not Django's TRUNCATE.

    TRUNCATE's cost is per table, whatever it holds (new files for each, 0.3-0.5 s for all on the CI
    machine); DELETE of the few rows a test leaves takes milliseconds, and the flush runs after every
    transactional test. The same rows go: Django's foreign keys are deferred to the commit, and
    ``chat_message`` goes first because its rollup triggers (dashboard/rollup.py) write other tables on
    delete. Sequences were not restarted before either (unless asked, and then TRUNCATE still does it).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        ordered = sorted(tables, key=lambda table: table != "chat_message")
        return ["SET CONSTRAINTS ALL DEFERRED",
                *(f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in ordered)]

    DatabaseOperations.sql_flush = sql_flush


@pytest.fixture
def in_process_runner(settings):
    """Generate replies on the test's own event loop, whatever REDIS_URL says."""
    settings.WEBOX_RUNNER = "embedded"


# Inside a window of every length the throttles use (60, 300 and 3600 s windows start at multiples
# of their length): a test that counts attempts must never straddle a window's end.
THROTTLE_CLOCK = 1_800_000_000 + 1000


@pytest.fixture(autouse=True)
def fresh_throttle_counters(settings, monkeypatch):
    """Each test counts its own throttled attempts (user ids repeat from test to test), on a clock
    that stands still for the throttles alone."""
    from types import SimpleNamespace

    from webox import throttles

    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"{TEST_NAMESPACE}:{uuid.uuid4().hex[:8]}"
    settings.CACHES = caches
    monkeypatch.setattr(throttles, "time", SimpleNamespace(time=lambda: THROTTLE_CLOCK))


@pytest.fixture(autouse=True)
def fresh_token_users():
    """Each test reads its own users: ids repeat from test to test, and a rolled-back row sends no signal."""
    from accounts.authentication import forget_all_users

    forget_all_users()
    yield
    forget_all_users()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the session, end the connections that stream threads left open, so that PostgreSQL
    lets the test database be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """Before the test's fixtures are torn down (its database flushed): the replies still
    generating on the process's background loop end first.

    A reply started where no server loop runs (a REST send through the test client) runs on that
    loop, not the test's, and outlives the test; one still writing its end deadlocked with the
    flush's TRUNCATE. Each gets a moment to finish, then is cancelled (and ends as any abandoned
    reply does).
    """
    from chat.streaming import runners
    from webox import loops

    loop = loops._loop
    if loop is None or loop.is_closed() or not loop.is_running():
        return

    async def end_replies(grace: float = 2.0) -> None:
        replies = [task for task in runners._tasks if task.get_loop() is loop and not task.done()
                   and getattr(task.get_coro(), "__name__", "") == "generate_reply"]
        if not replies:
            return
        _, still = await asyncio.wait(replies, timeout=grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=10)

    asyncio.run_coroutine_threadsafe(end_replies(), loop).result(timeout=15)


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running on the main thread
    for the rest of the session, which tests that run their own loop cannot share."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))



@pytest.fixture
def fast_policy(settings):
    """Short timeouts and backoff so that the failure tests take fractions of a second."""
    settings.WEBOX_PROVIDER_CONNECT_TIMEOUT = 1.0
    settings.WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT = 1.0
    settings.WEBOX_PROVIDER_IDLE_TIMEOUT = 0.5
    settings.WEBOX_PROVIDER_RETRY_BUDGET = 3.0
    settings.WEBOX_PROVIDER_MAX_RETRIES = 3
    settings.WEBOX_PROVIDER_BACKOFF_BASE = 0.01


@pytest.fixture
def make_reply(user):
    """A stored reply row in a given state, for figures read from the database.

    ``idle_seconds`` moves its last checkpoint into the past.
    """
    from chat.models import Conversation, Message, Role

    conversation = Conversation.objects.create(owner=user, title="ops")
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="hi")

    def make(status="streaming", *, provider="gpt", model="m", idle_seconds=0, **fields):
        reply = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, reply_to=question,
                                       provider=provider, model=model, status=status, **fields)
        if idle_seconds:
            from datetime import timedelta

            from django.utils import timezone

            Message.objects.filter(pk=reply.pk).update(updated_at=timezone.now() - timedelta(seconds=idle_seconds))
        return reply

    return make
