"""The text of every reply that is streaming, readable by any server process.

Deltas reach sockets through the channel layer, which can lose a message (a full channel, a
pub/sub reconnect). Every flush therefore first records the reply's whole text so far and its
last seq here; a socket that sees a seq gap, or connects mid-stream, reads the truth from here.
Cancel requests travel the same way, so they reach a reply on any worker. So does a reply's latest
retry before its first text, for a socket that joins while its provider is being asked again.

Two stores with one interface: Redis (production shape) and process memory (embedded default).

Every entry is named by the reply's *stream key* (``Message.stream_key``): its row id and the random ``stream_id`` the
row gets each time a worker claims it (``services.reply_start``). Row ids repeat — a database
restored from a backup, or two installations on one Redis prefix, hand out the same ids again —
so state named by the id alone could show one reply another's text, drop its deltas as old, or
stop it with an old cancel flag. Whoever reads takes the key from the row, so only the state of
that very claim is ever found.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

KEY_TTL_SECONDS = 3600
CANCEL_TTL_SECONDS = 600


# A flush's writes and reads (RedisStreamStore.record_flush). KEYS: each entry's text and seq keys, then
# the cancel keys watched; ARGV: the TTL, then each entry's chunk, seq and 1 when its text key is due
# its expiry. Returns each APPEND's new length, then the cancel flags (false when not set).
_RECORD = """
local ttl = ARGV[1]
local entries = (#ARGV - 1) / 3
local result = {}
for i = 1, entries do
    local text_key, chunk = KEYS[2 * i - 1], ARGV[3 * i - 1]
    result[i] = redis.call('APPEND', text_key, chunk)
    if ARGV[3 * i + 1] == '1' then
        redis.call('EXPIRE', text_key, ttl)
    end
    redis.call('SET', KEYS[2 * i], ARGV[3 * i], 'EX', ttl)
end
local flags = {}
for j = 2 * entries + 1, #KEYS do
    flags[#flags + 1] = redis.call('GET', KEYS[j]) or false
end
result[entries + 1] = flags
return result
"""


class StreamStoreUnavailable(Exception):
    """The store cannot be reached (Redis is down): cancel requests cannot be delivered."""


@dataclass(frozen=True)
class StreamState:
    text: str
    seq: int


@dataclass
class FlushEntry:
    """One reply's share of a flush (by its stream key): the new chunk, its seq, and the whole text up to it.

    ``full_text`` may be a callable, so that the whole text is only built when a store needs it
    (a repair), not on every flush; ``total_bytes`` is its UTF-8 length when already known.
    """

    key: str
    chunk: str
    seq: int
    full_text: str | Callable[[], str]
    total_bytes: int | None = None

    def text(self) -> str:
        return self.full_text() if callable(self.full_text) else self.full_text

    def size(self) -> int:
        return self.total_bytes if self.total_bytes is not None else len(self.text().encode("utf-8"))


class MemoryStreamStore:
    """Process-local store for the embedded default (one server process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, tuple[str, int, float]] = {}
        self._cancels: dict[str, float] = {}
        self._retries: dict[str, tuple[dict, float]] = {}

    def _expire(self, now: float) -> None:
        for key in [k for k, (_, _, expires) in self._states.items() if expires < now]:
            del self._states[key]
        for key in [k for k, (_, expires) in self._retries.items() if expires < now]:
            del self._retries[key]
        for key in [k for k, expires in self._cancels.items() if expires < now]:
            del self._cancels[key]

    async def record_flush(self, entries: list[FlushEntry], watched: list[str]) -> set[str]:
        now = time.monotonic()
        with self._lock:
            for entry in entries:
                known = self._states.get(entry.key)
                # Appending keeps a flush's cost to its chunk; the whole text is built only once.
                text = known[0] + entry.chunk if known and known[1] == entry.seq - 1 else entry.text()
                self._states[entry.key] = (text, entry.seq, now + KEY_TTL_SECONDS)
            self._expire(now)
            return {key for key in watched if key in self._cancels}

    async def read(self, keys: list[str]) -> dict[str, StreamState]:
        return self.read_sync(keys)

    def read_sync(self, keys: list[str]) -> dict[str, StreamState]:
        with self._lock:
            return {
                key: StreamState(self._states[key][0], self._states[key][1])
                for key in keys
                if key in self._states
            }

    async def record_retry(self, key: str, retry: dict) -> None:
        with self._lock:
            self._retries[key] = (retry, time.monotonic() + KEY_TTL_SECONDS)

    def retries_sync(self, keys: list[str]) -> dict[str, dict]:
        with self._lock:
            return {key: self._retries[key][0] for key in keys if key in self._retries}

    def request_cancel(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._cancels[key] = now + CANCEL_TTL_SECONDS

    def cancel_requested(self, keys: list[str]) -> set[str]:
        with self._lock:
            return {key for key in keys if key in self._cancels}

    async def forget(self, key: str) -> None:
        # The text stays readable for a short while: a socket may still be repairing from it.
        with self._lock:
            self._cancels.pop(key, None)
            self._retries.pop(key, None)
            if key in self._states:
                text, seq, _ = self._states[key]
                self._states[key] = (text, seq, time.monotonic() + 60)


class RedisStreamStore:
    """Redis keys per stream key: ``text`` (APPENDed), ``seq``, ``cancel``, ``retry`` (JSON); all expire."""

    def __init__(self, url: str, prefix: str = "webox:reply") -> None:
        import redis
        import redis.asyncio as aioredis

        self.url = url
        self.prefix = prefix
        # redis-py 8 raises instead of waiting when a pool is exhausted: size the pools explicitly.
        # A pooled connection that Redis closed (a restart) fails its next command once: it is reopened and
        # the command sent again, or a reply's final flush, a snapshot or a cancel fails for nothing. A
        # flush sent twice appends its chunk twice, which the length check below repairs.
        self._options = {"max_connections": 200, "decode_responses": True,
                         "retry_on_error": [redis.exceptions.ConnectionError]}
        self._sync = redis.Redis.from_url(url, **self._options)
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._record_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._aioredis = aioredis
        # When each text key of this process's replies is next given its expiry (monotonic seconds).
        self._text_ttl_due: dict[str, float] = {}

    def _async(self):
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._aioredis.Redis.from_url(self.url, **self._options)
            self._async_clients[loop] = client
        return client

    def _text_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:text"

    def _seq_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:seq"

    def _cancel_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:cancel"

    def _retry_key(self, key: str) -> str:
        return f"{self.prefix}:{key}:retry"

    async def record_flush(self, entries: list[FlushEntry], watched: list[str]) -> set[str]:
        """One round trip: append every chunk, set every seq, read every cancel flag.

        One script (``_RECORD``, atomic as a MULTI was) rather than a pipeline in MULTI/EXEC: one reply
        to read instead of one per command and two more, about half a flush's CPU with many replies.
        A text key is given its expiry at its first append and then every half of it, not at every
        flush: that was a third of the commands a flush sends.
        """
        client = self._async()
        if not entries:
            # Only watching: one plain command.
            flags = await client.mget([self._cancel_key(key) for key in watched]) if watched else []
            return {key for key, flag in zip(watched, flags, strict=True) if flag}
        now = time.monotonic()
        keys, args = [], [KEY_TTL_SECONDS]
        for entry in entries:
            keys += (self._text_key(entry.key), self._seq_key(entry.key))
            expire = now >= self._text_ttl_due.get(entry.key, 0.0)
            if expire:
                self._text_ttl_due[entry.key] = now + KEY_TTL_SECONDS / 2
            args += (entry.chunk, entry.seq, 1 if expire else 0)
        keys += [self._cancel_key(key) for key in watched]
        if len(self._text_ttl_due) > 10_000:  # replies whose end never got here: past due, they can go
            self._text_ttl_due = {key: due for key, due in self._text_ttl_due.items() if due > now}
        try:
            *lengths, flags = await self._record_script(client)(keys=keys, args=args)
        except BaseException:
            # Nothing may have been written: the next flush gives these keys their expiry.
            for entry in entries:
                self._text_ttl_due.pop(entry.key, None)
            raise
        # APPEND returns the new length: a mismatch means the key was lost (Redis restarted or
        # evicted it), so write the whole text again rather than keep a text with a hole.
        repairs = [entry for length, entry in zip(lengths, entries, strict=True) if length != entry.size()]
        if repairs:
            pipe = client.pipeline(transaction=True)
            for entry in repairs:
                pipe.set(self._text_key(entry.key), entry.text(), ex=KEY_TTL_SECONDS)
                pipe.set(self._seq_key(entry.key), entry.seq, ex=KEY_TTL_SECONDS)
            await pipe.execute()
        return {key for key, flag in zip(watched, flags, strict=True) if flag}

    def _record_script(self, client):
        """``_RECORD`` registered with ``client`` (once per client: redis-py loads it again after a restart)."""
        script = self._record_scripts.get(client)
        if script is None:
            script = self._record_scripts[client] = client.register_script(_RECORD)
        return script

    async def read(self, keys: list[str]) -> dict[str, StreamState]:
        if not keys:
            return {}
        client = self._async()
        pipe = client.pipeline(transaction=True)
        for key in keys:
            pipe.get(self._text_key(key))
            pipe.get(self._seq_key(key))
        values = await pipe.execute()
        return self._states(keys, values)

    def read_sync(self, keys: list[str]) -> dict[str, StreamState]:
        if not keys:
            return {}
        pipe = self._sync.pipeline(transaction=True)
        for key in keys:
            pipe.get(self._text_key(key))
            pipe.get(self._seq_key(key))
        return self._states(keys, pipe.execute())

    @staticmethod
    def _states(keys: list[str], values: list) -> dict[str, StreamState]:
        states = {}
        for i, key in enumerate(keys):
            text, seq = values[2 * i], values[2 * i + 1]
            if text is not None and seq is not None:
                states[key] = StreamState(text, int(seq))
        return states

    async def record_retry(self, key: str, retry: dict) -> None:
        await self._async().set(self._retry_key(key), json.dumps(retry), ex=KEY_TTL_SECONDS)

    def retries_sync(self, keys: list[str]) -> dict[str, dict]:
        if not keys:
            return {}
        values = self._sync.mget([self._retry_key(key) for key in keys])
        return {key: json.loads(value) for key, value in zip(keys, values, strict=True) if value}

    def request_cancel(self, keys: list[str]) -> None:
        import redis

        if not keys:
            return
        pipe = self._sync.pipeline(transaction=False)
        for key in keys:
            pipe.set(self._cancel_key(key), "1", ex=CANCEL_TTL_SECONDS)
        try:
            pipe.execute()
        except redis.RedisError as exc:
            raise StreamStoreUnavailable(str(exc)) from exc

    def cancel_requested(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        flags = self._sync.mget([self._cancel_key(key) for key in keys])
        return {key for key, flag in zip(keys, flags, strict=True) if flag}

    async def forget(self, key: str) -> None:
        # The text stays readable for a short while: a socket may still be repairing from it.
        self._text_ttl_due.pop(key, None)
        pipe = self._async().pipeline(transaction=False)
        pipe.delete(self._cancel_key(key), self._retry_key(key))
        pipe.expire(self._text_key(key), 60)
        await pipe.execute()


@lru_cache(maxsize=1)
def stream_store() -> MemoryStreamStore | RedisStreamStore:
    if settings.REDIS_URL:
        return RedisStreamStore(settings.REDIS_URL, prefix=f"{settings.WEBOX_REDIS_PREFIX}:reply")
    return MemoryStreamStore()
