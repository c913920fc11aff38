"""A paced read (``pace``, chat/providers/sse.py): once text has come, the adapters wait for the pace before
waiting on the network, then read everything that arrived meanwhile in one go; the text and the end are
those of an unpaced read, in both wire formats, through the real SDKs against the fake server."""

import asyncio

import httpx2
import pytest

from chat.providers import sse
from chat.providers.base import ProviderConfig, StreamResult, TextDelta
from chat.providers.registry import build_provider
from testing.fake_provider import expected_reply
from tests.providers.conftest import ask

pytestmark = pytest.mark.usefixtures("fast_policy")

TOKENS = 30


class Ticks:
    """A pace as the publisher gives one (a wait until its next tick), every wait counted."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.waits = seconds, 0

    def __call__(self):
        self.waits += 1
        loop = asyncio.get_running_loop()
        tick = loop.create_future()
        loop.call_later(self.seconds, lambda: tick.done() or tick.set_result(None))
        return tick


async def read(provider, request, pace=None) -> tuple[list[str], StreamResult]:
    pieces = []
    async for item in provider.stream(request, pace=pace):
        if isinstance(item, StreamResult):
            return pieces, item
        if isinstance(item, TextDelta):
            pieces.append(item.text)
    raise AssertionError("the stream ended without a StreamResult")


def provider_of(kind: str, fake_provider):
    url = fake_provider.url if kind == "openai" else fake_provider.anthropic_url
    return build_provider(ProviderConfig(name=kind, kind=kind, base_url=url, api_key="test-key"))


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_paced_read_takes_what_came_during_each_wait_in_one_go(fake_provider, kind):
    provider = provider_of(kind, fake_provider)
    request = ask(f"fake-echo;delay_ms=10;tokens={TOKENS}", "count the pieces")
    ticks = Ticks(0.05)  # five of the provider's 10 ms pieces a wait

    pieces, result = await read(provider, request, ticks)

    assert pieces == expected_reply("count the pieces", tokens=TOKENS)
    assert result.finish_reason == "stop"
    assert result.completion_tokens == TOKENS
    # Unpaced, the stream's task waits once per piece; paced, once per wait, each wait reading several.
    assert 1 <= ticks.waits <= TOKENS // 3


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_paced_read_gives_what_an_unpaced_one_gives(fake_provider, kind):
    provider = provider_of(kind, fake_provider)
    request = ask(f"fake-echo;delay_ms=2;tokens={TOKENS}", "the same text")

    unpaced = await read(provider, request)
    paced = await read(provider, request, Ticks(0.01))

    assert paced[0] == unpaced[0] == expected_reply("the same text", tokens=TOKENS)
    assert (paced[1].finish_reason, paced[1].prompt_tokens, paced[1].completion_tokens) == (
        unpaced[1].finish_reason, unpaced[1].prompt_tokens, unpaced[1].completion_tokens)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_pace_that_says_none_reads_at_once(fake_provider, kind):
    provider = provider_of(kind, fake_provider)
    asked = []

    def at_once():
        asked.append(True)
        return None  # as the publisher's pace before a reply's first text

    pieces, _ = await read(provider, ask(f"fake-echo;delay_ms=5;tokens={TOKENS}", "no wait"), at_once)

    assert pieces == expected_reply("no wait", tokens=TOKENS)
    assert asked  # asked before each wait on the network, and told not to wait


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_paced_read_ends_with_the_body_not_at_the_next_tick(fake_provider, kind):
    provider = provider_of(kind, fake_provider)
    ticks = Ticks(30)  # a tick far beyond the test's patience

    async with asyncio.timeout(5):
        pieces, result = await read(provider, ask("fake-echo;delay_ms=5;tokens=5", "short"), ticks)

    assert pieces == expected_reply("short", tokens=5)
    assert result.finish_reason == "stop"
    assert ticks.waits >= 1


async def test_a_body_not_from_the_sdks_aiohttp_transport_is_read_as_before():
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"},
                               content=b"data: one\n\nevent: named\ndata: two\n\n",
                               request=httpx2.Request("POST", "http://provider.invalid/v1/chat/completions"))
    ticks = Ticks(0)

    assert sse.PacedBody.of(response, ticks) is None
    assert [(event.event, event.data) async for event in sse.events(response, ticks)] == [
        ("message", "one"), ("named", "two")]
    assert ticks.waits == 0
