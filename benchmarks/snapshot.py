"""Scenario 3: what a snapshot or a gap repair costs (stream-state reads, and the consumer's path)."""

from __future__ import annotations

import asyncio

from testing.figures import median, percentile, print_table

from .common import TOKEN, create_streaming_replies, timed


def main(*, database_url: str, quick: bool) -> None:
    from chat.stream_store import FlushEntry, stream_store
    from chat.streaming.snapshots import snapshot_replies

    repeat = 50 if quick else 300
    store = stream_store()
    (conversation, reply_ids), *_ = create_streaming_replies(1, 100)
    text = TOKEN * 400  # a reply of 400 tokens, 1.6 kB
    loop = asyncio.new_event_loop()
    keys = [f"{r}:bench" for r in reply_ids]  # the rows' stream keys (common.create_streaming_replies)
    loop.run_until_complete(store.record_flush([FlushEntry(k, text, 400, text) for k in keys], []))
    rows = []
    for count in (1, 10, 100):
        ids = keys[:count]
        async_ms = timed(lambda ids=ids: loop.run_until_complete(store.read(ids)), repeat)
        sync_ms = timed(lambda ids=ids: store.read_sync(ids), repeat)
        rows.append([f"stream_store().read({count} replies)", median(async_ms), percentile(async_ms, 99)])
        rows.append([f"stream_store().read_sync({count} replies)", median(sync_ms), percentile(sync_ms, 99)])
    # The consumer repairs a seq gap with snapshot_replies(only=[id]): a DB query and a store read.
    repair_ms = timed(lambda: snapshot_replies(conversation, only=[reply_ids[0]]), repeat)
    rows.append(["gap repair: snapshot_replies(only=[1 reply])", median(repair_ms), percentile(repair_ms, 99)])
    loop.close()
    print(f"\n## 3. Snapshot and repair cost ({repeat} calls each, replies of 1.6 kB, "
          "Redis and PostgreSQL on loopback)")
    print_table("Snapshot and repair", ["call", "median ms", "p99 ms"], rows)
