"""Figures of a run and the Markdown table that shows them (pasted into docs/performance.md as is)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(title: str, columns: list[str], rows: list[list]) -> None:
    """A Markdown table, so the output can be pasted into docs/performance.md as is."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "–" if value != value else f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
        return str(value)

    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(cell(v) for v in row) + " |", flush=True)
