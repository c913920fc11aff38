"""The shared policy's timeouts for the SDKs and its reading of their errors."""

import aiohttp
import pytest

from chat.providers.base import ProviderConfig
from chat.providers.policy import StreamPolicy, timed_out
from chat.providers.registry import build_provider


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


def test_a_streams_reads_have_no_http_timer_of_their_own_and_other_calls_keep_the_backstop():
    # Every read of a stream is under the first-token or the idle timer already (test_openai_compat,
    # test_anthropic: the hang tests); an HTTP read timer was re-armed at every chunk.
    policy = StreamPolicy(connect_timeout=1.0, first_token_timeout=2.0, idle_timeout=3.0, retry_budget=1.0,
                          max_retries=0)
    assert policy.http_timeout(streaming=True) == {"connect": 1.0, "read": None, "write": 8.0, "pool": 1.0}
    assert policy.http_timeout() == {"connect": 1.0, "read": 8.0, "write": 8.0, "pool": 1.0}


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_the_sdk_client_of_streams_reads_without_a_timer_and_the_one_of_listings_with_one(kind):
    provider = build_provider(ProviderConfig(name=kind, kind=kind, base_url="http://127.0.0.1:9", api_key="k"))
    await provider.load_sdk()
    streaming, listing = provider._client(streaming=True), provider._client()
    assert streaming.timeout.read is None
    assert listing.timeout.read == provider.policy.http_timeout()["read"]
    await streaming.close()
    await listing.close()
