"""Stream state left by an earlier reply with the same row id is never mistaken for a new reply's.

The scene is a database restored from a backup (or a second installation on the same Redis
prefix) while the stream store keeps what an earlier reply with that id left: its text, its seq
and a cancel flag.
"""

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.models import Message, ReplyStatus
from chat.services import conversation_create, replies_sweep_orphans
from chat.stream_store import stream_store
from chat.streaming.runners import start_replies
from testing.client import StreamLog
from tests.conftest import send_turn

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture(autouse=True)
def paced_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 10
    settings.WEBOX_FLUSH_INTERVAL_MS = 20


async def finished_reply(user) -> Message:
    """A reply that streamed to its end, leaving its text, seq — and then a cancel flag — in the store."""
    conversation = await sync_to_async(conversation_create)(owner=user, title="before the restore")
    comm = await connect(user, conversation.pk)
    log = await collect_until(comm, StreamLog(), lambda lg: lg.of_type("snapshot"))
    result = await sync_to_async(send_turn)(user=user, conversation=conversation, message="the old secret",
                                                selected_providers=["demo"])
    reply_id = result.replies[0].pk
    await collect_until(comm, log, all_ended([reply_id]))
    await comm.disconnect()
    old = await Message.objects.aget(pk=reply_id)
    assert old.status == ReplyStatus.COMPLETE and old.seq > 1
    # A stop asked for just before the backup was restored: the flag outlives the row it was for.
    stream_store().request_cancel([old.stream_key])
    return old


def restore_as(reply_id: int, *, status: str, question: str, **fields) -> None:
    """The row as a backup holds it: the same id, asked something else, not generated yet."""
    reply = Message.objects.get(pk=reply_id)
    Message.objects.filter(pk=reply.reply_to_id).update(content=question)
    row = {"status": status, "content": "", "seq": 0, "stream_id": "", "started_at": None, "completed_at": None,
           "prompt_tokens": None, "completion_tokens": None, "finish_reason": ""}
    Message.objects.filter(pk=reply_id).update(**{**row, **fields})


async def test_a_restored_reply_never_shows_the_old_text_keeps_its_deltas_and_ignores_the_old_cancel(user):
    old = await finished_reply(user)
    await sync_to_async(restore_as)(old.pk, status=ReplyStatus.PENDING, question="a brand new question")

    comm = await connect(user, old.conversation_id)
    log = await collect_until(comm, StreamLog(), lambda lg: lg.of_type("snapshot"))
    [joined] = log.of_type("snapshot")[0]["replies"]
    assert (joined["id"], joined["content"], joined["seq"]) == (old.pk, "", 0)

    await sync_to_async(start_replies)([old.pk])
    await collect_until(comm, log, all_ended([old.pk]))
    new = await Message.objects.aget(pk=old.pk)
    assert new.status == ReplyStatus.COMPLETE, "the old cancel flag stopped the new reply"
    assert new.stream_id and new.stream_id != old.stream_id
    assert "old secret" not in new.content and "brand new question" in new.content
    assert log.text[old.pk] == new.content  # every delta arrived, none dropped as already seen
    assert log.seqs[old.pk] == [0, *range(1, new.seq + 1)]
    assert all("old secret" not in e.get("content", "") for e in log.of_type("snapshot")[0]["replies"])
    await comm.disconnect()


async def test_the_orphan_sweep_keeps_a_restored_replys_own_text_not_the_old_one(user):
    old = await finished_reply(user)
    stale = timezone.now() - timedelta(hours=1)
    await sync_to_async(restore_as)(old.pk, status=ReplyStatus.STREAMING, question="another question",
                                    stream_id=uuid.uuid4().hex, content="its own start", seq=1, updated_at=stale)

    [swept] = await sync_to_async(replies_sweep_orphans)()
    assert swept.pk == old.pk
    # Not cancelled by the old flag, and its own checkpointed text, not the old reply's.
    assert (swept.status, swept.error_code, swept.content) == (ReplyStatus.ERROR, "orphaned", "its own start")
