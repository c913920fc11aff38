"""How many frames one socket may send: a token bucket per socket, in the consumer's memory.

Each socket counts its own frames (no shared cache: a frame is cheap to count and a socket lives
on one process). A rate is ``"COUNT/SECONDS"`` as for the throttles: COUNT frames at once, then
COUNT more every SECONDS, refilled steadily; a COUNT of 0 turns the limit off.
"""

from __future__ import annotations

import time

from webox.throttles import Rate


class FrameBucket:
    def __init__(self, rate: str):
        parsed = Rate.parse(rate)
        self.capacity = parsed.count
        self.per_second = parsed.count / parsed.seconds
        self.tokens = float(parsed.count)
        self.at = time.monotonic()

    def take(self) -> float:
        """0 if one more frame may pass now (it is counted); otherwise the seconds until one may."""
        if not self.capacity:
            return 0.0
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second
