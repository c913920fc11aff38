"""Scenario ``parse``: the CPU a streaming process spends per provider chunk, the SDK's parse against webox's.

In process, no database or Redis: ``testing/fake_provider/`` on a thread, and on the main thread's
event loop the same streams read two ways, in both wire formats: the SDK's parsed stream
(``client.chat.completions.create(stream=True)`` / ``client.messages.create(stream=True)``, a
pydantic model per chunk) and the adapter (``provider.stream()``: the SDK's raw streaming response,
httpx2's event parser and orjson, chat/providers/sse.py). CPU is the loop thread's own
(``time.thread_time``: the fake's threads are not counted), per chunk, best of a few runs. Rows: one
long stream, and many streams at once (a busy loop reads several chunks per socket read).

A second table reads paced streams, as a provider sends them: 50 streams at once, started over a
second, each a chunk every 20 ms. Read as the chunks come (a wake-up of the stream's task each) and
read at a pace of 150 ms (``provider.stream(pace=...)``, as ``Publisher.pace`` paces a streaming reply:
what came during each wait, in one go).
"""

from __future__ import annotations

import asyncio
import time

from testing.figures import print_table


async def _sdk_openai(client, model: str) -> int:
    chunks = 0
    stream = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                                  stream=True, stream_options={"include_usage": True})
    async for _ in stream:
        chunks += 1
    return chunks


async def _sdk_anthropic(client, model: str) -> int:
    chunks = 0
    stream = await client.messages.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                          max_tokens=100_000, stream=True)
    async for _ in stream:
        chunks += 1
    return chunks


async def _webox(provider, model: str) -> int:
    from chat.providers import ChatMessage, ChatRequest, TextDelta

    request = ChatRequest(model=model, messages=(ChatMessage("user", "hi"),), max_tokens=100_000)
    return sum([isinstance(item, TextDelta) async for item in provider.stream(request)])


async def _paced(provider, model: str, streams: int, pace_ms: int | None) -> float:
    """CPU per chunk of ``streams`` streams started over a second, read as they come or at ``pace_ms``."""
    import random

    from chat.providers import ChatMessage, ChatRequest, TextDelta

    loop = asyncio.get_running_loop()
    tick = [loop.create_future()]

    async def ticks() -> None:
        while True:
            await asyncio.sleep(pace_ms / 1000)
            due, tick[0] = tick[0], loop.create_future()
            due.set_result(None)

    async def one() -> int:
        await asyncio.sleep(random.random())
        texts = 0
        request = ChatRequest(model=model, messages=(ChatMessage("user", "hi"),), max_tokens=100_000)
        # As the publisher's pace: none before the first text, then the next tick.
        pace = None if pace_ms is None else (lambda: tick[0] if texts else None)
        async for item in provider.stream(request, pace=pace):
            texts += isinstance(item, TextDelta)
        return texts

    ticker = None if pace_ms is None else loop.create_task(ticks())
    began = time.thread_time()
    chunks = sum(await asyncio.gather(*(one() for _ in range(streams))))
    used = time.thread_time() - began
    if ticker is not None:
        ticker.cancel()
    return used / chunks * 1e6


async def _measure(read, streams: int, model: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.thread_time()
        chunks = sum(await asyncio.gather(*(read(model) for _ in range(streams))))
        best = min(best, (time.thread_time() - t0) / chunks * 1e6)
    return best


def main(*, quick: bool, **_) -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webox.settings")
    django.setup()
    from chat.providers import ProviderConfig
    from chat.providers.policy import StreamPolicy
    from chat.providers.registry import build_provider
    from chat.providers.sdks import load_all
    from testing.fake_provider import DEFAULT_API_KEY, FakeProviderServer

    load_all()
    runs = 2 if quick else 5
    shapes = [(1, 1000 if quick else 3000), (50, 100 if quick else 200)]
    policy = StreamPolicy(connect_timeout=10, first_token_timeout=60, idle_timeout=60, retry_budget=0, max_retries=0)
    rows, paced_rows = [], []
    with FakeProviderServer() as fake:
        for kind, url in (("openai", fake.url), ("anthropic", fake.anthropic_url)):
            provider = build_provider(ProviderConfig(name=kind, kind=kind, base_url=url, api_key=DEFAULT_API_KEY),
                                      policy=policy)

            async def run(provider=provider, kind=kind) -> list:
                client = provider._client()  # the adapter's own SDK client: the same transport and settings
                sdk = _sdk_openai if kind == "openai" else _sdk_anthropic
                figures = []
                for streams, tokens in shapes:
                    model = f"fake-echo;tokens={tokens}"
                    by_sdk = await _measure(lambda m: sdk(client, m), streams, model, runs)
                    by_webox = await _measure(lambda m: _webox(provider, m), streams, model, runs)
                    figures.append([kind, streams, tokens, by_sdk, by_webox, by_sdk / by_webox])
                await client.close()
                return figures

            async def run_paced(provider=provider, kind=kind) -> list:
                model = f"fake-echo;delay_ms=20;tokens={100 if quick else 200}"
                as_they_come = min([await _paced(provider, model, 50, None) for _ in range(runs)])
                paced = min([await _paced(provider, model, 50, 150) for _ in range(runs)])
                return [[kind, 50, 20, as_they_come, paced, as_they_come / paced]]

            rows += asyncio.run(run())
            paced_rows += asyncio.run(run_paced())
    print_table("CPU per chunk on the streaming loop (µs, best of runs): the SDK's parsed stream vs webox's adapter",
                ["wire format", "streams at once", "chunks each", "SDK parse µs", "webox µs", "×"], rows)
    print_table("CPU per chunk of streams that send a chunk every 20 ms (µs, best of runs): read as chunks come "
                "vs at a 150 ms pace",
                ["wire format", "streams at once", "ms between chunks", "as they come µs", "paced µs", "×"],
                paced_rows)
