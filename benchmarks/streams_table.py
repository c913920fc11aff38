"""Scenario 1's table: coalesced publisher vs per-reply-per-flush vs naive, by streams and shape."""

from __future__ import annotations

import itertools

from testing.figures import print_table

from . import streams
from .common import RUN_ID

RATE = 40.0  # tokens/s per stream

COLUMNS = ["layer", "mode", "streams", "replies/conv", "layer msg/s", "deltas/s", "store writes/s", "write p50 ms",
           "flush p50 ms", "interval ms", "tokens sent %", "latency p50 ms", "latency p99 ms", "seq gaps",
           "close wait p50 ms", "close wait p99 ms", "closes left", "producer CPU %", "loop lag p99 ms",
           "producer RSS MB", "receiver CPU %"]
_runs = itertools.count()


def measure(*, database_url: str, layer: str, mode: str, streams_count: int, per_conversation: int,
            window: float) -> list:
    plan = streams.make_plan(streams_count, per_conversation, RATE, window)
    result = streams.run(database_url=database_url, prefix=f"{RUN_ID}-{next(_runs)}", layer=layer, mode=mode,
                         plan=plan)
    p, r = result["producer"], result["receiver"]
    return [layer, mode, streams_count, per_conversation, p["sends_per_s"], r["deltas_per_s"], p["flushes_per_s"],
            p["store_p50_ms"], p["flush_p50_ms"], p["interval_ms"], p["sent_percent"], r["p50_ms"], r["p99_ms"],
            r["gaps"] + r["duplicates"], p["close_p50_ms"], p["close_p99_ms"], p["closes_unfinished"],
            p["cpu_percent"], p["lag_p99_ms"], p["rss_mb"], r["cpu_percent"]]


def configurations(quick: bool) -> list[tuple[str, str, int, int]]:
    if quick:
        return [("pubsub", mode, 500, 1) for mode in ("publisher", "publisher-md", "per-reply", "naive")]
    rows = [("pubsub", "tokens", 500, 1)]
    for count in (100, 300, 500):
        rows += [("pubsub", mode, count, 1) for mode in ("publisher", "per-reply", "naive")]
    rows += [("pubsub", "publisher-md", count, 1) for count in (100, 500)]
    rows += [("pubsub", mode, 500, 3) for mode in ("publisher", "per-reply")]
    rows += [("core", mode, 500, 1) for mode in ("publisher", "per-reply")]
    return rows


def main(*, database_url: str, quick: bool) -> None:
    window = 3.0 if quick else 8.0
    rows = []
    print(f"\n## 1. Delta path: {RATE:.0f} tokens/s per stream, replies of 100-400 tokens back to back, "
          f"{window:.0f} s measured window (after 1 s warm-up)")
    for layer, mode, count, shape in configurations(quick):
        rows.append(measure(database_url=database_url, layer=layer, mode=mode, streams_count=count,
                            per_conversation=shape, window=window))
        print(f"  {layer} {mode} {count}x{shape}: done", flush=True)
    print_table("Delta path", COLUMNS, rows)
