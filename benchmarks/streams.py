"""Scenario 1: the delta path of N concurrent streams on one event loop, seen by another process.

A *producer* process (one event loop, like a Celery worker's long-lived loop) runs N stream slots.
Each slot plays replies back to back, every reply 100-400 tokens of 4 bytes at ``rate`` tokens/s
(a new reply starts the moment the previous one ends, so replies open and close all the time; a
reply's close runs in its own task, as each reply is its own task in chat.streaming.engine).
A *receiver* process subscribes to every conversation group through the same channel layer and
records when each token arrives. Token i of a reply is *due* at a time both processes compute
from the plan; latency is arrival minus due, so a producer that falls behind shows it.

Modes:
- ``publisher``: the real ``chat.streaming.publisher.Publisher`` (Redis stream state, checkpoints to PostgreSQL,
  one layer message per conversation per flush, adaptive interval).
- ``publisher-md``: the same, with replies that are Markdown (paragraphs, a heading, a list, a table, a
  fenced code block, in 4-byte tokens; see ``MARKDOWN_TOKENS``), so the finished blocks rendered while a
  reply streams (``message.blocks``) are part of the cost; plain ``tok`` tokens never finish a block.
- ``per-reply``: the same Redis stream-state write per flush, but one ``group_send`` per reply per
  flush at the base interval ``WEBOX_FLUSH_INTERVAL_MS`` (no per-conversation batching, no widening).
- ``naive``: one ``group_send`` per token, awaited by the stream (no stream state, no checkpoint).
- ``tokens``: the token generator alone, nothing published: the synthetic provider's own CPU cost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from testing.figures import percentile

from .common import TOKEN, Usage, base_env, create_streaming_replies, pipe, rss_mb, setup_django, spawn

WARMUP = 1.0  # seconds after start excluded from rates and CPU (tasks ramping up)
PUBLISHERS = ("publisher", "publisher-md")


def _markdown_tokens() -> list[str]:
    """A Markdown reply of about 400 tokens, cut into 4-character tokens (a receiver counts len(text) // 4)."""
    paragraph = "Some words of a paragraph that goes on for a while, as replies do, with `code` and **bold**. " * 2
    items = "".join(f"- item {i}: a point worth making in a list\n" for i in range(6))
    table = "| name | value |\n|---|---:|\n" + "".join(f"| row {i} | {i * 7} |\n" for i in range(5))
    code = "```python\n" + "".join(f"def step_{i}(x):\n    return x * {i}\n" for i in range(6)) + "```\n"
    text = f"{paragraph}\n\n## A heading\n\n{items}\n{table}\n{code}\n{paragraph}\n\n"
    text += " " * (-len(text) % 4)
    return [text[i:i + 4] for i in range(0, len(text), 4)]


MARKDOWN_TOKENS = _markdown_tokens()


@dataclass
class Plan:
    """Who streams what, and when each token is due (relative to the producer's start)."""

    slots: list[list[tuple[int, int, float, int]]]  # per slot: (reply_id, conversation_id, base, tokens)
    conversations: list[int]
    rate: float
    window: float  # seconds measured; replies started before its end play to completion

    @property
    def scheduled_tokens(self) -> int:
        return sum(n for slot in self.slots for *_, n in slot)

    @property
    def end(self) -> float:
        return max(base + n / self.rate for slot in self.slots for _, _, base, n in slot)


def make_plan(streams: int, per_conversation: int, rate: float, window: float, seed: int = 1) -> Plan:
    """Replies of 100-400 tokens back to back; each slot's last reply ends 0-2 s after the window."""
    rng = random.Random(seed)
    lengths = []
    for _ in range(streams):
        slot, used, end = [], 0, int(rate * (window + 2 * rng.random()))
        while used < end:
            n = min(rng.randint(100, 400), end - used)
            slot.append(n)
            used += n
        lengths.append(slot)
    conversations = -(-streams // per_conversation)
    ids = create_streaming_replies(conversations, per_conversation * max(len(s) for s in lengths))
    slots = []
    for s, slot_lengths in enumerate(lengths):
        cid, reply_ids = ids[s // per_conversation]
        offset = rng.random() / rate  # slots out of phase, as independent providers are
        first, replies = 0, []
        for reply_id, n in zip(reply_ids[s % per_conversation::per_conversation], slot_lengths, strict=False):
            replies.append((reply_id, cid, offset + first / rate, n))
            first += n
        slots.append(replies)
    return Plan(slots, sorted({cid for cid, _ in ids}), rate, window)


# --- receiver process -----------------------------------------------------------------------------
def receiver_main(env: dict, layer_kind: str, plan: Plan, conn) -> None:
    setup_django(env, layer=layer_kind)
    conn.send(asyncio.run(_receive(plan, conn)))


async def _receive(plan: Plan, conn) -> dict:
    from channels.layers import get_channel_layer

    from chat import events

    layer = get_channel_layer()
    channel = await layer.new_channel()
    for cid in plan.conversations:
        await layer.group_add(events.conversation_group(cid), channel)
    records: list[tuple[float, int, int, int]] = []
    last = [time.monotonic()]

    async def pump():
        while True:
            message = await layer.receive(channel)
            now = time.monotonic()
            last[0] = now
            for ev in message["events"]:
                if ev["type"] != "message.delta":
                    continue  # message.blocks: the same text, rendered
                records.append((now, ev["message_id"], ev["seq"], len(ev["text"]) // len(TOKEN)))
            records.append((now, 0, 0, 0))  # marks one layer message

    task = asyncio.get_running_loop().create_task(pump())
    conn.send("ready")
    start = await _command(conn)
    usage = Usage().start()
    await _command(conn)  # the producer is done: drain until 1 s of quiet, 20 s at most
    deadline = time.monotonic() + 20
    while time.monotonic() - last[0] < 1.0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    usage.stop()
    # Cancelling the receive unsubscribes; channels-redis logs that cancellation as an error.
    logging.getLogger("channels_redis").setLevel(logging.CRITICAL)
    task.cancel()
    return _receiver_stats(plan, start, records, usage)


async def _command(conn):
    while not conn.poll():
        await asyncio.sleep(0.02)
    return conn.recv()


def _receiver_stats(plan: Plan, start: float, records, usage: Usage) -> dict:
    base = {reply_id: b for slot in plan.slots for reply_id, _, b, _ in slot}
    received: dict[int, int] = {}
    last_seq: dict[int, int] = {}
    latencies: list[float] = []
    gaps = duplicates = messages = deltas = 0
    lo, hi = start + WARMUP, start + plan.window
    for now, reply_id, seq, n in records:
        in_window = lo <= now <= hi
        if reply_id == 0:
            messages += in_window
            continue
        deltas += in_window
        if seq <= last_seq.get(reply_id, 0):
            duplicates += 1
            continue
        gaps += seq > last_seq.get(reply_id, 0) + 1
        last_seq[reply_id] = seq
        first = received.get(reply_id, 0)
        due0 = start + base[reply_id]
        latencies.extend(now - (due0 + (first + k) / plan.rate) for k in range(n))
        received[reply_id] = first + n
    span = hi - lo
    return {
        "messages_per_s": messages / span, "deltas_per_s": deltas / span, "tokens": sum(received.values()),
        "p50_ms": 1000 * percentile(latencies, 50), "p99_ms": 1000 * percentile(latencies, 99),
        "gaps": gaps, "duplicates": duplicates, "cpu_percent": usage.cpu_percent,
    }


# --- producer process ------------------------------------------------------------------------------
def producer_main(env: dict, layer_kind: str, mode: str, plan: Plan, conn) -> None:
    setup_django(env, layer=layer_kind)
    conn.send(asyncio.run(_produce(mode, plan, conn)))


class _WindowCounter:
    """Counts and times calls of an async method while the window is open (instrumentation only)."""

    def __init__(self, obj, name: str):
        self.count, self.open, self.durations = 0, False, []
        inner = getattr(obj, name)

        async def counted(*args, **kwargs):
            if not self.open:
                return await inner(*args, **kwargs)
            self.count += 1
            t0 = time.monotonic()
            try:
                return await inner(*args, **kwargs)
            finally:
                self.durations.append(time.monotonic() - t0)

        setattr(obj, name, counted)


async def _produce(mode: str, plan: Plan, conn) -> dict:
    from channels.layers import get_channel_layer
    from django.conf import settings

    from chat import events
    from chat.stream_store import stream_store
    from chat.streaming.publisher import get_publisher

    layer, store = get_channel_layer(), stream_store()
    # Connections are opened before the clock starts: their setup is not what is measured.
    await layer.group_send("warmup", {"type": "warmup"})
    await store.read([0])
    sends, flushes = _WindowCounter(layer, "group_send"), _WindowCounter(store, "record_flush")
    publisher = get_publisher() if mode in PUBLISHERS else None
    flush_calls = _WindowCounter(publisher, "flush") if publisher is not None else None
    per_reply = PerReplyFlusher(settings.WEBOX_FLUSH_INTERVAL_MS / 1000) if mode == "per-reply" else None
    conn.send("ready")
    await _command(conn)  # the receiver has subscribed
    start = time.monotonic() + 0.2
    conn.send(("start", start))
    hard_stop = start + plan.end + 3  # a path that cannot keep up is cut off here
    sent = [0]

    closes: list[asyncio.Task] = []
    close_waits: list[float] = []

    async def close(stream, ended: float):
        # As chat.streaming.engine does after the provider's last token; timed until the final text is out.
        await (publisher.close(stream) if publisher is not None else per_reply.close(stream))
        if start + WARMUP <= ended <= start + plan.window:
            close_waits.append(time.monotonic() - ended)

    async def play(slot):
        for reply_id, cid, base, n in slot:
            due0 = start + base
            if publisher is not None:
                stream = publisher.open(reply_id=reply_id, conversation_id=cid, key=f"{reply_id}:bench")
            elif per_reply is not None:
                stream = per_reply.open(reply_id, cid)
            for i in range(n):
                delay = due0 + i / plan.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif time.monotonic() > hard_stop:
                    return
                if mode == "naive":
                    await events.publish(cid, [events.delta(message_id=reply_id, seq=i + 1, text=TOKEN)])
                elif mode == "publisher-md":
                    stream.append(MARKDOWN_TOKENS[i % len(MARKDOWN_TOKENS)])
                elif mode != "tokens":
                    stream.append(TOKEN)
                sent[0] += 1
            if mode in (*PUBLISHERS, "per-reply"):
                closes.append(asyncio.get_running_loop().create_task(close(stream, time.monotonic())))

    intervals, lags = [], []

    async def sample():
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(0.05)
            if start + WARMUP <= t0 <= start + plan.window:
                lags.append(time.monotonic() - t0 - 0.05)
                if publisher is not None and publisher.streams:
                    intervals.append(publisher.interval())

    async def window():
        await asyncio.sleep(start + WARMUP - time.monotonic())
        sends.open = flushes.open = True
        if flush_calls is not None:
            flush_calls.open = True
        usage = Usage().start()
        await asyncio.sleep(start + plan.window - time.monotonic())
        sends.open = flushes.open = False
        if flush_calls is not None:
            flush_calls.open = False
        return usage.stop(), rss_mb()

    await asyncio.sleep(start - time.monotonic())
    sampler = asyncio.get_running_loop().create_task(sample())
    measured = asyncio.get_running_loop().create_task(window())
    await asyncio.gather(*(play(slot) for slot in plan.slots))
    (usage, rss) = await measured
    _, unfinished = await asyncio.wait(closes, timeout=max(1.0, hard_stop - time.monotonic())) if closes else (0, [])
    finished = time.monotonic()
    sampler.cancel()
    if per_reply is not None:
        per_reply.stop()
    span = usage.wall
    return {
        "sent_percent": 100 * sent[0] / plan.scheduled_tokens, "sends_per_s": sends.count / span,
        "flushes_per_s": flushes.count / span, "cpu_percent": usage.cpu_percent, "rss_mb": rss,
        "interval_ms": 1000 * sorted(intervals)[len(intervals) // 2] if intervals else float("nan"),
        "lag_p99_ms": 1000 * percentile(lags, 99), "overrun_s": finished - (start + plan.end),
        "close_p50_ms": 1000 * percentile(close_waits, 50), "close_p99_ms": 1000 * percentile(close_waits, 99),
        "closes_unfinished": len(unfinished), "store_p50_ms": 1000 * percentile(flushes.durations, 50),
        "flush_p50_ms": 1000 * percentile(flush_calls.durations, 50) if flush_calls else float("nan"),
    }


class PerReplyFlusher:
    """The obvious batching: every base interval, one stream-state write, then one group_send per reply."""

    def __init__(self, interval: float):
        self.interval = interval
        self.streams: dict[int, _Stream] = {}
        self.lock = asyncio.Lock()
        self.runner = asyncio.get_running_loop().create_task(self._run())

    def open(self, reply_id: int, conversation_id: int) -> _Stream:
        stream = self.streams[reply_id] = _Stream(reply_id, conversation_id)
        return stream

    async def close(self, stream: _Stream) -> None:
        await self._flush([stream])
        self.streams.pop(stream.reply_id, None)

    def stop(self) -> None:
        self.runner.cancel()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._flush(list(self.streams.values()))

    async def _flush(self, streams: list[_Stream]) -> None:
        async with self.lock:
            await self._flush_locked(streams)

    async def _flush_locked(self, streams: list[_Stream]) -> None:
        from chat import events
        from chat.stream_store import FlushEntry, stream_store

        due = [(s, len(s.pending)) for s in streams if s.pending]
        if not due:
            return
        entries = [FlushEntry(s.reply_id, "".join(s.pending[:n]), s.seq + 1, "".join(s.chunks)) for s, n in due]
        await stream_store().record_flush(entries, [])
        for (s, n), entry in zip(due, entries, strict=True):
            del s.pending[:n]
            s.seq = entry.seq
        await asyncio.gather(*(
            events.publish(s.conversation_id, [events.delta(message_id=s.reply_id, seq=s.seq, text=entry.chunk)])
            for (s, _), entry in zip(due, entries, strict=True)
        ))


@dataclass(eq=False)
class _Stream:
    reply_id: int
    conversation_id: int
    seq: int = 0

    def __post_init__(self):
        self.chunks: list[str] = []
        self.pending: list[str] = []

    def append(self, text: str) -> None:
        self.chunks.append(text)
        self.pending.append(text)


# --- one measured run ---------------------------------------------------------------------------------
def run(*, database_url: str, prefix: str, layer: str, mode: str, plan: Plan) -> dict:
    """Start a receiver and a producer process, play the plan, return both sides' figures."""
    env = base_env(database_url=database_url, prefix=prefix)
    rx_conn, rx_child = pipe()
    tx_conn, tx_child = pipe()
    receiver = spawn(receiver_main, env, layer, plan, rx_child)
    try:
        producer = spawn(producer_main, env, layer, mode, plan, tx_child)
        try:
            for conn, who in ((rx_conn, "receiver"), (tx_conn, "producer")):
                if not conn.poll(60) or conn.recv() != "ready":
                    raise RuntimeError(f"the {who} did not start")
            tx_conn.send("go")
            limit = 60 + plan.end * 3
            if not tx_conn.poll(10):
                raise RuntimeError("the producer did not start")
            rx_conn.send(tx_conn.recv()[1])
            if not tx_conn.poll(limit):
                raise RuntimeError("the producer did not finish")
            produced = tx_conn.recv()
            rx_conn.send("drain")
            if not rx_conn.poll(60):
                raise RuntimeError("the receiver did not finish")
            received = rx_conn.recv()
        finally:
            producer.join(10)
            if producer.is_alive():
                producer.kill()
    finally:
        receiver.join(10)
        if receiver.is_alive():
            receiver.kill()
    return {"producer": produced, "receiver": received}
