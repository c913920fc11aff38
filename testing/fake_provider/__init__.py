"""A fake AI provider on loopback speaking the OpenAI Chat Completions and Anthropic Messages wire formats.

The official SDKs run against it end to end: server-sent events, usage chunks, the providers' real
error bodies and status codes, ``retry-after`` headers and the ``/v1/models`` listings.

What a request gets is chosen by the request itself, through the model name, so a test in another
process (a Celery worker, a daphne subprocess) can drive it by URL alone::

    fake-echo                         reply computed from the last user message (see expected_reply)
    fake-echo;tokens=20               ... exactly 20 pieces long
    fake-echo;delay_ms=30;ttft_ms=200 30 ms between pieces, 200 ms before the first one
    fake-echo;error=429;retry_after=1 that HTTP error with the provider's body (and a retry-after header)
    fake-echo;error=503;fail_times=2  the error for the first 2 requests with this model name, then success
    fake-echo;error=500;error_after=3 3 pieces, then an error event in the stream
    fake-echo;drop_after=3            3 pieces, then the connection is cut (no end of stream)
    fake-echo;hang_before=1           headers, then nothing (``hang_before=headers``: not even headers)
    fake-echo;hang_after=2            2 pieces, then nothing
    fake-echo;id=abc                  no effect: makes a model name (and its fail_times count) unique

Any other model name gets the provider's 404 "model not found"; an unknown option gets a 400.
``max_tokens`` (or ``max_completion_tokens``) in the request is honoured: the reply is cut there
and ends with finish reason ``length`` / stop reason ``max_tokens``. A key other than the
server's (``Authorization: Bearer`` or ``x-api-key``) gets the provider's real 401.

Both formats produce the same text for the same model name. The OpenAI SDK's base URL is ``.url``
(``http://127.0.0.1:PORT/v1``), the Anthropic SDK's is ``.anthropic_url``.
"""

from .behaviour import DEFAULT_API_KEY, MODEL_PREFIX, BadModel, Behaviour, expected_reply
from .server import FakeProviderServer
from .wire import anthropic_error, message_text, openai_error, sent_images, sent_text

# The name benchmarks.e2e_procs imports (the text of a message's content, string or parts).
_text = message_text

__all__ = [
    "DEFAULT_API_KEY", "MODEL_PREFIX", "BadModel", "Behaviour", "FakeProviderServer", "anthropic_error",
    "expected_reply", "message_text", "openai_error", "sent_images", "sent_text",
]
