"""The fake provider's HTTP server: its routes, the behaviour a model name asks for, and its handle for tests."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .behaviour import DEFAULT_API_KEY, MODEL_PREFIX, BadModel, Behaviour, expected_reply
from .wire import AnthropicStream, OpenAIStream, anthropic_error, message_text, openai_error

HANG_SECONDS = 30.0


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
        last_user = next((message_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
        pieces = expected_reply(last_user, behaviour.tokens)
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        truncated = isinstance(limit, int) and len(pieces) > limit
        if truncated:
            pieces = pieces[:limit]
        words = (sum(len(message_text(m.get("content")).split()) for m in messages)
                 + len(message_text(body.get("system")).split()))
        stream = (OpenAIStream(self._chunk, model, body) if fmt == "openai"
                  else AnthropicStream(self._chunk, model, words))
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
