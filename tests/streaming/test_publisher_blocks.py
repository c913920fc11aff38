"""The publisher sends a reply's finished Markdown blocks right behind the delta that finished them."""

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer

from chat import events
from chat.rendering import render_markdown
from chat.streamed_markdown import StreamedBlocks
from chat.streaming.publisher import Publisher

CONVERSATION = 990_001


@pytest.fixture(autouse=True)
def no_ticks(settings):
    # Flushes happen when the test calls them (and for a reply's first text, at once).
    settings.WEBOX_FLUSH_INTERVAL_MS = 60_000


@pytest.fixture
async def listener():
    """Reads the layer messages published to the test conversation."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(events.conversation_group(CONVERSATION), channel)

    async def next_events() -> list[dict]:
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        return message["events"]

    yield next_events
    await layer.group_discard(events.conversation_group(CONVERSATION), channel)


def open_reply(publisher: Publisher, reply_id: int = 1):
    return publisher.open(reply_id=reply_id, conversation_id=CONVERSATION, key=f"{reply_id}:{uuid.uuid4().hex}")


async def test_a_flush_that_finishes_a_block_sends_it_after_the_delta(publisher, listener):
    stream = open_reply(publisher)
    stream.append("Intro line")
    assert [e["type"] for e in await listener()] == ["message.delta"]  # a first text goes out at once
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    stream.append(f"\n\n{table}")
    await publisher.flush()
    delta, blocks = await listener()
    assert delta == events.delta(message_id=1, seq=2, text=f"\n\n{table}")
    # The table, still open, goes out rendered after the finished paragraph.
    open_table = {"end": len(stream.text), "html": render_markdown(table), "append": False, "in_code": False}
    assert blocks == events.blocks(message_id=1, seq=2, start=0, end=len("Intro line\n\n"),
                                   html="<p>Intro line</p>\n", open=open_table)
    stream.append("\nAfter")
    await publisher.flush()
    delta, blocks = await listener()
    assert blocks == events.blocks(message_id=1, seq=3, start=len("Intro line\n\n"), end=stream.text.index("After"),
                                   html=render_markdown(f"{table}\n"))


async def test_an_open_fence_goes_out_as_a_code_block_then_line_by_line(publisher, listener):
    stream = open_reply(publisher)
    stream.append("```python\n")
    delta, blocks = await listener()
    assert blocks["start"] == blocks["end"] == 0
    assert blocks["open"] == {"end": 10, "html": '<pre><code class="language-python"></code></pre>\n',
                              "append": False, "in_code": True}
    stream.append("if a < b:\n    pass\n")
    await publisher.flush()
    delta, blocks = await listener()
    # Only the new lines, escaped as the renderer escapes code, to add to the open block's code.
    assert blocks["open"] == {"end": len(stream.text), "html": "if a &lt; b:\n    pass\n", "append": True,
                              "in_code": True}
    stream.append("```\n")
    await publisher.flush()
    delta, blocks = await listener()
    # Closed: rendered whole and highlighted, as it will be once the next block begins.
    assert blocks["open"]["html"] == render_markdown(stream.text) and not blocks["open"]["in_code"]
    assert '<span class="k">pass</span>' in blocks["open"]["html"]


async def test_text_that_completes_no_line_sends_deltas_only(publisher, listener):
    stream = open_reply(publisher)
    stream.append("One paragraph")
    await listener()
    for word in (" that", " goes", " on"):
        stream.append(word)
        await publisher.flush()
        assert [e["type"] for e in await listener()] == ["message.delta"]


async def test_blocks_of_replies_in_one_conversation_share_its_layer_message(publisher, listener):
    first, second = open_reply(publisher, 1), open_reply(publisher, 2)
    first.append("a")
    second.append("b")
    await listener()
    first.append("\n\nnext\n")
    second.append("\n\nnext\n")
    await publisher.flush()
    assert [(e["type"], e["message_id"]) for e in await listener()] == [
        ("message.delta", 1), ("message.delta", 2), ("message.blocks", 1), ("message.blocks", 2)]


async def test_the_last_text_of_a_reply_comes_without_blocks(publisher, listener):
    stream = open_reply(publisher)
    stream.append("Intro")
    await listener()
    stream.append("\n\n## Heading\n\nEnd")
    final = await publisher.close(stream)
    # Published later by the engine with message.completed, whose content_html renders it all.
    assert [e["type"] for e in final] == ["message.delta"]


async def test_a_block_that_fails_to_render_costs_no_delta(publisher, listener, monkeypatch, caplog):
    def broken(self):
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(StreamedBlocks, "take", broken)
    stream = open_reply(publisher)
    stream.append("Intro")
    await listener()
    stream.append("\n\nnext\n")
    await publisher.flush()
    assert [e["type"] for e in await listener()] == ["message.delta"]
    assert stream.blocks.stopped and "rendering the finished blocks of reply 1 failed" in caplog.text
