"""The shared policy's reading of the SDKs' errors."""

import aiohttp
import pytest

from chat.providers.policy import timed_out


def raised_from(cause: BaseException) -> BaseException:
    """An error raised while handling ``cause``, as the SDKs' transport re-raises aiohttp's."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise ConnectionError("mapped") from exc
    except ConnectionError as mapped:
        return mapped


@pytest.mark.parametrize("cause", [aiohttp.ServerTimeoutError("read timed out"), TimeoutError()])
def test_a_timer_that_fired_is_a_timeout(cause):
    assert timed_out(raised_from(cause))


@pytest.mark.parametrize("cause", [aiohttp.ServerDisconnectedError(), ConnectionRefusedError(), OSError("down")])
def test_a_refused_or_dropped_connection_reported_as_a_timeout_is_not_one(cause):
    assert not timed_out(raised_from(cause))
