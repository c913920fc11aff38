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

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_API_KEY = "test-key"
MODEL_PREFIX = "fake-echo"
HANG_SECONDS = 30.0
_INT_OPTIONS = ("tokens", "delay_ms", "ttft_ms", "error", "fail_times", "drop_after", "hang_after", "error_after")


def expected_reply(last_user_message: str, tokens: int | None = None) -> list[str]:
    """The exact pieces the server streams for ``fake-echo`` (``tokens=`` makes it that long).

    "You said: " and then the message a word at a time, its line breaks kept, so a message
    holding Markdown blocks (headings, lists, tables, code) comes back as the same Markdown.
    """
    echoed = re.findall(r"\s*\S+", last_user_message) or ["(nothing)"]
    if not echoed[0][0].isspace():
        echoed[0] = " " + echoed[0]
    pieces = ["You", " said:", *echoed]
    count = len(pieces) if tokens is None else tokens
    # Beyond the end the reply starts over, a space before its first word.
    return [pieces[i % len(pieces)] if i < len(pieces) or i % len(pieces) else " You" for i in range(count)]


class BadModel(ValueError):
    pass


@dataclass(frozen=True)
class Behaviour:
    model: str
    tokens: int | None = None
    delay_ms: int = 0
    ttft_ms: int = 0
    error: int | None = None
    retry_after: str | None = None
    fail_times: int | None = None
    error_after: int | None = None
    drop_after: int | None = None
    hang_before: str | None = None
    hang_after: int | None = None

    @classmethod
    def parse(cls, model: str) -> Behaviour:
        base, *options = model.split(";")
        if base != MODEL_PREFIX:
            raise LookupError(model)
        values: dict[str, Any] = {}
        for option in options:
            key, _, value = option.partition("=")
            key = key.strip()
            if key == "id":
                continue
            if key in _INT_OPTIONS:
                try:
                    values[key] = int(value)
                except ValueError:
                    raise BadModel(f"{key} must be an integer") from None
            elif key in ("retry_after", "hang_before"):
                values[key] = value
            else:
                raise BadModel(f"unknown option {key!r}")
        return cls(model=model, **values)


# --- error bodies, as the real APIs send them ---------------------------------------------------

def openai_error(status: int, *, model: str = "", presented_key: str = "") -> dict:
    message, type_, param, code = {
        400: ("This model's maximum context length is 128000 tokens. However, your messages resulted in "
              "130412 tokens. Please reduce the length of the messages.",
              "invalid_request_error", "messages", "context_length_exceeded"),
        401: (f"Incorrect API key provided: {presented_key}. You can find your API key at "
              "https://platform.openai.com/account/api-keys.", "invalid_request_error", None, "invalid_api_key"),
        403: ("You are not allowed to sample from this model", "invalid_request_error", None, None),
        404: (f"The model `{model}` does not exist or you do not have access to it.",
              "invalid_request_error", None, "model_not_found"),
        429: (f"Rate limit reached for {model} in organization org-fake on requests per min (RPM): "
              "Limit 3, Used 3, Requested 1. Please try again in 20s.", "requests", None, "rate_limit_exceeded"),
        500: ("The server had an error while processing your request. Sorry about that!",
              "server_error", None, None),
        503: ("The engine is currently overloaded, please try again later", "server_error", None, None),
    }.get(status, (f"Upstream error {status}", "server_error", None, None))
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def anthropic_error(status: int, *, model: str = "") -> dict:
    type_, message = {
        400: ("invalid_request_error", "prompt is too long: 212345 tokens > 200000 maximum"),
        401: ("authentication_error", "invalid x-api-key"),
        403: ("permission_error", "Your API key does not have permission to use the specified resource."),
        404: ("not_found_error", f"model: {model}"),
        413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
        429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
        500: ("api_error", "Internal server error"),
        529: ("overloaded_error", "Overloaded"),
    }.get(status, ("api_error", f"Upstream error {status}"))
    return {"type": "error", "error": {"type": type_, "message": message}, "request_id": f"req_{uuid.uuid4().hex}"}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def sent_images(message: dict) -> list[tuple[str, bytes]]:
    """The images of one recorded message as ``(media type, bytes)``, from either wire format:
    OpenAI ``image_url`` parts (data URLs) or Anthropic ``image`` blocks (base64 source)."""
    images = []
    for part in message.get("content") if isinstance(message.get("content"), list) else []:
        if part.get("type") == "image_url":
            header, _, data = part["image_url"]["url"].partition(",")
            assert header.startswith("data:") and header.endswith(";base64"), header
            images.append((header[len("data:"):-len(";base64")], base64.b64decode(data, validate=True)))
        elif part.get("type") == "image":
            source = part["source"]
            assert source["type"] == "base64", source
            images.append((source["media_type"], base64.b64decode(source["data"], validate=True)))
    return images


def sent_text(message: dict) -> str:
    """The text of one recorded message, from a string or from its text parts."""
    return _text(message.get("content"))


class _Hangup(Exception):
    """The test asked for the connection to be cut or left hanging: stop talking."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    # --- plumbing ---------------------------------------------------------------------------------
    def _record(self, body: Any, received_at: float) -> None:
        self.record = {
            "method": self.command,
            "path": self.path,
            "headers": {key.lower(): value for key, value in self.headers.items()},
            "json": body,
            "received_at": received_at,  # time.time() when the request line was read
            "piece_times": [],  # time.time() just after each piece was written
        }
        self.server.owner.requests.append(self.record)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _start_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def _end_events(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Hangup

    def _hang(self) -> None:
        self.server.owner.stopping.wait(HANG_SECONDS)
        self._drop()

    def _presented_key(self) -> str:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ")
        return self.headers.get("x-api-key", "")

    def _authorized(self) -> bool:
        return self._presented_key() == self.server.owner.api_key

    # --- routes -----------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._record(None, time.time())
        anthropic = self.path.startswith("/anthropic/")
        path = self.path.split("?")[0].removeprefix("/anthropic")
        if path != "/v1/models":
            self._json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
        if not self._authorized():
            body = anthropic_error(401) if anthropic else openai_error(401, presented_key=self._presented_key())
            self._json(401, body)
            return
        models = self.server.owner.models
        if anthropic:
            data = [{"type": "model", "id": m, "display_name": m, "created_at": "2026-01-01T00:00:00Z"}
                    for m in models]
            self._json(200, {"data": data, "has_more": False, "first_id": models[0] if models else None,
                             "last_id": models[-1] if models else None})
        else:
            data = [{"id": m, "object": "model", "created": 1767225600, "owned_by": "fake"} for m in models]
            self._json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        received_at = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        self._record(body, received_at)
        if self.path == "/v1/chat/completions":
            fmt = "openai"
        elif self.path == "/anthropic/v1/messages":
            fmt = "anthropic"
        else:
            self._json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
        try:
            self._chat(fmt, body if isinstance(body, dict) else {})
        except (_Hangup, BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _error(self, fmt: str, status: int, model: str, retry_after: str | None = None) -> None:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        if fmt == "openai":
            body = openai_error(status, model=model, presented_key=self._presented_key())
            headers["x-request-id"] = f"req_{uuid.uuid4().hex}"
        else:
            body = anthropic_error(status, model=model)
            headers["request-id"] = body["request_id"]
        self._json(status, body, headers)

    def _chat(self, fmt: str, body: dict) -> None:
        model = str(body.get("model", ""))
        if not self._authorized():
            self._error(fmt, 401, model)
            return
        try:
            behaviour = Behaviour.parse(model)
        except LookupError:
            self._error(fmt, 404, model)
            return
        except BadModel as exc:
            error = openai_error(400) if fmt == "openai" else anthropic_error(400)
            error["error"]["message"] = f"fake provider: {exc}"
            self._json(400, error)
            return
        if behaviour.hang_before == "headers":
            self._hang()
        owner = self.server.owner
        with owner.lock:
            count = owner.fail_counts[(fmt, model)] = owner.fail_counts.get((fmt, model), 0) + 1
        if behaviour.error and behaviour.error_after is None:
            if behaviour.fail_times is None or count <= behaviour.fail_times:
                self._error(fmt, behaviour.error, model, behaviour.retry_after)
                return

        messages = body.get("messages") or []
        last_user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        pieces = expected_reply(last_user, behaviour.tokens)
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        truncated = isinstance(limit, int) and len(pieces) > limit
        if truncated:
            pieces = pieces[:limit]
        words = sum(len(_text(m.get("content")).split()) for m in messages) + len(_text(body.get("system")).split())
        stream = OpenAIStream(self, model, body) if fmt == "openai" else AnthropicStream(self, model, words)
        if not body.get("stream"):
            self._json(400, {"error": {"message": "fake provider: only streaming is served"}})
            return

        self._start_events()
        stream.begin()
        if behaviour.hang_before:
            self._hang()
        time.sleep(behaviour.ttft_ms / 1000)
        for index, piece in enumerate(pieces):
            self._interrupt(behaviour, index, stream)
            if index and behaviour.delay_ms:
                time.sleep(behaviour.delay_ms / 1000)
            stream.delta(piece)
            self.record["piece_times"].append(time.time())
        self._interrupt(behaviour, len(pieces), stream)
        stream.finish(truncated=truncated, prompt_tokens=words, completion_tokens=len(pieces))
        self._end_events()

    def _interrupt(self, behaviour: Behaviour, index: int, stream: OpenAIStream | AnthropicStream) -> None:
        if behaviour.drop_after == index:
            self._drop()
        if behaviour.hang_after == index:
            self._hang()
        if behaviour.error_after == index:
            stream.error(behaviour.error or 500)
            self._end_events()
            raise _Hangup


class OpenAIStream:
    def __init__(self, handler: _Handler, model: str, body: dict):
        self.handler = handler
        self.model = model
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def _send(self, data: Any) -> None:
        self.handler._chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _chunk(self, delta: dict, finish_reason: str | None = None, **extra: Any) -> dict:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "system_fingerprint": "fp_fake", "choices": [choice], **extra}

    def begin(self) -> None:
        self._send(self._chunk({"role": "assistant", "content": "", "refusal": None}))

    def delta(self, text: str) -> None:
        self._send(self._chunk({"content": text}))

    def error(self, status: int) -> None:
        self._send(openai_error(status, model=self.model))

    def finish(self, *, truncated: bool, prompt_tokens: int, completion_tokens: int) -> None:
        self._send(self._chunk({}, "length" if truncated else "stop"))
        if self.include_usage:
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                     "total_tokens": prompt_tokens + completion_tokens}
            self._send({**self._chunk({}), "choices": [], "usage": usage})
        self.handler._chunk(b"data: [DONE]\n\n")


class AnthropicStream:
    def __init__(self, handler: _Handler, model: str, prompt_tokens: int):
        self.handler = handler
        self.model = model
        self.prompt_tokens = prompt_tokens

    def _send(self, event: str, data: dict) -> None:
        self.handler._chunk(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

    def begin(self) -> None:
        message = {
            "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "content": [],
            "model": self.model, "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": self.prompt_tokens, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 1},
        }
        self._send("message_start", {"type": "message_start", "message": message})
        self._send("content_block_start",
                   {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        self._send("ping", {"type": "ping"})

    def delta(self, text: str) -> None:
        self._send("content_block_delta",
                   {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}})

    def error(self, status: int) -> None:
        body = anthropic_error(status if status != 500 else 529, model=self.model)
        body.pop("request_id")
        self._send("error", body)

    def finish(self, *, truncated: bool, prompt_tokens: int, completion_tokens: int) -> None:
        self._send("content_block_stop", {"type": "content_block_stop", "index": 0})
        self._send("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens" if truncated else "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": completion_tokens},
        })
        self._send("message_stop", {"type": "message_stop"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The listen backlog: the default of 5 makes a burst of hundreds of streams wait for SYN retries.
    request_queue_size = 1024
    owner: FakeProviderServer


class FakeProviderServer:
    """The fake provider on ``127.0.0.1`` and a random port, served from a background thread."""

    def __init__(self, *, api_key: str = DEFAULT_API_KEY, models: tuple[str, ...] = (MODEL_PREFIX,)):
        self.api_key = api_key
        self.models = list(models)
        self.requests: list[dict[str, Any]] = []
        self.fail_counts: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeProviderServer:
        self.stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        self.requests.clear()
        with self.lock:
            self.fail_counts.clear()

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """Base URL for the OpenAI SDK."""
        return f"{self.origin}/v1"

    @property
    def anthropic_url(self) -> str:
        """Base URL for the Anthropic SDK."""
        return f"{self.origin}/anthropic"

    def chat_requests(self) -> list[dict[str, Any]]:
        """The received chat calls (not the model listings)."""
        return [r for r in self.requests if r["method"] == "POST"]

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
