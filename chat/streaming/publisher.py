"""Coalesce the deltas of every reply on this event loop and publish them in batches.

One publisher per event loop (the server's loop in the embedded default, the one long-lived loop
of a Celery worker process). Each flush costs, for the whole process: one Redis round trip that
records every reply's text and seq and reads every cancel flag, then one channel-layer message per
conversation that has new text, carrying all of its replies' deltas. A reply's first text does not
wait for the next tick: it goes out at once (batched with the other first texts of the same loop
turn), unless the interval is already at its widest. The flush interval widens when more
conversations are active than ``WEBOX_MAX_PUBLISH_RATE`` allows at the base interval, up to
``WEBOX_MAX_FLUSH_INTERVAL_MS``.
The text so far is checkpointed to the database about once a second per reply.

Once a reply has text, its provider's body is read at the publisher's pace (``Publisher.pace``): a read
that finds nothing waits for the next periodic flush, and that flush begins by letting every such
stream read what came meanwhile, in one go. So a stream's task wakes about once per tick rather than
once per chunk, and the text read still goes out in the tick it would have gone out in.

A flush that completes or begins a line of a reply may finish Markdown blocks (chat.streamed_markdown): those
are rendered once, off the loop, and go out as ``message.blocks`` in the same layer message as the
deltas, right after them, with the open block when it is a code fence or a table (its new lines only,
while it grows).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from functools import partial

from django.conf import settings

from chat import events
from chat.providers import Pace
from chat.services import replies_checkpoint
from chat.stream_store import FlushEntry, stream_store
from chat.streamed_markdown import RenderedBlocks
from webox.database import database_busy

from .db_threads import in_db_thread
from .reply_stream import ReplyStream

logger = logging.getLogger(__name__)


class Publisher:
    def __init__(self) -> None:
        self.streams: dict[int, ReplyStream] = {}
        self._flush_lock = asyncio.Lock()
        self._runner: asyncio.Task | None = None
        self._checkpointing: asyncio.Task | None = None
        self._first: list[ReplyStream] = []
        self._first_flush: asyncio.Task | None = None
        self._closing: list[tuple[ReplyStream, asyncio.Future]] = []
        self._closing_flush: asyncio.Task | None = None
        self._watched_at = float("-inf")  # when the periodic flush last read the cancel flags (monotonic)
        self._first_text_came: asyncio.Future | None = None  # while every reply waits for its first text
        self._paced: list[asyncio.Future] = []  # one per stream waiting for the next tick to read again

    def interval(self) -> float:
        """Seconds between ticks: the base interval, widened while more conversations are active than
        ``WEBOX_MAX_PUBLISH_RATE`` allows at it, to at most ``WEBOX_MAX_FLUSH_INTERVAL_MS``.

        Each layer message costs daphne about as much whatever its text, so a busy process sends
        fewer, fuller ones; the bound keeps what a token waits here within its latency budget.
        """
        base = settings.WEBOX_FLUSH_INTERVAL_MS / 1000
        conversations = len({s.conversation_id for s in self.streams.values()})
        return min(_widest_interval(), max(base, conversations / max(settings.WEBOX_MAX_PUBLISH_RATE, 1)))

    def pace(self, stream: ReplyStream) -> Pace:
        """How ``stream``'s provider reads its body (``chat.providers.Pace``): before the first text at once
        (nothing delays a first token), after it at the next periodic flush."""
        loop = asyncio.get_running_loop()

        def until_next_tick() -> asyncio.Future | None:
            if not stream.chunks:
                return None
            # A future of its own: cancelling one waiting stream must not cancel the others' wait.
            woken = loop.create_future()
            self._paced.append(woken)
            return woken

        return until_next_tick

    def _wake_paced(self) -> bool:
        """Let the streams waiting for this tick read what their providers sent; whether any waited."""
        waiting, self._paced = self._paced, []
        for woken in waiting:
            _settle(woken, True)
        return bool(waiting)

    def open(self, *, reply_id: int, conversation_id: int, key: str) -> ReplyStream:
        stream = ReplyStream(reply_id, conversation_id, key, asyncio.current_task(), on_first_text=self._first_text)
        self.streams[reply_id] = stream
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="webox-publisher")
        return stream

    async def close(self, stream: ReplyStream) -> list[dict]:
        """Record what is left of a reply's text and stop tracking it.

        Returns the reply's last delta events, recorded but not yet published: the caller sends
        them in the same layer message as the reply's final event, once that is committed.
        Only the replies ending are flushed (those of one turn of the loop together), so replies ending
        do not add flushes of everything else.
        """
        stream.finishing = True
        recorded = asyncio.get_running_loop().create_future()
        self._closing.append((stream, recorded))
        if self._closing_flush is None or self._closing_flush.done():
            self._closing_flush = asyncio.get_running_loop().create_task(self._flush_closing())
        try:
            final = await recorded
        except Exception:
            # The final text still reaches the database and the final event; sockets repair from those.
            logger.exception("final flush of reply %s failed", stream.reply_id)
            final = []
        self.streams.pop(stream.reply_id, None)
        return final

    async def _flush_closing(self) -> None:
        """Record the last text of the replies ending, those of one loop turn in one flush.

        While a flush waits for Redis, the replies that end meanwhile gather for the next one: under
        load, closes cost one Redis round trip per batch, not per reply, and the periodic flush
        waits behind fewer of them.
        """
        await asyncio.sleep(0)
        batch: list[tuple[ReplyStream, asyncio.Future]] = []
        try:
            while self._closing:
                batch, self._closing = self._closing, []
                try:
                    deltas = await self.flush(only=[stream for stream, _ in batch], publish=False)
                except Exception as exc:
                    for _, recorded in batch:
                        if not recorded.done():
                            recorded.set_exception(exc)
                    continue
                by_reply: dict[int, list[dict]] = {}
                for delta in deltas:
                    by_reply.setdefault(delta["message_id"], []).append(delta)
                for stream, recorded in batch:
                    if not recorded.done():
                        recorded.set_result(by_reply.get(stream.reply_id, []))
        finally:
            # Cancelled (the loop is closing): the closes waiting on this flush are cancelled with it.
            waiting, self._closing = batch + self._closing, []
            for _, recorded in waiting:
                recorded.cancel()

    async def _wait_for_first_text(self, until: float) -> bool:
        """Sleep until ``until`` (loop time) or a reply's first text; True when woken by the text."""
        loop = asyncio.get_running_loop()
        self._first_text_came = woken = loop.create_future()
        timer = loop.call_at(until, _settle, woken, False)
        try:
            return await woken
        finally:
            timer.cancel()
            self._first_text_came = None

    def _first_text(self, stream: ReplyStream) -> None:
        """A reply's first text: publish it now, unless the rate cap has widened ticks as far as they go."""
        if self._first_text_came is not None:
            _settle(self._first_text_came, True)  # ticks resume at the interval
        interval = self.interval()
        if interval > settings.WEBOX_FLUSH_INTERVAL_MS / 1000 and interval >= _widest_interval():
            return
        self._first.append(stream)
        if self._first_flush is None or self._first_flush.done():
            self._first_flush = asyncio.get_running_loop().create_task(self._flush_first())

    async def _flush_first(self) -> None:
        await asyncio.sleep(0)  # first texts arriving in this same loop turn share the flush
        while self._first:
            streams, self._first = self._first, []
            try:
                await self.flush(only=streams)
            except Exception:
                # Still pending: the next tick sends it.
                logger.exception("publisher flush of first deltas failed")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while self.streams:
            # Ticks keep to the interval: the time a flush takes comes off the wait after it, not on top.
            due = max(due + self.interval(), loop.time())
            if not any(stream.chunks for stream in self.streams.values()):
                # Every reply waits for its first text, which goes out without a tick and wakes this
                # one: until then a tick has only the cancel flags to read, once per widest interval.
                # Each wake-up of a waiting process cost it about 0.15 ms of CPU (benchmarks chunks).
                due = max(due, self._watched_at + _widest_interval())
                if await self._wait_for_first_text(due):
                    due = loop.time()
                    continue
            else:
                await asyncio.sleep(due - loop.time())
            if self._wake_paced():
                await asyncio.sleep(0)  # the streams woken read, and append, before this flush takes the text
            try:
                await self.flush()
            except Exception:
                # A failed flush (Redis away) loses nothing: the text stays pending for the next one.
                logger.exception("publisher flush failed")
            self._maybe_checkpoint()

    async def flush(self, only: ReplyStream | list[ReplyStream] | None = None, publish: bool = True) -> list[dict]:
        """Record and publish the pending text of every stream (or of ``only``); returns the deltas."""
        async with self._flush_lock:
            if only is None:
                streams = list(self.streams.values())
            else:
                streams = only if isinstance(only, list) else [only]
            due = [s for s in streams if s.pending]
            entries, taken = [], []
            for stream in due:
                # Text keeps arriving while this flush awaits Redis: take only what is here now.
                taken.append(len(stream.pending))
                chunk = "".join(stream.pending)
                entries.append(FlushEntry(
                    stream.key, chunk, stream.seq + 1,
                    full_text=partial(stream.text_of_first, len(stream.chunks)),
                    total_bytes=stream.published_bytes + len(chunk.encode("utf-8")),
                ))
            watched = [s.key for s in streams if not s.cancel_requested] if self._watch_due(only, entries) else []
            if not entries and not watched:
                return []
            if watched:
                self._watched_at = time.monotonic()
            cancelled = await stream_store().record_flush(entries, watched)
            deltas: list[dict] = []
            by_conversation: dict[int, list[dict]] = {}
            may_finish: list[ReplyStream] = []
            for stream, entry, count in zip(due, entries, taken, strict=True):
                del stream.pending[:count]
                stream.seq = entry.seq
                stream.published_bytes = entry.total_bytes
                delta = events.delta(message_id=stream.reply_id, seq=entry.seq, text=entry.chunk)
                deltas.append(delta)
                by_conversation.setdefault(stream.conversation_id, []).append(delta)
                # A reply's last text goes out with its final content_html: no blocks for it.
                if publish and stream.blocks.add(entry.chunk):
                    may_finish.append(stream)
            if may_finish:
                try:
                    finished = await asyncio.to_thread(_take_blocks, may_finish)
                except Exception:
                    logger.exception("rendering finished blocks failed")
                    finished = [None] * len(may_finish)
                for stream, found in zip(may_finish, finished, strict=True):
                    if found is not None:
                        by_conversation[stream.conversation_id].append(events.blocks(
                            message_id=stream.reply_id, seq=stream.seq, start=found.start, end=found.end,
                            html=found.html, open=found.open.as_event() if found.open else None))
            if publish and by_conversation:
                await events.publish_each(by_conversation)
            by_key = {s.key: s for s in streams} if cancelled else {}
            for key in cancelled:
                _stop(by_key.get(key))
            return deltas

    def _watch_due(self, only, entries: list[FlushEntry]) -> bool:
        """Whether this flush reads the cancel flags: a tick that records text does (in the same round
        trip); a tick with nothing to record only once the widest flush interval has passed since the
        last read. A round trip just to watch cost a process about 0.5 ms of CPU per tick while its
        replies waited for their first token; a cancel still reaches a waiting reply within that interval.
        """
        if only is not None:
            return False
        # Half a tick of slack: ticks wake a little early or late, and a read due at the third tick
        # must not slip to the fourth.
        return bool(entries) or time.monotonic() - self._watched_at >= _widest_interval() - self.interval() / 2

    def _maybe_checkpoint(self) -> None:
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        now = time.monotonic()
        every = settings.WEBOX_CHECKPOINT_INTERVAL_MS / 1000
        # Streams without new text still checkpoint now and then: it is their heartbeat.
        heartbeat = max(every * 10, 1.0)
        due = [
            s for s in self.streams.values()
            if (s.seq > s.checkpointed_seq and now - s.last_checkpoint >= every)
            or now - s.last_checkpoint >= heartbeat
        ]
        if not due:
            return
        checkpoints = [(s.reply_id, s.published_text, s.seq) for s in due]
        for stream in due:
            stream.last_checkpoint = now
            stream.checkpointed_seq = stream.seq
        self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint(checkpoints))

    async def _checkpoint(self, checkpoints: list[tuple[int, str, int]]) -> None:
        try:
            gone = await in_db_thread(replies_checkpoint)(checkpoints=checkpoints)
        except Exception as exc:
            if database_busy(exc):  # a burst: expected, and tried again below
                logger.warning("checkpoint of %d replies waited in vain for the database", len(checkpoints))
            else:
                logger.exception("checkpoint of %d replies failed", len(checkpoints))
            # Not written: try these again at the next checkpoint interval, new text or not.
            for reply_id, _, _ in checkpoints:
                if reply_id in self.streams:
                    self.streams[reply_id].checkpointed_seq = -1
            return
        # Ended elsewhere or deleted (a claim that raced its conversation's deletion raised no stop
        # flag): stop asking the provider; the engine's end then charges what it spent.
        for reply_id in gone:
            _stop(self.streams.get(reply_id))


def _settle(future: asyncio.Future, result: bool) -> None:
    if not future.done():
        future.set_result(result)


def _widest_interval() -> float:
    return max(settings.WEBOX_FLUSH_INTERVAL_MS, settings.WEBOX_MAX_FLUSH_INTERVAL_MS) / 1000


def _stop(stream: ReplyStream | None) -> None:
    """Cancel the task of a stream asked to stop; the engine then ends it as ``cancelled``."""
    if stream and not stream.cancel_requested and not stream.finishing:
        stream.cancel_requested = True
        if stream.task is not None:
            stream.task.cancel()


def _take_blocks(streams: list[ReplyStream]) -> list[RenderedBlocks | None]:
    """Parse and render the newly finished blocks of these replies (in a thread: Pygments can take milliseconds)."""
    found = []
    for stream in streams:
        try:
            found.append(stream.blocks.take())
        except Exception:
            # Never worth a lost delta: this reply just shows plain text until its final render.
            logger.exception("rendering the finished blocks of reply %s failed", stream.reply_id)
            stream.blocks.stopped = True
            found.append(None)
    return found


_publishers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Publisher] = weakref.WeakKeyDictionary()


def get_publisher() -> Publisher:
    loop = asyncio.get_running_loop()
    publisher = _publishers.get(loop)
    if publisher is None:
        publisher = _publishers[loop] = Publisher()
    return publisher
