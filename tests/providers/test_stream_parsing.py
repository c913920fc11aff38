"""The adapters' own parse of the SDKs' raw streams gives what the SDKs' parsed streams give.

The same recorded streams (both wire formats: normal, with usage, a refusal, an error event, a
connection cut in the middle of an event) are served on loopback, sent in small pieces that split
lines and events, and read twice: by the SDK's own ``AsyncStream`` (the reference, read as the
adapters read it before they took the raw body) and by the adapter, unpaced and paced (``pace``:
reading what came during each short wait in one go). Deltas, usage, finish reason and the error
code must be the same.
"""

import asyncio
import json

import pytest
from aiohttp import web

from chat.providers.anthropic_messages import _FINISH_REASONS
from chat.providers.base import ErrorCode, ProviderConfig, ProviderError, StreamResult, TextDelta
from chat.providers.policy import StreamPolicy
from chat.providers.registry import build_provider
from chat.providers.sdks import load_all
from tests.providers.conftest import ask

KEY = "test-key"
PIECE = 7  # bytes per write: every event arrives split across reads


def _openai_chunk(delta: dict | None = None, finish: str | None = None, usage: dict | None = None) -> dict:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices,
            "usage": usage}


def _openai(*chunks: dict, done: bool = True) -> bytes:
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


def _anthropic(*events: dict) -> bytes:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events).encode()


_TEXT = [_openai_chunk({"role": "assistant", "content": ""}), _openai_chunk({"content": "Hel"}),
         _openai_chunk({"content": "lo, wörld"}), _openai_chunk({"content": " ✓\n"})]
_USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}

OPENAI_STREAMS = {
    "normal": _openai(*_TEXT, _openai_chunk({}, "stop")),
    "usage": _openai(*_TEXT, _openai_chunk({}, "length"), _openai_chunk(usage=_USAGE)),
    "refusal": _openai(_openai_chunk({"role": "assistant", "content": None, "refusal": ""}),
                       _openai_chunk({"refusal": "I can't help with that."}), _openai_chunk({}, "stop"),
                       _openai_chunk(usage=_USAGE)),
    "error event": _openai(*_TEXT, done=False) + b'data: {"error": {"message": "The server had an error", "type": '
                                     b'"server_error", "param": null, "code": null}}\n\n',
    "cut mid-event": _openai(*_TEXT, done=False) + b'data: {"id": "chatcmpl-1", "choi',
}


def _message_start(usage: dict) -> dict:
    return {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": usage}}


_BLOCK = [{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
          {"type": "ping"},
          *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
            for text in ("Hel", "lo, wörld", " ✓\n")),
          {"type": "content_block_stop", "index": 0}]


def _message_delta(stop_reason: str, usage: dict) -> dict:
    return {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None}, "usage": usage}


ANTHROPIC_STREAMS = {
    "normal": _anthropic(_message_start({"input_tokens": 12, "output_tokens": 1}), *_BLOCK,
                         _message_delta("end_turn", {"output_tokens": 3}), {"type": "message_stop"}),
    "usage": _anthropic(_message_start({"input_tokens": 12, "output_tokens": 1, "cache_read_input_tokens": 100,
                                        "cache_creation_input_tokens": 20}), *_BLOCK,
                        _message_delta("max_tokens", {"output_tokens": 3, "input_tokens": 15}),
                        {"type": "message_stop"}),
    "refusal": _anthropic(_message_start({"input_tokens": 12, "output_tokens": 1}), *_BLOCK[:3],
                          _message_delta("refusal", {"output_tokens": 1}), {"type": "message_stop"}),
    "error event": _anthropic(_message_start({"input_tokens": 12, "output_tokens": 1}), *_BLOCK[:3])
    + b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n',
    "cut mid-event": _anthropic(_message_start({"input_tokens": 12, "output_tokens": 1}), *_BLOCK[:4])
    + b'event: content_block_delta\ndata: {"type": "content_blo',
}


@pytest.fixture
async def recorded():
    """A loopback server that plays the recorded stream named by the request's model, a few bytes a write."""

    async def play(request: web.Request) -> web.StreamResponse:
        streams = ANTHROPIC_STREAMS if request.path == "/v1/messages" else OPENAI_STREAMS
        name = (await request.json())["model"]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        body = streams[name]
        for start in range(0, len(body), PIECE):
            await response.write(body[start:start + PIECE])
        if name == "cut mid-event":
            request.transport.close()  # no end of the chunked body: the connection is cut
            return response
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", play)
    app.router.add_post("/v1/messages", play)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def _provider(kind: str, base_url: str):
    config = ProviderConfig(name=kind, kind=kind, base_url=base_url, api_key=KEY)
    return build_provider(config, policy=StreamPolicy.from_settings().without_retries())


async def _webox_parse(provider, model: str, pace=None) -> tuple:
    deltas = []
    try:
        async for item in provider.stream(ask(model), pace=pace):
            if isinstance(item, TextDelta):
                deltas.append(item.text)
            elif isinstance(item, StreamResult):
                return deltas, item.prompt_tokens, item.completion_tokens, item.finish_reason, None
    except ProviderError as exc:
        return deltas, None, None, None, exc.code
    raise AssertionError("no StreamResult")


async def _openai_sdk_parse(provider, model: str) -> tuple:
    """The SDK's parsed stream, read as ``OpenAIProvider`` read it before it took the raw body."""
    import openai

    deltas, usage, finish = [], None, None
    async with provider._client() as client:
        try:
            stream = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                                          stream=True, stream_options={"include_usage": True})
            async for chunk in stream:
                usage = chunk.usage if chunk.usage is not None else usage
                for choice in chunk.choices:
                    if choice.index == 0 and choice.delta is not None and choice.delta.content:
                        deltas.append(choice.delta.content)
                    if choice.index == 0 and choice.finish_reason:
                        finish = choice.finish_reason
        except openai.APIError as exc:
            return deltas, None, None, None, provider._sdk_error(exc).code
    if finish is None:
        return deltas, None, None, None, ErrorCode.CONNECTION_LOST
    return (deltas, usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None, finish,
            None)


async def _anthropic_sdk_parse(provider, model: str) -> tuple:
    """The SDK's parsed stream, read as ``AnthropicProvider`` read it before it took the raw body."""
    import anthropic
    import httpx2

    deltas, prompt, completion, stop_reason, stopped = [], None, None, None, False

    def input_tokens(usage):
        cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
        return None if usage.input_tokens is None else usage.input_tokens + cached

    async with provider._client() as client:
        try:
            stream = await client.messages.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                                  max_tokens=100, stream=True)
            async for event in stream:
                if event.type == "message_start":
                    prompt, completion = input_tokens(event.message.usage), event.message.usage.output_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta" and event.delta.text:
                    deltas.append(event.delta.text)
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    completion = event.usage.output_tokens
                    if event.usage.input_tokens is not None:
                        prompt = input_tokens(event.usage)
                elif event.type == "message_stop":
                    stopped = True
        except anthropic.APIError as exc:
            return deltas, None, None, None, provider._sdk_error(exc).code
        except httpx2.TransportError:
            return deltas, None, None, None, ErrorCode.CONNECTION_LOST
    if not stopped:
        return deltas, None, None, None, ErrorCode.CONNECTION_LOST
    return deltas, prompt, completion, _FINISH_REASONS.get(stop_reason, stop_reason), None


EXPECTED = {  # (kind, stream): (prompt tokens, completion tokens, finish reason, error code)
    ("openai", "normal"): (None, None, "stop", None),
    ("openai", "usage"): (12, 3, "length", None),
    ("openai", "refusal"): (12, 3, "stop", None),
    ("openai", "error event"): (None, None, None, ErrorCode.UPSTREAM_ERROR),
    ("openai", "cut mid-event"): (None, None, None, ErrorCode.CONNECTION_LOST),
    ("anthropic", "normal"): (12, 3, "stop", None),
    ("anthropic", "usage"): (15, 3, "length", None),  # message_delta's input count replaces message_start's
    ("anthropic", "refusal"): (12, 1, "content_filter", None),
    ("anthropic", "error event"): (None, None, None, ErrorCode.UPSTREAM_ERROR),
    ("anthropic", "cut mid-event"): (None, None, None, ErrorCode.CONNECTION_LOST),
}


def _short_waits():
    return asyncio.sleep(0.001)


@pytest.mark.parametrize("pace", [None, _short_waits], ids=["unpaced", "paced"])
@pytest.mark.parametrize(("kind", "stream"), list(EXPECTED))
async def test_the_adapter_reads_a_recorded_stream_as_the_sdk_does(recorded, kind, stream, pace):
    load_all()
    provider = _provider(kind, f"{recorded}/v1" if kind == "openai" else recorded)
    sdk_parse = _openai_sdk_parse if kind == "openai" else _anthropic_sdk_parse

    by_sdk = await sdk_parse(provider, stream)
    by_webox = await _webox_parse(provider, stream, pace)

    assert by_webox == by_sdk
    assert by_webox[1:] == EXPECTED[(kind, stream)]
    texts = {"refusal": [] if kind == "openai" else ["Hel"], "error event": ["Hel", "lo, wörld", " ✓\n"]}
    assert by_webox[0] == texts.get(stream, ["Hel", "lo, wörld", " ✓\n"])[:len(by_webox[0])]
    assert by_webox[0] or stream == "refusal"
