"""OpenAI-compatible endpoints through the official ``openai`` SDK (Chat Completions, streamed).

One adapter serves OpenAI, Mistral, Groq, DeepSeek, OpenRouter, Together, Gemini's OpenAI endpoint
and local Ollama, vLLM or LM Studio: only the base URL and the key differ.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx2

from . import sse
from .base import ChatMessage, ChatRequest, ErrorCode, Pace, ProviderError, StreamResult, TextDelta
from .policy import KEYLESS_PLACEHOLDER, PolicyProvider, parse_retry_after, timed_out
from .sdks import lazy, tls_context

openai = lazy("openai")  # loaded where providers are called (chat/providers/sdks.py)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# api.openai.com refuses ``max_tokens`` for its reasoning models; most other servers only know it.
_MAX_COMPLETION_TOKENS_HOSTS = frozenset({"api.openai.com"})


def openai_messages(request: ChatRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        [{"role": "system", "content": request.system_prompt}] if request.system_prompt else [])
    messages += [{"role": message.role, "content": _openai_content(message)} for message in request.messages]
    return messages


def _openai_content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """Plain text, or with images the text part then one ``image_url`` part (a data URL) per image."""
    if not message.images:
        return message.content
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    for image in message.images:
        data_url = f"data:{image.media_type};base64,{base64.b64encode(image.data).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": data_url}})
    return parts


class OpenAIProvider(PolicyProvider):
    """Chat Completions with ``stream_options={"include_usage": True}`` for token counts."""

    sdk_name = "openai"

    @property
    def base_url(self) -> str:
        return self.config.base_url or OPENAI_DEFAULT_BASE_URL

    def _client(self, *, streaming: bool = False) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=self.config.api_key or KEYLESS_PLACEHOLDER,
            base_url=self.base_url,
            timeout=openai.Timeout(**self.policy.http_timeout(streaming=streaming)),
            max_retries=0,
            # The SDK's aiohttp transport: a quarter less CPU per streamed chunk (docs/performance.md).
            http_client=openai.DefaultAioHttpClient(verify=tls_context()),
        )

    def _parameters(self, request: ChatRequest) -> dict[str, Any]:
        parameters: dict[str, Any] = {}
        if request.temperature is not None:
            parameters["temperature"] = request.temperature
        if request.max_tokens is not None:
            host = urlsplit(self.base_url).hostname or ""
            name = "max_completion_tokens" if host in _MAX_COMPLETION_TOKENS_HOSTS else "max_tokens"
            parameters[name] = request.max_tokens
        return parameters

    async def _attempt(self, request: ChatRequest, pace: Pace | None = None) -> AsyncIterator[TextDelta | StreamResult]:
        async with self._stream_client() as client:
            finish_reason = None
            usage = None
            try:
                async with client.chat.completions.with_streaming_response.create(
                    model=request.model,
                    messages=(),
                    stream=True,
                    # Already plain JSON, which the SDK's transform of its typed params returns unchanged
                    # (tests/providers/test_openai_compat.py) after walking it, about 0.1 ms a message.
                    extra_body={"messages": openai_messages(request), "stream_options": {"include_usage": True},
                                **self._parameters(request)},
                ) as raw:
                    # The SDK's raw body, read as the SDK's AsyncStream reads it, without a model per chunk.
                    async for chunk in _chunks(raw.http_response, pace):
                        if chunk.get("usage") is not None:
                            usage = chunk["usage"]
                        for choice in chunk.get("choices") or ():
                            if choice.get("index") != 0:
                                continue
                            content = (choice.get("delta") or {}).get("content")
                            if content:
                                yield TextDelta(content)
                            if choice.get("finish_reason"):
                                finish_reason = choice["finish_reason"]
            except openai.APIError as exc:
                raise self._sdk_error(exc) from None
            except sse.NotAnEventStream as exc:
                raise self._error(ErrorCode.UPSTREAM_ERROR, str(exc)) from None
        if finish_reason is None:
            raise self._error(ErrorCode.CONNECTION_LOST, "The stream ended before the reply was complete.")
        yield StreamResult(
            finish_reason=finish_reason,
            prompt_tokens=usage.get("prompt_tokens") if usage is not None else None,
            completion_tokens=usage.get("completion_tokens") if usage is not None else None,
        )

    async def list_models(self) -> list[str]:
        await self.load_sdk()
        async with self._client() as client:
            try:
                page = await self._bounded(client.models.list())
                return sorted({model.id async for model in page})
            except openai.APIError as exc:
                raise self._sdk_error(exc) from None

    def _sdk_error(self, exc: openai.APIError) -> ProviderError:
        if isinstance(exc, openai.APITimeoutError) and timed_out(exc):
            return self._error(ErrorCode.TIMEOUT, "The provider did not answer in time.")
        if isinstance(exc, openai.APIConnectionError):
            return self._error(ErrorCode.CONNECTION_LOST, "Could not reach the provider, or the connection dropped.")
        body = exc.body if isinstance(exc.body, dict) else {}
        upstream = str(body.get("message") or "") or exc.message
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        retry_after = parse_retry_after(exc.response.headers) if isinstance(exc, openai.APIStatusError) else None
        code = _error_code(status, exc.code, exc.type)
        if code is ErrorCode.AUTH:
            # Upstream auth messages tend to quote the rejected key: never pass them on.
            return self._error(code, f"The provider rejected the API key (HTTP {status}).")
        prefix = f"HTTP {status}: " if status else ""
        return self._error(code, prefix + upstream, retry_after=retry_after)


async def _chunks(response: httpx2.Response, pace: Pace | None = None) -> AsyncIterator[dict]:
    """The chunks of a Chat Completions stream, as dicts, until ``[DONE]``; an ``error`` chunk and a
    transport error raise the ``openai.APIError`` the SDK's ``AsyncStream`` raises for them."""
    done = False
    try:
        async for event in sse.events(response, pace):
            # Read on past [DONE] to the end of the body, as the SDK does, so the connection is kept.
            if done or event.data.startswith("[DONE]"):
                done = True
                continue
            try:
                data = sse.json_data(event)
            except ValueError:
                raise openai.APIError(message="The provider sent an event that is not JSON.",
                                      request=response.request, body=None) from None
            if not isinstance(data, dict):
                continue
            if data.get("error"):
                error = data["error"]
                message = error.get("message") if isinstance(error, dict) else None
                if not message or not isinstance(message, str):
                    message = "An error occurred during streaming"
                raise openai.APIError(message=message, request=response.request, body=error)
            yield data
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except httpx2.TransportError as exc:
        raise openai.APIConnectionError(request=response.request) from exc


def _error_code(status: int | None, code: str | None, type_: str | None) -> ErrorCode:
    if code == "model_not_found":
        return ErrorCode.MODEL_NOT_FOUND
    if status in (401, 403) or code == "invalid_api_key":
        return ErrorCode.AUTH
    if status == 404:
        return ErrorCode.MODEL_NOT_FOUND
    if status == 429 or code == "rate_limit_exceeded":
        return ErrorCode.RATE_LIMITED
    if status == 408:
        return ErrorCode.TIMEOUT
    if status is not None and 400 <= status < 500:
        return ErrorCode.BAD_REQUEST
    if status is None and type_ == "invalid_request_error":
        return ErrorCode.BAD_REQUEST
    return ErrorCode.UPSTREAM_ERROR
