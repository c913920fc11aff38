"""An offline provider: no key, no network, a deterministic and clearly labelled reply."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

from django.conf import settings

from .base import ChatProvider, ChatRequest, Pace, StreamResult, TextDelta

DEMO_MODELS = ("demo-echo", "demo-markdown")


def demo_reply_text(request: ChatRequest) -> str:
    last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    quoted = " ".join(last_user.split())[:200]
    turn = sum(1 for m in request.messages if m.role == "user")
    text = (
        f"**Demo reply** from the offline `{request.model}` model (turn {turn}). "
        "No AI was asked: configure a provider to get real answers.\n\n"
        f"You wrote: “{quoted}”\n\n"
    )
    if request.model == "demo-markdown":
        words = len(last_user.split())
        text += (
            "| measure | value |\n|---|---|\n"
            f"| words | {words} |\n| characters | {len(last_user)} |\n\n"
            "```python\nprint(\"hello from webox\")\n```\n"
        )
    return text


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces that join back to exactly ``text``."""
    return re.findall(r"\s*\S+|\s+", text)


class DemoProvider(ChatProvider):
    accepted_parameters = ("max_tokens",)  # its text is made up: no sampling, no instructions

    async def stream(self, request: ChatRequest, *,
                     pace: Pace | None = None) -> AsyncIterator[TextDelta | StreamResult]:
        # Its pieces come from sleeps of its own: nothing to batch.
        started = time.monotonic()
        pieces = split_tokens(demo_reply_text(request))
        if request.max_tokens is not None:
            truncated = len(pieces) > request.max_tokens
            pieces = pieces[: request.max_tokens]
        else:
            truncated = False
        delay = settings.WEBOX_DEMO_DELAY_MS / 1000
        ttft_ms = None
        for piece in pieces:
            await asyncio.sleep(delay)
            if ttft_ms is None:
                ttft_ms = int((time.monotonic() - started) * 1000)
            yield TextDelta(piece)
        prompt_words = sum(len(m.content.split()) for m in request.messages) + len(request.system_prompt.split())
        yield StreamResult(
            finish_reason="length" if truncated else "stop",
            prompt_tokens=prompt_words,
            completion_tokens=len(pieces),
            ttft_ms=ttft_ms,
            duration_ms=int((time.monotonic() - started) * 1000),
        )

    async def list_models(self) -> list[str]:
        return list(DEMO_MODELS)
