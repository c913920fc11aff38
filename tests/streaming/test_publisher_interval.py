"""The publisher's tick: the base interval, widened by the publish-rate cap, never past its bound."""

import uuid

import pytest

from chat.streaming.publisher import Publisher


@pytest.fixture(autouse=True)
def rates(settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 50
    settings.WEBOX_MAX_PUBLISH_RATE = 100
    settings.WEBOX_MAX_FLUSH_INTERVAL_MS = 150


def open_replies(publisher: Publisher, conversations: int, per_conversation: int = 1):
    return [publisher.open(reply_id=c * 10 + r, conversation_id=c, key=f"{c}:{r}:{uuid.uuid4().hex}")
            for c in range(1, conversations + 1) for r in range(per_conversation)]


@pytest.mark.parametrize(("conversations", "per_conversation", "interval"), [
    (1, 1, 0.05), (5, 1, 0.05), (10, 3, 0.1), (12, 1, 0.12), (15, 1, 0.15), (400, 1, 0.15)])
async def test_the_interval_widens_with_conversations_up_to_its_bound(publisher, conversations, per_conversation,
                                                                      interval):
    open_replies(publisher, conversations, per_conversation)
    assert publisher.interval() == pytest.approx(interval)


async def test_a_base_interval_over_the_bound_is_kept(publisher, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 200
    open_replies(publisher, 400)
    assert publisher.interval() == pytest.approx(0.2)


@pytest.mark.parametrize(("conversations", "at_once"), [(1, True), (12, True), (15, False)])
async def test_a_first_text_goes_out_at_once_unless_ticks_are_as_wide_as_they_go(publisher, conversations, at_once):
    streams = open_replies(publisher, conversations)
    streams[0].append("first")
    assert (streams[0] in publisher._first) is at_once


async def test_a_first_text_goes_out_at_once_when_the_base_interval_is_the_bound(publisher, settings):
    settings.WEBOX_FLUSH_INTERVAL_MS = 200
    streams = open_replies(publisher, 400)
    streams[0].append("first")
    assert streams[0] in publisher._first
