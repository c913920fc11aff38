"""Server-sent events read straight off an SDK's raw streaming response.

The SDKs' own streams build a pydantic model for every chunk (``openai._models.construct_type``:
about 0.2 ms of CPU a chunk, most of what a streaming process spends per token). The adapters
keep the SDKs for the request, the key, the base URL, the timeouts and the errors, but read the
body of ``with_streaming_response`` here: httpx2's ``EventSource`` (the SDKs' own HTTP library,
its parser derived from httpx-sse) splits it into events and orjson decodes each event's data,
a few µs a chunk (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import orjson


class NotAnEventStream(Exception):
    """The provider answered 2xx with a body that is not ``text/event-stream``."""


def events(response: httpx2.Response) -> AsyncIterator[httpx2.ServerSentEvent]:
    """The events of ``response`` as they arrive; transport errors (a drop, a read timeout) pass through.

    Raises ``NotAnEventStream`` at once. Returns httpx2's own iterator rather than re-yielding its
    events: every layer of async generator is one more frame resumed per chunk.
    """
    content_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "text/event-stream":
        answered = content_type or "without a content type"
        raise NotAnEventStream(f"The provider answered {answered}, not an event stream.")
    return aiter(httpx2.EventSource(response))


def json_data(event: httpx2.ServerSentEvent) -> Any:
    """The event's data decoded as JSON (``orjson.JSONDecodeError``, a ``ValueError``, if it is not)."""
    return orjson.loads(event.data)
