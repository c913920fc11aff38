"""Figures of the end-to-end benchmark from one wave's raw records (the client's and the fake provider's)."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from itertools import accumulate

from testing.figures import percentile


def nominal_s(model: str) -> float:
    """What a reply of this fake model takes by itself: ttft + tokens × delay."""
    from testing.fake_provider import Behaviour

    b = Behaviour.parse(model)
    return (b.ttft_ms + (b.tokens or 0) * b.delay_ms) / 1000


def pct(values: list[float], *ps: float) -> list[float]:
    return [percentile(values, p) for p in ps]


def analyse(wave: dict, fake_records: list[dict]) -> dict:
    """Per-wave figures, in ms unless named otherwise."""
    from .e2e_client import expected_text

    by_key = {}
    for record in fake_records:
        by_key.setdefault((record["text"], record["model"]), []).append(record)
    ttft, to_provider, post, finish_ratio, turn, lags = [], [], [], [], [], []
    counts: Counter[str] = Counter()
    pieces_expected = pieces_delivered = 0
    slow_or_bad = 0
    spec = wave["spec"]
    counts["replies expected"] = 0 if spec["no_send"] else spec["streams"] * len(spec["models"])
    counts["not opened"] = len(wave["open_errors"]) * len(spec["models"])
    for stream in wave["streams"]:
        counts["streams"] += 1
        models = stream["models"]
        for model in models.values():
            pieces_expected += len(expected_text(stream["message"], model))
        if "posted" in stream:
            post.append(1000 * (stream["posted"] - stream["sent"]))
        if stream.get("status") != 202 or stream.get("exception"):
            counts["send failed"] += 1
            slow_or_bad += 1
            continue
        ends = []
        for provider, r in stream["replies"].items():
            model = models[provider]
            counts["ok"] += r["ok"]
            counts["wrong"] += r["wrong"]
            counts["not ended"] += not r["ended"]
            counts["doubled"] += bool(r["dups"])
            counts["gaps"] += r["gaps"]
            counts["repairs"] += r["repairs"]
            counts[f"ended {r.get('end', 'never')}"] += 1
            if r["first_delta"]:
                ttft.append(1000 * (r["first_delta"] - stream["sent"]))
            nominal = nominal_s(model)
            done = (r["ended"] - stream["sent"]) if r["ended"] else float("inf")
            finish_ratio.append(done / nominal if nominal else float("nan"))
            if not r["ok"] or done > 2 * nominal:
                slow_or_bad += 1
            ends.append(done)
            fake = by_key.get((stream["message"], model), [])
            if len(fake) != 1:
                counts["provider calls != 1"] += 1
            if fake:
                to_provider.append(1000 * (fake[0]["received_at"] - stream["sent"]))
                cum = list(accumulate(len(p) for p in expected_text(stream["message"], model)))
                arrivals = r["deltas"]
                lengths = [length for _, length in arrivals]
                for i, sent_at in enumerate(fake[0]["piece_times"]):
                    at = bisect_left(lengths, cum[i])
                    if at < len(arrivals):
                        lags.append(1000 * (arrivals[at][0] - sent_at))
                        pieces_delivered += 1
        if ends:
            turn.append(1000 * max(ends))
    directs = wave["directs"]
    direct_ttft = [1000 * (d["first"] - d["sent"]) for d in directs if d["first"]]
    counts["direct ok"] = sum(d["ok"] for d in directs)
    counts["direct calls"] = len(directs)
    w, d = pct(ttft, 50, 95, 99), pct(direct_ttft, 50, 95, 99)
    return {
        "counts": counts, "ttft": w, "direct ttft": d, "overhead": [a - b for a, b in zip(w, d, strict=True)],
        "to provider": pct(to_provider, 50, 99), "post": pct(post, 50, 99),
        "finish/nominal p99": percentile(finish_ratio, 99), "finish/nominal max": max(finish_ratio, default=0),
        "turn": pct(turn, 50, 99), "lag": pct(lags, 50, 99),
        "delivered %": 100 * pieces_delivered / pieces_expected if pieces_expected else float("nan"),
        "passed": slow_or_bad == 0 and not wave["open_errors"]
        and counts["streams"] == (0 if wave["spec"]["no_send"] else wave["spec"]["streams"]),
        "open errors": len(wave["open_errors"]), "statuses": wave["statuses"], "http errors": wave["http_errors"],
        "prepare s": wave["prepared"] - wave["began"],
    }
