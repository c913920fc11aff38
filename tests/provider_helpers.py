"""Driving one provider adapter directly, for the adapter tests."""

import pytest

from chat.providers.base import ChatMessage, ChatRequest, ProviderError, StreamResult


def ask(model: str, text: str = "hello there", **fields) -> ChatRequest:
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), **fields)


async def collect(provider, request, into: list[str] | None = None) -> tuple[list[str], StreamResult]:
    """The text pieces and the final result; ``into`` keeps the pieces even if the stream fails."""
    pieces = [] if into is None else into
    async for item in provider.stream(request):
        if isinstance(item, StreamResult):
            return pieces, item
        pieces.append(item.text)
    raise AssertionError("the stream ended without a StreamResult")


async def failure(provider, request, into: list[str] | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await collect(provider, request, into)
    return caught.value

