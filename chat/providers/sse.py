"""Server-sent events read straight off an SDK's raw streaming response.

The SDKs' own streams build a pydantic model for every chunk (``openai._models.construct_type``:
about 0.2 ms of CPU a chunk, most of what a streaming process spends per token). The adapters
keep the SDKs for the request, the key, the base URL, the timeouts and the errors, but read the
body of ``with_streaming_response`` here: httpx2's ``EventSource`` (the SDKs' own HTTP library,
its parser derived from httpx-sse) splits it into events and orjson decodes each event's data,
a few µs a chunk (docs/performance.md).

A paced read (``pace``) takes, at each wait, everything the connection has received since the last
one, instead of waking for each piece the provider writes: a stream's chunks often come tens of ms
apart, and a wake-up per chunk cost the loop more than the chunk's parse (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx2
import orjson

if TYPE_CHECKING:
    from .base import Pace


class NotAnEventStream(Exception):
    """The provider answered 2xx with a body that is not ``text/event-stream``."""


def events(response: httpx2.Response, pace: Pace | None = None) -> AsyncIterator[httpx2.ServerSentEvent]:
    """The events of ``response`` as they arrive; transport errors (a drop, a read timeout) pass through.

    Raises ``NotAnEventStream`` at once. Returns httpx2's own iterator rather than re-yielding its
    events: every layer of async generator is one more frame resumed per chunk. With ``pace``, the
    body is read in batches (``PacedBody``) where the SDK's transport allows it.
    """
    content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "text/event-stream":
        answered = content_type or "without a content type"
        raise NotAnEventStream(f"The provider answered {answered}, not an event stream.")
    body = None if pace is None else PacedBody.of(response, pace)
    if body is not None:
        # The same headers (a Content-Encoding is still decoded by httpx2) over the paced body.
        response = httpx2.Response(response.status_code, headers=response.headers, stream=body,
                                   request=response.request)
    return aiter(httpx2.EventSource(response))


def json_data(event: httpx2.ServerSentEvent) -> Any:
    """The event's data decoded as JSON (``orjson.JSONDecodeError``, a ``ValueError``, if it is not)."""
    return orjson.loads(event.data)


class PacedBody(httpx2.AsyncByteStream):
    """The body of an SDK's aiohttp response, read in batches: what has arrived, then ``pace``, then
    what arrived meanwhile; the network is waited on only when nothing came during the pace. A pace
    that is a future ends early when the body does.

    The SDKs' aiohttp transport (``DefaultAioHttpClient``) yields each piece the server writes, one
    wake-up of the stream's task each, through several layers of async generators. Here the task wakes
    once per pace however many pieces came, and the pieces are one ``bytes``. aiohttp's errors are
    raised as the transport raises them (its ``map_aiohttp_exceptions``: httpx2's exceptions).
    """

    def __init__(self, content, pace: Pace, mapped_errors: Callable) -> None:
        self._content, self._pace, self._mapped_errors = content, pace, mapped_errors
        self._waiting: asyncio.Future | None = None
        # The body's end does not wait for the pace: a reply ends when its provider ends it. One callback
        # for the body (aiohttp keeps each until the end), settling whichever wait is in progress.
        content.on_eof(self._ended)

    def _ended(self) -> None:
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_result(None)

    @classmethod
    def of(cls, response: httpx2.Response, pace: Pace) -> PacedBody | None:
        """The paced body of ``response``, or None when it does not come from the SDKs' aiohttp transport
        (another ``http_client``, or an SDK release whose transport keeps it elsewhere)."""
        # httpx2's BoundAsyncStream around the SDK's AiohttpResponseStream (its vendored httpx_aiohttp).
        transport_stream = getattr(response.stream, "_stream", None)
        aiohttp_response = getattr(transport_stream, "_aiohttp_response", None)
        mapped_errors = getattr(sys.modules.get(type(transport_stream).__module__), "map_aiohttp_exceptions", None)
        if aiohttp_response is None or mapped_errors is None or not hasattr(aiohttp_response.content, "_read_nowait"):
            return None
        return cls(aiohttp_response.content, pace, mapped_errors)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content, pace = self._content, self._pace
        with self._mapped_errors():
            while True:
                try:
                    data = content.read_nowait()
                    if not data:
                        if content.at_eof():
                            return
                        waiting = pace()
                        if waiting is not None:
                            self._waiting = waiting if isinstance(waiting, asyncio.Future) else None
                            try:
                                await waiting
                            finally:
                                self._waiting = None
                            data = content.read_nowait()
                        if not data:
                            data = await content.readany()
                            if not data:
                                return
                except Exception:
                    # The connection failed during a wait: aiohttp's reads raise at once, but what came before
                    # the failure is text the provider sent, which a read per piece would have had.
                    rest = content._read_nowait(-1)
                    if rest:
                        yield rest
                    raise
                yield data
