"""The OpenAI and Anthropic wire formats as the fake provider speaks them: error bodies, streamed events,
and the text and images of a message it was sent."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

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


def message_text(content: Any) -> str:
    """A message's content as text: the string itself, or its text parts joined by spaces."""
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
    return message_text(message.get("content"))



# --- streamed events: ``write`` sends one chunk of the response body ----------------------------------

class OpenAIStream:
    def __init__(self, write: Callable[[bytes], None], model: str, body: dict):
        self.write = write
        self.model = model
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def _send(self, data: Any) -> None:
        self.write(b"data: " + json.dumps(data).encode() + b"\n\n")

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
        self.write(b"data: [DONE]\n\n")


class AnthropicStream:
    def __init__(self, write: Callable[[bytes], None], model: str, prompt_tokens: int):
        self.write = write
        self.model = model
        self.prompt_tokens = prompt_tokens

    def _send(self, event: str, data: dict) -> None:
        self.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

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
