"""Timeouts and retries shared by every network provider, so the policy is ours and visible.

The SDKs' own retries are off (``max_retries=0``). Here, before the first text arrives, a
retryable error (429, 5xx, connection failure, timeout) is retried with exponential backoff that
honours ``Retry-After``, within ``WEBOX_PROVIDER_RETRY_BUDGET`` seconds in total and at most
``WEBOX_PROVIDER_MAX_RETRIES`` times. After the first text nothing is retried: the error reaches
the caller, who already showed part of the reply. Each retry is announced to the caller by a
``Retrying`` item in the stream, yielded just before the wait, so a page can say so.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
import email.utils
import logging
import random
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from . import sdks
from .base import (
    ChatProvider,
    ChatRequest,
    ErrorCode,
    Pace,
    ProviderConfig,
    ProviderError,
    Retrying,
    StreamItem,
    StreamResult,
    TextDelta,
)

logger = logging.getLogger("chat.providers")

# Sent as the key to endpoints configured without one (Ollama, vLLM, LM Studio): the SDKs need a
# value, and an explicit one keeps them from falling back to OPENAI_API_KEY/ANTHROPIC_API_KEY.
KEYLESS_PLACEHOLDER = "no-key"

# Things shaped like API keys, removed from upstream messages (some echo the key they rejected).
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk|gsk|xai)[-_][A-Za-z0-9_*\-.]{6,}", re.IGNORECASE)

# SDK clients kept per event loop (their HTTP pools are bound to it), by adapter, URL, key and
# timeouts; the least recently used beyond this many are closed.
MAX_CLIENTS_PER_LOOP = 64
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict[tuple, Any]] = weakref.WeakKeyDictionary()
_closing: set[asyncio.Task] = set()


@dataclass(frozen=True)
class StreamPolicy:
    connect_timeout: float
    first_token_timeout: float
    idle_timeout: float
    retry_budget: float
    max_retries: int
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    @classmethod
    def from_settings(cls) -> StreamPolicy:
        return cls(
            connect_timeout=settings.WEBOX_PROVIDER_CONNECT_TIMEOUT,
            first_token_timeout=settings.WEBOX_PROVIDER_FIRST_TOKEN_TIMEOUT,
            idle_timeout=settings.WEBOX_PROVIDER_IDLE_TIMEOUT,
            retry_budget=settings.WEBOX_PROVIDER_RETRY_BUDGET,
            max_retries=settings.WEBOX_PROVIDER_MAX_RETRIES,
            backoff_base=settings.WEBOX_PROVIDER_BACKOFF_BASE,
        )

    def without_retries(self) -> StreamPolicy:
        return dataclasses.replace(self, max_retries=0)

    def http_timeout(self, *, streaming: bool = False) -> dict[str, float | None]:
        """Keyword arguments for the SDKs' HTTP timeout.

        Reads get a backstop a little longer than our own first-token and idle timeouts, which
        fire first and say which one it was. A stream's reads (``streaming``) get none: each of
        them is already under one of those timers (``PolicyProvider.stream``), and aiohttp re-armed
        its read timer at every piece of the body, a timer handle made and cancelled per chunk.
        """
        read = max(self.first_token_timeout, self.idle_timeout) + 5.0
        return {"connect": self.connect_timeout, "read": None if streaming else read, "write": read,
                "pool": self.connect_timeout}

    def retry_delay(self, error: ProviderError, *, retries: int, elapsed: float) -> float | None:
        """Seconds to wait before trying again, or ``None`` when the error must reach the caller."""
        if not error.retryable or retries >= self.max_retries:
            return None
        if error.retry_after is not None:
            delay = max(0.0, error.retry_after)
        else:
            delay = min(self.backoff_max, self.backoff_base * 2**retries) * random.uniform(0.75, 1.0)
        if elapsed + delay > self.retry_budget:
            return None
        return delay


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def timed_out(exc: BaseException) -> bool:
    """Whether an SDK's timeout error comes from a timer that fired.

    The SDKs' aiohttp transport reports every ``aiohttp.ClientConnectionError`` (a refused
    connection, a server that hung up) as ``ConnectTimeout``; only a real timeout has a
    ``TimeoutError`` among its causes.
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, TimeoutError):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any of ``secrets`` and without anything that looks like an API key."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_LIKE.sub("[redacted]", text)[:500]


class _IdleTimeout:
    """``asyncio.timeout(seconds)`` around each ``next()`` of a stream, with one timer for the whole stream.

    A timeout per item cost a timer handle made and cancelled per chunk, about 40 % of an adapter's
    CPU per chunk (``python -m benchmarks parse``); here a ``next()`` only notes when it began, and
    the timer, when it fires, either cancels a wait that has lasted ``seconds`` (a ``TimeoutError``
    from ``next()``) or re-arms itself for the wait in progress or the next one.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._waiting = self._expired = False
        self._began = self._loop.time()
        self._handle: asyncio.TimerHandle | None = self._loop.call_at(self._began + seconds, self._check)

    def _check(self) -> None:
        due = self._began + self.seconds
        if self._waiting and self._loop.time() >= due:
            self._handle = None
            self._expired = True
            self._task.cancel()
        else:  # a wait that began later, or none in progress (the caller is busy with the last item)
            self._handle = self._loop.call_at(due if self._waiting else self._loop.time() + self.seconds,
                                              self._check)

    async def next(self, iterator: AsyncIterator):
        # The loop given: without it current_task() asks get_running_loop(), a getpid() call on 3.11.
        self._task = asyncio.current_task(self._loop)
        cancelling = self._task.cancelling()
        self._began = self._loop.time()
        self._waiting = True
        try:
            return await anext(iterator)
        except asyncio.CancelledError:
            if self._expired:
                self._expired = False
                if self._task.uncancel() <= cancelling:
                    raise TimeoutError from None
            raise
        finally:
            self._waiting = False

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def close_clients() -> None:
    """Close the SDK clients kept on the running loop (before that loop ends)."""
    for client in (_clients.pop(asyncio.get_running_loop(), None) or {}).values():
        await client.close()


class PolicyProvider(ChatProvider):
    """A network provider: subclasses make one attempt; this class times it out and retries it."""

    sdk_name: str | None = None  # the SDK module the subclass calls (chat/providers/sdks.py)

    def __init__(self, config: ProviderConfig, *, policy: StreamPolicy | None = None):
        super().__init__(config)
        self._policy = policy

    @property
    def policy(self) -> StreamPolicy:
        """The policy given to the constructor, else the one in settings now."""
        return self._policy or StreamPolicy.from_settings()

    @abc.abstractmethod
    def _attempt(self, request: ChatRequest, pace: Pace | None = None) -> AsyncIterator[TextDelta | StreamResult]:
        """One call: ``TextDelta`` items then one ``StreamResult`` (timings left to this class); its body
        read at ``pace`` (``sse.events``).

        Raises ``ProviderError`` for every failure, including a stream that ends early.
        """

    def _client(self, *, streaming: bool = False) -> Any:
        """A new SDK client for this provider's URL, key and timeouts (its own HTTP pool); ``streaming``:
        for ``_attempt`` (``StreamPolicy.http_timeout``)."""
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def _stream_client(self):
        """This provider's SDK client on this event loop, made once and kept open.

        Building a client per stream cost a TLS context and a new connection each time (most of
        webox's time-to-first-token overhead); a kept client reuses its keep-alive connections.
        """
        loop = asyncio.get_running_loop()
        clients = _clients.setdefault(loop, OrderedDict())
        key = (type(self).__name__, self.config.base_url, self.config.api_key,
               tuple(sorted(self.policy.http_timeout(streaming=True).items())))
        client = clients.get(key)
        if client is None or client.is_closed():
            client = clients[key] = self._client(streaming=True)
            while len(clients) > MAX_CLIENTS_PER_LOOP:
                _, old = clients.popitem(last=False)
                task = loop.create_task(old.close())
                _closing.add(task)
                task.add_done_callback(_closing.discard)
        clients.move_to_end(key)
        yield client

    def _error(self, code: ErrorCode, detail: str, *, retry_after: float | None = None) -> ProviderError:
        return ProviderError(code, redact(detail, [self.config.api_key]), retry_after=retry_after)

    async def load_sdk(self) -> None:
        """Import this provider's SDK if it is not yet, before any call.

        Before the timers, so the import is not the provider's delay; on a thread, so the loop's
        other streams go on meanwhile (and never with the lazy module half loaded on the loop).
        """
        if self.sdk_name and not sdks.loaded(self.sdk_name):
            await asyncio.to_thread(sdks.load, self.sdk_name)

    async def stream(self, request: ChatRequest, *, pace: Pace | None = None) -> AsyncIterator[StreamItem]:
        await self.load_sdk()
        policy = self.policy
        started = time.monotonic()
        retries = 0
        while True:
            attempt = self._attempt(request, pace)
            try:
                async with asyncio.timeout(policy.first_token_timeout):
                    first = await anext(attempt)
                break
            except (ProviderError, TimeoutError, StopAsyncIteration) as exc:
                await attempt.aclose()
                error = self._as_error(exc, first_token=True)
                delay = policy.retry_delay(error, retries=retries, elapsed=time.monotonic() - started)
                if delay is None:
                    raise error from None
                retries += 1
                logger.warning(
                    "provider %s: %s before the first token, retry %d in %.2fs: %s",
                    self.config.name, error.code, retries, delay, error.detail,
                )
                yield Retrying(retry=retries, max_retries=policy.max_retries, code=error.code, delay=delay)
                await asyncio.sleep(delay)
            except BaseException:
                await attempt.aclose()
                raise

        ttft_ms = int((time.monotonic() - started) * 1000) if isinstance(first, TextDelta) else None
        item = first
        idle = _IdleTimeout(policy.idle_timeout)
        try:
            while not isinstance(item, StreamResult):
                yield item
                try:
                    item = await idle.next(attempt)
                except (TimeoutError, StopAsyncIteration) as exc:
                    raise self._as_error(exc, first_token=False) from None
        finally:
            idle.close()
            await attempt.aclose()
        yield dataclasses.replace(item, ttft_ms=ttft_ms, duration_ms=int((time.monotonic() - started) * 1000))

    def _as_error(self, exc: BaseException, *, first_token: bool) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, TimeoutError):
            if first_token:
                seconds = self.policy.first_token_timeout
                return self._error(ErrorCode.TIMEOUT, f"No reply within {seconds:g}s (first-token timeout).")
            seconds = self.policy.idle_timeout
            return self._error(ErrorCode.TIMEOUT, f"The reply stalled for {seconds:g}s (idle timeout).")
        return self._error(ErrorCode.CONNECTION_LOST, "The stream ended before the reply was complete.")

    async def _bounded(self, awaitable):
        """``awaitable`` within the first-token timeout (for non-streaming calls such as listings)."""
        try:
            async with asyncio.timeout(self.policy.first_token_timeout):
                return await awaitable
        except TimeoutError:
            raise self._error(ErrorCode.TIMEOUT, "The provider did not answer in time.") from None
