"""Scenario ``chunks``: a streaming process's CPU per provider chunk when chunks arrive one at a time.

In process, as a Celery worker runs replies: many spaced streams at once on one event loop, each read
through the real adapter (``chat.streaming.engine.stream_from_provider``: provider, policy, SSE) and
handed to the real publisher, which records to Redis (the stream store) and publishes to the Redis
channel layer. No database: checkpoints are pushed out of the run. The fake provider runs in its own
process (``benchmarks.e2e_procs.FakeProvider``), so the CPU counted (``time.process_time``) is webox's
alone. Rows:

- ``spaced``: N streams of T chunks, D ms apart: CPU per chunk (median of runs);
- ``waiting``: N streams whose first token comes after W ms: CPU per second per waiting stream;
- ``cancel``: how long a cancel request (``stream_store().request_cancel``) takes to stop a stream, streaming
  or waiting for its first token.

Needs Redis (``WEBOX_BENCH_REDIS_URL``); keys live under a prefix unique to the run, deleted at the end.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time

from testing.figures import print_table

from .common import REDIS_URL, RUN_ID


async def _reply(index: int, model: str, config, stop_at: list | None = None) -> int:
    """One reply as the engine streams it: provider → publisher, then its close and last publish."""
    from chat import events
    from chat.providers import ChatMessage, ChatRequest
    from chat.streaming.engine import Outcome, Prepared, stream_from_provider
    from chat.streaming.publisher import get_publisher

    publisher = get_publisher()
    stream = publisher.open(reply_id=index, conversation_id=index, key=f"{RUN_ID}-{index}")
    request = ChatRequest(model=model, messages=(ChatMessage("user", "hi"),))
    try:
        await stream_from_provider(Prepared(reply=None, config=config, request=request), stream, Outcome())
    except asyncio.CancelledError:
        if not stream.cancel_requested:
            raise
        asyncio.current_task().uncancel()
        if stop_at is not None:
            stop_at.append(time.monotonic())
    final = await publisher.close(stream)
    await events.publish(stream.conversation_id, final)
    return len(stream.chunks)


async def _spaced(config, streams: int, tokens: int, delay_ms: int) -> float:
    """CPU µs per chunk for ``streams`` replies at once, ``delay_ms`` between chunks."""
    model = f"fake-echo;tokens={tokens};delay_ms={delay_ms};ttft_ms=0"
    cpu = time.process_time()
    chunks = sum(await asyncio.gather(*(_reply(i, model, config) for i in range(streams))))
    return (time.process_time() - cpu) / chunks * 1e6


async def _waiting(config, streams: int, wait_ms: int) -> float:
    """CPU ms per second per stream while ``streams`` replies wait ``wait_ms`` for one token."""
    model = f"fake-echo;tokens=1;ttft_ms={wait_ms}"
    cpu, began = time.process_time(), time.monotonic()
    await asyncio.gather(*(_reply(10_000 + i, model, config) for i in range(streams)))
    return (time.process_time() - cpu) * 1e3 / (time.monotonic() - began) / streams


async def _cancel_latency(config, streams: int, model: str, first_id: int) -> list[float]:
    """Milliseconds from each reply's cancel request to the end of its provider stream."""
    from chat.stream_store import stream_store

    stopped: list[float] = []
    tasks = [asyncio.ensure_future(_reply(first_id + i, model, config, stopped)) for i in range(streams)]
    await asyncio.sleep(0.5)
    latencies = []
    for i in range(streams):
        before = len(stopped)
        asked = time.monotonic()
        await asyncio.to_thread(stream_store().request_cancel, [f"{RUN_ID}-{first_id + i}"])
        while len(stopped) == before and time.monotonic() - asked < 3:
            await asyncio.sleep(0.001)
        latencies.append((stopped[-1] - asked) * 1e3 if len(stopped) > before else float("inf"))
        await asyncio.sleep(random.uniform(0.02, 0.2))  # requests at any point of the ticks
    for task in tasks:
        task.cancel()  # any not stopped (reported as inf)
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


def main(*, quick: bool, **_) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "webox.settings", "REDIS_URL": REDIS_URL, "WEBOX_REDIS_PREFIX": RUN_ID,
        "WEBOX_LOG_LEVEL": "WARNING",
        # No database here: the checkpoints (and their heartbeat) never come due during a run.
        "WEBOX_CHECKPOINT_INTERVAL_MS": str(10**9),
    })
    import django

    django.setup()
    from chat.providers import ProviderConfig
    from chat.providers.sdks import load_all

    from .e2e_procs import FAKE_KEY, FakeProvider

    load_all()
    runs = 3 if quick else 5
    spaced = [(1, 40, 30), (50, 40 if quick else 100, 20)]
    rows = []
    with FakeProvider() as fake:
        for kind, path in (("openai", "/v1"), ("anthropic", "/anthropic")):
            config = ProviderConfig(name=kind, kind=kind, base_url=fake.origin + path, api_key=FAKE_KEY)

            async def run(config=config, kind=kind) -> None:
                await _reply(-1, "fake-echo;tokens=5", config)  # the client and its connection, once
                for streams, tokens, delay in spaced:
                    figures = [await _spaced(config, streams, tokens, delay) for _ in range(runs)]
                    rows.append([kind, f"spaced: {streams} streams × {tokens} chunks, {delay} ms apart",
                                 "µs CPU per chunk", round(statistics.median(figures), 1)])
                for streams in (1, 50):
                    figures = [await _waiting(config, streams, 1500) for _ in range(2)]
                    rows.append([kind, f"waiting: {streams} streams, 1.5 s to the first token",
                                 "ms CPU per s per stream", round(statistics.median(figures), 2)])
                if kind == "openai":
                    for first_id, state, model in (
                            (20_000, "streaming", "fake-echo;tokens=1000;delay_ms=20"),
                            (30_000, "waiting for the first token", "fake-echo;tokens=1;ttft_ms=5000")):
                        latencies = await _cancel_latency(config, 20, model, first_id)
                        rows.append([kind, f"cancel: 20 streams {state}, one request at a time",
                                     "ms to stop, median / max",
                                     f"{statistics.median(latencies):.0f} / {max(latencies):.0f}"])
                from chat.providers.policy import close_clients
                await close_clients()

            asyncio.run(run())
            fake.take()
    print_table("A streaming process's CPU per spaced chunk and per waiting stream (process CPU, median of runs)",
                ["wire format", "workload", "figure", "value"], rows)
