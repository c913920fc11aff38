"""Markdown over the socket while a reply streams: finished blocks behind their deltas, a rendered
prefix in every snapshot, and a client that follows the rules never holds blocks that do not fit."""

import pytest
from asgiref.sync import sync_to_async

from chat.models import Message
from chat.rendering import render_markdown
from chat.services import conversation_create, message_send, send_input_clean
from chat.streaming import publisher as publisher_module
from testing.client import StreamLog

from .conftest import all_ended, collect_until, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_process_runner")]


@pytest.fixture(autouse=True)
def paced_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 15
    settings.WEBOX_FLUSH_INTERVAL_MS = 20


@pytest.fixture
def conversation(user):
    return conversation_create(owner=user, title="blocks test")


def send_markdown(user, conversation):
    """One demo reply with paragraphs, a table and a code block; its id."""
    send = send_input_clean(message="render me as you go", selected_providers=["demo"],
                            selected_models={"demo": "demo-markdown"})
    result = message_send(user=user, conversation=conversation, send=send)
    return result.replies[0].pk


def rendered_as_a_page_keeps_it(log: StreamLog, reply_id: int) -> tuple[str, int]:
    """The reply's rendered prefix as the page builds it: a snapshot sets it, blocks extend it.

    Fails if a blocks event does not start where the prefix ends (the page would have to leave it out).
    """
    html, upto = "", 0
    for event in log.events:
        if event["type"] == "snapshot":
            for reply in event["replies"]:
                if reply["id"] == reply_id:
                    html, upto = reply["rendered_html"], reply["rendered_upto"]
        elif event["type"] == "message.blocks" and event["message_id"] == reply_id:
            assert event["start"] == upto, (event, upto)
            html, upto = html + event["html"], event["end"]
    return html, upto


async def test_finished_blocks_follow_their_deltas_and_start_the_final_render(user, conversation):
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    reply_id = await sync_to_async(send_markdown)(user, conversation)
    await collect_until(comm, log, all_ended([reply_id]))
    stored = await Message.objects.aget(pk=reply_id)
    blocks = log.of_type("message.blocks")
    assert blocks, "no block was rendered before the reply ended"
    for event in blocks:
        before = log.events[log.events.index(event) - 1]
        assert before["type"] == "message.delta" and before["seq"] == event["seq"]
        assert event["html"] == render_markdown(stored.content[event["start"]:event["end"]])
    # The two paragraphs and the table came before the end; the code block is the open last block.
    assert "<strong>Demo reply</strong>" in "".join(e["html"] for e in blocks)
    assert "<table>" in "".join(e["html"] for e in blocks)
    html, upto = rendered_as_a_page_keeps_it(log, reply_id)
    assert 0 < upto < len(stored.content)
    assert log.ended[reply_id]["content_html"].startswith(html)
    await comm.disconnect()


async def test_a_socket_that_joins_mid_stream_gets_the_rendered_prefix_then_the_blocks_after_it(
        user, conversation, settings):
    settings.WEBOX_DEMO_DELAY_MS = 30  # time to join before the end
    watcher = await connect(user, conversation.pk)
    seen = StreamLog()
    await collect_until(watcher, seen, lambda lg: lg.of_type("snapshot"))
    reply_id = await sync_to_async(send_markdown)(user, conversation)
    await collect_until(watcher, seen, lambda lg: lg.of_type("message.blocks"))

    joiner = await connect(user, conversation.pk)
    joined = StreamLog()
    await collect_until(joiner, joined, lambda lg: lg.of_type("snapshot"))
    [reply] = joined.of_type("snapshot")[0]["replies"]
    assert reply["rendered_upto"] > 0 and reply["content_html"] == ""
    assert reply["rendered_html"] == render_markdown(reply["content"][:reply["rendered_upto"]])
    await collect_until(joiner, joined, all_ended([reply_id]))
    await collect_until(watcher, seen, all_ended([reply_id]))
    # Both pages end up holding the same prefix, however they came by it.
    assert rendered_as_a_page_keeps_it(joined, reply_id) == rendered_as_a_page_keeps_it(seen, reply_id)
    await watcher.disconnect()
    await joiner.disconnect()


async def test_blocks_of_a_lost_batch_come_back_with_the_repair(user, conversation, monkeypatch):
    real_publish_each = publisher_module.events.publish_each
    dropped = []

    async def lossy_publish_each(by_conversation):
        # The channel layer "drops" the publisher's first batch that carries blocks, and the batch after it.
        [(conversation_id, event_list)] = by_conversation.items()
        if any(e["type"] == "message.blocks" for e in event_list) and not dropped or len(dropped) == 1:
            dropped.append(event_list)
            return
        await real_publish_each(by_conversation)

    monkeypatch.setattr(publisher_module.events, "publish_each", lossy_publish_each)
    comm = await connect(user, conversation.pk)
    log = StreamLog()
    await collect_until(comm, log, lambda lg: lg.of_type("snapshot"))
    reply_id = await sync_to_async(send_markdown)(user, conversation)
    await collect_until(comm, log, all_ended([reply_id]))
    assert len(dropped) == 2
    repair = log.of_type("snapshot")[1]
    assert repair["partial"] and repair["replies"][0]["rendered_upto"] >= dropped[0][-1]["end"]
    html, _ = rendered_as_a_page_keeps_it(log, reply_id)
    assert log.ended[reply_id]["content_html"].startswith(html) and "<table>" in html
    await comm.disconnect()
