"""The stream state store: whole text and seq per reply, repaired when Redis lost a key."""

import pytest
from django.conf import settings

from chat.stream_store import FlushEntry, RedisStreamStore, StreamState, stream_store
from tests.processes import RedisServer

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


def chunks_entry(reply_id, chunks, count):
    """The entry a publisher makes for its ``count``-th flush of one chunk each."""
    return FlushEntry(reply_id, chunks[count - 1], count, full_text=lambda: "".join(chunks[:count]),
                      total_bytes=len("".join(chunks[:count]).encode()))


async def test_a_lost_text_key_is_rewritten_whole_at_the_next_flush():
    store = stream_store()
    assert isinstance(store, RedisStreamStore)
    chunks = ["Héllo", " wörld", " again"]
    await store.record_flush([chunks_entry(424242, chunks, 1)], [])
    await store.record_flush([chunks_entry(424242, chunks, 2)], [])
    await store._async().delete(store._text_key(424242))  # as if Redis restarted empty
    await store.record_flush([chunks_entry(424242, chunks, 3)], [])
    state = (await store.read([424242]))[424242]
    assert (state.text, state.seq) == ("Héllo wörld again", 3)


async def test_a_text_key_expires_from_its_first_flush_on_and_soon_after_its_reply_is_forgotten():
    store = stream_store()
    chunks = ["one", " two", " three"]
    text_key = store._text_key(434343)
    await store.record_flush([chunks_entry(434343, chunks, 1)], [])
    first_ttl = await store._async().ttl(text_key)
    await store.record_flush([chunks_entry(434343, chunks, 2)], [])
    await store.record_flush([chunks_entry(434343, chunks, 3)], [])
    assert 0 < await store._async().ttl(text_key) <= first_ttl
    assert (await store.read([434343]))[434343].text == "one two three"
    await store.forget(434343)
    assert 0 < await store._async().ttl(text_key) <= 60


async def test_a_flush_reports_the_watched_replies_asked_to_stop_with_text_or_without():
    store = stream_store()
    await store.record_flush([chunks_entry(454545, ["a"], 1)], [])
    store.request_cancel([454546])
    recorded = await store.record_flush([chunks_entry(454545, ["a", "b"], 2)], [454545, 454546, 454547])
    watched_only = await store.record_flush([], [454545, 454546, 454547])
    assert recorded == watched_only == {454546}
    state = (await store.read([454545]))[454545]
    assert (state.text, state.seq) == ("ab", 2)
    await store.forget(454546)
    assert await store.record_flush([], [454546]) == set()


async def test_after_a_redis_restart_every_operation_works_at_its_first_try_and_the_text_is_whole(tmp_path):
    # Each pooled connection Redis closed fails its next command once; that command must not be the one lost
    # (a reply's final flush, a joining socket's snapshot, a cancel).
    redis = RedisServer(tmp_path).start()
    try:
        store = RedisStreamStore(redis.url, prefix="restart")
        chunks = ["one", " two", " three"]
        await store.record_flush([chunks_entry(474747, chunks, 1)], [])
        assert store.read_sync([474747])[474747].text == "one"
        store.request_cancel([484848])
        redis.restart()  # empty, as a Redis without persistence comes back

        await store.record_flush([chunks_entry(474747, chunks, 2)], [])
        assert store.read_sync([474747])[474747] == StreamState("one two", 2)  # rewritten whole
        store.request_cancel([484848])
        assert store.cancel_requested([484848]) == {484848}
        await store.forget(474747)
    finally:
        redis.stop()
