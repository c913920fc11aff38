"""Fixed-window counters in the shared cache: how often one user or address may do something.

Every process counts in the same cache (Redis in the production shape, see ``CACHES``), with
one atomic ``INCR`` per attempt (after a ``SET NX`` that creates the window's key with its expiry),
so two servers never both let the N+1th attempt through. On Redis both go in one ``MULTI``: one
round trip per attempt (a send counts one) instead of Django's three (``add``, then ``incr``'s
``EXISTS`` and ``INCR``). A rate is written ``"COUNT/SECONDS"``; a count of 0
turns the limit off.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, seconds = str(text).partition("/")
        rate = cls(int(count), int(seconds or 60))
        if rate.count < 0 or rate.seconds <= 0:
            raise ValueError(f"a rate is COUNT/SECONDS with COUNT >= 0 and SECONDS > 0, not {text!r}")
        return rate


class Throttled(Exception):
    """Too many attempts in this window; ``retry_after`` is whole seconds until the next one."""

    def __init__(self, retry_after: int, detail: str = ""):
        self.retry_after = retry_after
        self.detail = detail or f"Too many attempts. Try again in {retry_after} seconds."
        super().__init__(self.detail)


def hit(scope: str, ident: str, rate: Rate | str) -> str | None:
    """Count one attempt of ``ident`` at ``scope``; raise ``Throttled`` when it is over the rate.

    Every attempt counts, refused ones too, so hammering does not reopen the window early.
    A cache that cannot be reached lets the attempt through (logged): a Redis outage must not
    lock every user out. Returns the counter's key, for ``refund`` (None when nothing was counted).
    """
    rate = Rate.parse(rate) if isinstance(rate, str) else rate
    if rate.count == 0:
        return None
    now = time.time()
    window = int(now // rate.seconds) * rate.seconds
    key = f"throttle:{scope}:{ident}:{window}"
    try:
        count = _count(key, timeout=rate.seconds + 1)
    except Exception:
        logger.warning("throttle %s not counted: the cache is unreachable", scope, exc_info=True)
        return None
    if count > rate.count:
        raise Throttled(max(1, math.ceil(window + rate.seconds - now)))
    return key


def _count(key: str, *, timeout: int) -> int:
    """One more attempt under ``key``, created with ``timeout`` if it is not there; the count so far."""
    redis_client = getattr(getattr(cache, "_cache", None), "get_client", None)  # Django's RedisCache
    if redis_client is not None:
        stored = cache.make_and_validate_key(key)
        pipe = redis_client(stored, write=True).pipeline()  # MULTI … EXEC: the key cannot expire in between
        pipe.set(stored, 0, ex=timeout, nx=True)
        pipe.incr(stored)
        return pipe.execute()[1]
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr: this attempt opens a new window
        cache.add(key, 1, timeout=timeout)
        return 1


def refund(key: str | None) -> None:
    """Give back an attempt ``hit`` counted (under the key it returned), for limits that count
    only failures: the attempt takes its place first, so that attempts running at the same time
    cannot all slip under the limit, and gives it back once it turns out to have succeeded."""
    if key is None:
        return
    try:
        cache.decr(key)
    except ValueError:
        pass  # the window ended meanwhile: its count is gone anyway
    except Exception:
        logger.warning("throttle refund of %s lost: the cache is unreachable", key, exc_info=True)
