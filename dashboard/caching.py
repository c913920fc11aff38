"""What the dashboard keeps in the cache, under keys that name exactly what was computed.

Nothing here can serve a stale figure: a key holds the fingerprint of the data it was computed
from (dashboard/selectors.py) or a digest of what is drawn (dashboard/charts.py). A cache that
cannot be reached costs time, not figures: the value is computed (logged), never an error page.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)

K = TypeVar("K")
T = TypeVar("T")
TIMEOUT_SECONDS = 24 * 3600


def _key(name: tuple) -> str:
    return "dashboard:" + hashlib.blake2b(repr(name).encode(), digest_size=16).hexdigest()


def remembered(name: tuple, compute: Callable[[], T], *, timeout: int = TIMEOUT_SECONDS) -> T:
    """``compute()``, or what it returned earlier for the same ``name`` (a tuple of plain values)."""
    key = _key(name)
    try:
        found = cache.get(key)
    except Exception:
        logger.warning("dashboard cache unreachable; %s computed", name[0], exc_info=True)
        return compute()
    if found is not None:
        return found
    value = compute()
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("dashboard cache unreachable; %s not kept", name[0], exc_info=True)
    return value


def remembered_many(names: dict[K, tuple], compute: Callable[[list[K]], dict[K, T]], *, empty: T,
                    timeout: int = TIMEOUT_SECONDS) -> dict[K, T]:
    """The value of each of ``names`` (one cache round trip); ``compute(missing)`` gives those never
    computed, in one go (``empty`` for one it has nothing for)."""
    keys = {item: _key(name) for item, name in names.items()}
    try:
        found = cache.get_many(list(keys.values()))
    except Exception:
        logger.warning("dashboard cache unreachable; computed", exc_info=True)
        found = None
    out = {item: found[key] for item, key in keys.items() if key in found} if found is not None else {}
    missing = [item for item in names if item not in out]
    if not missing:
        return out
    computed = compute(missing)
    fresh = {item: computed.get(item, empty) for item in missing}
    if found is not None:
        try:
            cache.set_many({keys[item]: value for item, value in fresh.items()}, timeout)
        except Exception:
            logger.warning("dashboard cache unreachable; not kept", exc_info=True)
    return out | fresh
