"""What one reply costs the database: writes bounded by its duration, not by its length."""

import logging
import math
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from chat.models import Message, ReplyStatus
from chat.providers import provider_create
from chat.services import conversation_create
from testing.client import StreamLog

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]

WRITES = ("INSERT", "UPDATE", "DELETE")


class StatementLog(logging.Handler):
    """Every SQL statement Django runs, from any thread (Django's debug cursor logs each one)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def emit(self, record):
        sql = getattr(record, "sql", None)
        if sql:
            with self._lock:
                self.statements.append((record.threadName, sql.lstrip().split(None, 1)[0].upper()))

    def engine(self) -> list[str]:
        """Statements of the streaming engine (its database threads), not of the test's own reads."""
        with self._lock:
            return [verb for thread, verb in self.statements if thread.startswith("webox-db")]


@pytest.fixture
def statements(monkeypatch):
    # Django's debug cursor, which logs each statement with its SQL, on every thread's connection.
    monkeypatch.setattr(type(connections["default"]), "queries_logged", True)
    handler = StatementLog()
    logger = logging.getLogger("django.db.backends")
    old = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # counted here, not printed
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.level, logger.propagate = old


@pytest.fixture
def gpt(fake_provider, settings):
    settings.WEBOX_CHECKPOINT_INTERVAL_MS = 1000
    provider_create(name="gpt", kind="openai", api_key="test-key", model_names=["fake-echo"],
                    default_model="fake-echo", base_url=fake_provider.url)


async def one_reply(user, auth_client, statements, model: str) -> tuple[list[str], float, Message]:
    conversation = await sync_to_async(conversation_create)(owner=user)
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    before = len(statements.engine())
    started = time.monotonic()
    response = await sync_to_async(auth_client.post)(
        "/api/chat/send", {"conversation_id": conversation.pk, "message": "count my writes",
                           "selected_providers": ["gpt"], "selected_models": {"gpt": model}}, format="json")
    assert response.status_code == 202
    [reply] = response.json()["replies"]
    await collect_until(comm, log, all_ended([reply["id"]]), timeout=20)
    duration = time.monotonic() - started
    await comm.disconnect()
    stored = await Message.objects.aget(pk=reply["id"])
    return statements.engine()[before:], duration, stored


async def test_writes_per_reply_depend_on_its_duration_not_its_token_count(user, auth_client, gpt, statements):
    short_verbs, short_s, short = await one_reply(user, auth_client, statements, "fake-echo;tokens=10;delay_ms=250")
    long_verbs, long_s, long = await one_reply(user, auth_client, statements, "fake-echo;tokens=300;delay_ms=8")
    assert short.status == long.status == ReplyStatus.COMPLETE
    assert (short.completion_tokens, long.completion_tokens) == (10, 300)
    short_writes = [v for v in short_verbs if v in WRITES]
    long_writes = [v for v in long_verbs if v in WRITES]
    # Claim and end, plus about one checkpoint a second of streaming.
    assert 2 <= len(short_writes) <= 2 + math.ceil(short_s), (short_writes, short_s)
    assert 2 <= len(long_writes) <= 2 + math.ceil(long_s), (long_writes, long_s)
    # Thirty times the tokens: no more reads, and more writes only for the extra time it took. (The
    # first reply reads its provider's record; the second finds it read: chat.providers.provider_config_at.)
    assert len(long_writes) <= len(short_writes) + math.ceil(abs(long_s - short_s)) + 1, (short_writes, long_writes)
    short_reads = [v for v in short_verbs if v == "SELECT"]
    long_reads = [v for v in long_verbs if v == "SELECT"]
    assert len(long_reads) <= len(short_reads), (short_verbs, long_verbs)
    # Its claim's read (with the versions of its provider and prices, and whether its question has
    # files), and nothing else for a first turn without files or prices of its own: its end writes from
    # the claim's copy without reading the reply again.
    assert len(long_reads) == 1, long_verbs
    print(f"\nengine statements: 10 tokens in {short_s:.2f}s: {short_verbs}; 300 tokens in {long_s:.2f}s: {long_verbs}")
