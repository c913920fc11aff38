"""The fixed-window counters (webox/throttles.py): the attempt over the rate is refused, in any cache."""

import pytest
from django.core.cache import cache

from webox import throttles


def test_the_attempt_over_the_rate_is_refused_until_the_window_ends():
    keys = [throttles.hit("test", "alice", "3/60") for _ in range(3)]

    with pytest.raises(throttles.Throttled) as refused:
        throttles.hit("test", "alice", "3/60")

    assert len(set(keys)) == 1
    assert 1 <= refused.value.retry_after <= 60
    assert throttles.hit("test", "bob", "3/60") is not None  # counted apart


def test_a_refunded_attempt_makes_room_for_one_more():
    keys = [throttles.hit("test", "carol", "2/60") for _ in range(2)]

    throttles.refund(keys[-1])

    assert throttles.hit("test", "carol", "2/60") == keys[0]
    with pytest.raises(throttles.Throttled):
        throttles.hit("test", "carol", "2/60")


def test_on_redis_the_windows_counter_expires_with_its_window():
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is None:
        pytest.skip("the embedded default counts in memory")
    key = throttles.hit("test", "dave", "5/60")

    stored = cache.make_and_validate_key(key)
    assert client(stored).get(stored) == b"1"
    assert 0 < client(stored).ttl(stored) <= 61
