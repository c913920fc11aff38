"""Scenario 2: the interval the publisher picks, and the publish rate it reaches, by stream count."""

from __future__ import annotations

from testing.figures import print_table

from .streams_table import COLUMNS, RATE, measure


def main(*, database_url: str, quick: bool) -> None:
    from django.conf import settings

    cap = settings.WEBOX_MAX_PUBLISH_RATE
    counts = (100, 1000) if quick else (100, 300, 500, 1000)
    window = 3.0 if quick else 5.0
    print(f"\n## 2. Adaptive interval: publisher only, 1 reply per conversation, {RATE:.0f} tokens/s per stream, "
          f"base {settings.WEBOX_FLUSH_INTERVAL_MS} ms, WEBOX_MAX_PUBLISH_RATE {cap}/s")
    rows = []
    for count in counts:
        row = measure(database_url=database_url, layer="pubsub", mode="publisher", streams_count=count,
                      per_conversation=1, window=window)
        by = dict(zip(COLUMNS, row, strict=True))
        expected = 1000 * max(settings.WEBOX_FLUSH_INTERVAL_MS / 1000, count / cap)
        rows.append([count, expected, by["interval ms"], by["store writes/s"], by["layer msg/s"],
                     "yes" if by["layer msg/s"] <= cap else "NO", by["latency p50 ms"], by["latency p99 ms"],
                     by["close wait p50 ms"], by["producer CPU %"]])
        print(f"  publisher {count}: done", flush=True)
    print_table("Adaptive interval", ["streams", "formula ms", "interval ms (median)", "store writes/s",
                                      "layer msg/s", f"under {cap}/s", "latency p50 ms", "latency p99 ms",
                                      "close wait p50 ms", "producer CPU %"], rows)

