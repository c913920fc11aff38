"""A busy database: a send is refused with a 503 and nothing stored, and a reply's own writes wait.

On the embedded default every write takes SQLite's one write lock, and hundreds of sends at once
kept it taken past its timeout (`python -m benchmarks e2e`, 500 streams: "database is locked",
answered 500, and replies whose claim failed were never started). Here another connection holds
the lock, as a burst would, while webox's connections wait 50 ms for it.
"""

import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection, transaction

from accounts.models import MonthlyUsage
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.providers import StreamResult
from chat.services import conversation_create, reply_complete, reply_start
from chat.streaming import db_threads as streaming_db
from tests.streaming.conftest import connect
from webox.database import database_busy, retry_while_busy

sqlite = connection.vendor == "sqlite"
needs_sqlite = pytest.mark.skipif(not sqlite, reason="SQLite's write lock (the embedded default)")


def locked():
    return OperationalError("database is locked")


def test_a_busy_write_is_tried_again_until_it_goes_through():
    attempts = []

    def write():
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise locked()
        return "written"

    assert retry_while_busy(write) == "written"
    assert len(attempts) == 3
    assert attempts[2] - attempts[0] >= 0.05 + 0.1  # growing pauses, not a spin


def test_an_error_that_is_not_busy_is_raised_at_once():
    attempts = []

    def write():
        attempts.append(1)
        raise OperationalError("no such table: chat_message")

    with pytest.raises(OperationalError, match="no such table"):
        retry_while_busy(write)
    assert attempts == [1]


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_a_busy_write_is_not_tried_again():
    # The failed statement spoiled the transaction: only the caller's rollback can help.
    attempts = []

    def write():
        attempts.append(1)
        raise locked()

    with pytest.raises(OperationalError), transaction.atomic():
        retry_while_busy(write)
    assert attempts == [1]


def test_a_busy_write_gives_up_after_its_patience():
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        retry_while_busy(lambda: (_ for _ in ()).throw(locked()), patience=0.3)
    assert 0.1 <= time.monotonic() - started < 1.5


def test_sqlites_lock_timeout_counts_as_busy_and_a_plain_error_does_not():
    assert database_busy(locked())
    assert database_busy(OperationalError("database table is locked: chat_message"))
    assert not database_busy(OperationalError("disk I/O error"))


@pytest.fixture
def short_lock_wait():
    """webox's SQLite connections wait 50 ms for the write lock (20 s as shipped), in every thread."""
    options = connection.settings_dict["OPTIONS"]
    shipped = options.get("timeout")
    options["timeout"] = 0.05

    def fresh_connections():
        connection.close()
        if streaming_db._executor is not None:  # its threads keep their SQLite connections
            streaming_db._executor.shutdown(wait=True)
            streaming_db._executor = None

    fresh_connections()
    yield
    options["timeout"] = shipped
    fresh_connections()


@contextmanager
def write_lock_held(*, release_after: float | None = None):
    """Another connection holds SQLite's write lock: until the block ends, or for ``release_after`` s."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release():
        if not released.is_set():
            released.set()
            other.execute("COMMIT")

    timer = threading.Timer(release_after, release) if release_after is not None else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        release()
        other.close()


def send_body(conversation_id=None):
    body = {"message": "hello there", "selected_providers": ["demo"]}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    return body


@needs_sqlite
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_process_runner", "short_lock_wait")
def test_a_send_that_cannot_get_the_write_lock_is_a_503_with_retry_after_and_stores_nothing(auth_client, user):
    conversation = conversation_create(owner=user, title="kept")
    with write_lock_held():
        for body in (send_body(), send_body(conversation.pk)):
            response = auth_client.post("/api/chat/send", body, format="json")
            assert response.status_code == 503, response.content
            assert "busy" in response.json()["detail"]
            assert int(response["Retry-After"]) > 0
    assert Conversation.objects.count() == 1
    assert not Message.objects.exists()
    # The lock gone, the same send goes through.
    assert auth_client.post("/api/chat/send", send_body(conversation.pk), format="json").status_code == 202


@needs_sqlite
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("short_lock_wait")
def test_a_replys_claim_and_end_wait_for_the_lock_and_are_applied_once(user):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="q")
    reply = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="demo", model="demo",
                                   reply_to=question, status=ReplyStatus.PENDING)

    started = time.monotonic()
    with write_lock_held(release_after=0.5):
        claimed = reply_start(reply_id=reply.pk)
    assert time.monotonic() - started >= 0.45  # it waited for the lock, well past its 50 ms timeout
    assert claimed is not None and claimed.status == ReplyStatus.STREAMING

    result = StreamResult(finish_reason="stop", prompt_tokens=7, completion_tokens=5, duration_ms=10)
    with write_lock_held(release_after=0.5):
        ended = reply_complete(reply_id=reply.pk, content="all of it", seq=3, result=result)
    assert ended is not None
    stored = Message.objects.get(pk=reply.pk)
    assert (stored.status, stored.content, stored.seq) == (ReplyStatus.COMPLETE, "all of it", 3)
    assert MonthlyUsage.objects.get(user=user).tokens == 12  # counted once, not once per attempt


@needs_sqlite
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_process_runner", "short_lock_wait")
async def test_a_socket_send_that_cannot_get_the_write_lock_gets_a_busy_error_and_the_socket_stays(user):
    from asgiref.sync import sync_to_async

    conversation = await sync_to_async(conversation_create)(owner=user)
    comm = await connect(user, conversation.pk)
    assert (await comm.receive_json_from(timeout=10))["type"] == "snapshot"
    with write_lock_held():
        await comm.send_json_to({"type": "send", **send_body()})
        event = await comm.receive_json_from(timeout=10)
    assert event["type"] == "error" and event["code"] == "busy", event
    assert event["retry_after"] > 0
    assert not await Message.objects.filter(conversation=conversation).aexists()
    await comm.send_json_to({"type": "send", **send_body()})
    while (event := await comm.receive_json_from(timeout=10))["type"] != "message.completed":
        assert event["type"] != "error", event
    await comm.disconnect()
