"""Anthropic through the official ``anthropic`` SDK (Messages API, streamed)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx2

from . import sse
from .base import ChatMessage, ChatRequest, ErrorCode, Pace, ProviderError, StreamResult, TextDelta
from .policy import KEYLESS_PLACEHOLDER, PolicyProvider, parse_retry_after, timed_out
from .sdks import lazy, tls_context

anthropic = lazy("anthropic")  # loaded where providers are called (chat/providers/sdks.py)

ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com"
# The Messages API requires max_tokens; used when the caller sets none.
DEFAULT_MAX_TOKENS = 4096
# The API wants the first message from the user; a conversation that starts with an assistant
# turn (a greeting, say) gets this before it.
LEADING_USER_PLACEHOLDER = "(The conversation so far follows.)"

_FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}

_ERROR_TYPES = {
    "authentication_error": ErrorCode.AUTH,
    "permission_error": ErrorCode.AUTH,
    "billing_error": ErrorCode.AUTH,
    "rate_limit_error": ErrorCode.RATE_LIMITED,
    "not_found_error": ErrorCode.MODEL_NOT_FOUND,
    "invalid_request_error": ErrorCode.BAD_REQUEST,
    "request_too_large": ErrorCode.BAD_REQUEST,
    "timeout_error": ErrorCode.TIMEOUT,
    "overloaded_error": ErrorCode.UPSTREAM_ERROR,
    "api_error": ErrorCode.UPSTREAM_ERROR,
}


def anthropic_messages(request: ChatRequest) -> tuple[str, list[dict[str, Any]]]:
    """The ``system`` field and the messages, merged so that roles alternate from a user turn.

    System-role history entries join the system prompt; empty messages (a failed reply) are
    dropped, as the API refuses empty content. A message with images is a list of content blocks:
    one ``image`` block (base64 source) per image, then its text.
    """
    system_parts = [request.system_prompt] if request.system_prompt else []
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            system_parts.append(message.content)
            continue
        if not message.content.strip() and not message.images:
            continue
        blocks = _anthropic_blocks(message)
        if messages and messages[-1]["role"] == message.role:
            previous = messages[-1]["content"]
            if isinstance(previous, str) and isinstance(blocks, str):
                messages[-1]["content"] = previous + "\n\n" + blocks
            else:
                messages[-1]["content"] = _as_blocks(previous) + _as_blocks(blocks)
        else:
            messages.append({"role": message.role, "content": blocks})
    if messages and messages[0]["role"] != "user":
        messages.insert(0, {"role": "user", "content": LEADING_USER_PLACEHOLDER})
    return "\n\n".join(part for part in system_parts if part), messages


def _anthropic_blocks(message: ChatMessage) -> str | list[dict[str, Any]]:
    if not message.images:
        return message.content
    blocks: list[dict[str, Any]] = [
        {"type": "image", "source": {"type": "base64", "media_type": image.media_type,
                                     "data": base64.b64encode(image.data).decode("ascii")}}
        for image in message.images
    ]
    if message.content.strip():
        blocks.append({"type": "text", "text": message.content})
    return blocks


def _as_blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


class AnthropicProvider(PolicyProvider):
    """The Messages API: ``system`` at the top level, ``max_tokens`` always sent.

    The SDK's API version (2026-10-21) refuses sampling parameters, so ``temperature`` is not sent.
    """

    sdk_name = "anthropic"

    accepted_parameters = ("max_tokens", "system_prompt")

    def _client(self, *, streaming: bool = False) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=self.config.api_key or KEYLESS_PLACEHOLDER,
            base_url=self.config.base_url or ANTHROPIC_DEFAULT_BASE_URL,
            timeout=anthropic.Timeout(**self.policy.http_timeout(streaming=streaming)),
            max_retries=0,
            http_client=anthropic.DefaultAioHttpClient(verify=tls_context()),  # as OpenAIProvider's
        )

    async def _attempt(self, request: ChatRequest, pace: Pace | None = None) -> AsyncIterator[TextDelta | StreamResult]:
        system, messages = anthropic_messages(request)
        parameters: dict[str, Any] = {"system": system} if system else {}
        async with self._stream_client() as client:
            prompt_tokens = completion_tokens = None
            stop_reason = None
            stopped = False
            try:
                async with client.messages.with_streaming_response.create(
                    model=request.model,
                    messages=messages,
                    max_tokens=request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
                    stream=True,
                    **parameters,
                ) as raw:
                    # The SDK's raw body, read as the SDK's AsyncStream reads it, without a model per event.
                    async for kind, data in _events(raw.http_response, pace):
                        if kind == "message_start":
                            usage = data["message"]["usage"]
                            prompt_tokens = _input_tokens(usage)
                            completion_tokens = usage.get("output_tokens")
                        elif kind == "content_block_delta":
                            delta = data["delta"]
                            if delta.get("type") == "text_delta" and delta.get("text"):
                                yield TextDelta(delta["text"])
                        elif kind == "message_delta":
                            stop_reason = data["delta"].get("stop_reason") or stop_reason
                            usage = data.get("usage") or {}
                            completion_tokens = usage.get("output_tokens")
                            if usage.get("input_tokens") is not None:
                                prompt_tokens = _input_tokens(usage)
                        elif kind == "message_stop":
                            stopped = True
            except anthropic.APIError as exc:
                raise self._sdk_error(exc) from None
            except httpx2.TransportError as exc:
                if isinstance(exc, httpx2.TimeoutException) and timed_out(exc):
                    raise self._error(ErrorCode.TIMEOUT, "The provider stopped sending.") from None
                raise self._error(ErrorCode.CONNECTION_LOST, "The connection dropped mid-reply.") from None
            except sse.NotAnEventStream as exc:
                raise self._error(ErrorCode.UPSTREAM_ERROR, str(exc)) from None
            except (KeyError, TypeError, AttributeError):
                raise self._error(ErrorCode.UPSTREAM_ERROR, "The provider sent an event webox cannot read.") from None
        if not stopped:
            raise self._error(ErrorCode.CONNECTION_LOST, "The stream ended before the reply was complete.")
        yield StreamResult(
            finish_reason=_FINISH_REASONS.get(stop_reason or "end_turn", stop_reason or "stop"),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    async def list_models(self) -> list[str]:
        await self.load_sdk()
        async with self._client() as client:
            try:
                page = await self._bounded(client.models.list())
                return sorted({model.id async for model in page})
            except anthropic.APIError as exc:
                raise self._sdk_error(exc) from None

    def _sdk_error(self, exc: anthropic.APIError) -> ProviderError:
        if isinstance(exc, anthropic.APITimeoutError) and timed_out(exc):
            return self._error(ErrorCode.TIMEOUT, "The provider did not answer in time.")
        if isinstance(exc, anthropic.APIConnectionError):
            return self._error(ErrorCode.CONNECTION_LOST, "Could not reach the provider, or the connection dropped.")
        if not isinstance(exc, anthropic.APIStatusError):
            return self._error(ErrorCode.UPSTREAM_ERROR, exc.message)
        status = exc.status_code
        code = _ERROR_TYPES.get(exc.type or "") or _status_code(status)
        if code is ErrorCode.AUTH:
            return self._error(code, f"The provider rejected the API key ({exc.type or f'HTTP {status}'}).")
        upstream = exc.api_message or exc.message
        prefix = f"HTTP {status}: " if status >= 400 else ""
        return self._error(code, prefix + upstream, retry_after=parse_retry_after(exc.response.headers))


async def _events(response: httpx2.Response, pace: Pace | None = None) -> AsyncIterator[tuple[str, dict]]:
    """``(event type, data)`` of a Messages stream; an ``error`` event raises the ``anthropic.APIStatusError``
    the SDK's ``AsyncStream`` raises for it (pings and unnamed events skipped, as there)."""
    async for event in sse.events(response, pace):
        if event.event in ("ping", "message"):  # "message": httpx2's name for an event without one
            continue
        if event.event == "error":
            try:
                body = sse.json_data(event)
                message = f"{body}"
            except ValueError:
                body = event.data
                message = event.data or f"Error code: {response.status_code}"
            raise anthropic.APIStatusError(message, response=response, body=body)
        if not event.data:
            continue
        try:
            data = sse.json_data(event)
        except ValueError:
            raise anthropic.APIStatusError("The provider sent an event that is not JSON.", response=response,
                                           body=None) from None
        if isinstance(data, dict):
            yield data.get("type", ""), data


def _input_tokens(usage: dict) -> int | None:
    if usage.get("input_tokens") is None:
        return None
    cached = (usage.get("cache_creation_input_tokens") or 0) + (usage.get("cache_read_input_tokens") or 0)
    return usage["input_tokens"] + cached


def _status_code(status: int) -> ErrorCode:
    if status in (401, 402, 403):
        return ErrorCode.AUTH
    if status == 404:
        return ErrorCode.MODEL_NOT_FOUND
    if status == 429:
        return ErrorCode.RATE_LIMITED
    if status == 408:
        return ErrorCode.TIMEOUT
    if 400 <= status < 500:
        return ErrorCode.BAD_REQUEST
    return ErrorCode.UPSTREAM_ERROR
