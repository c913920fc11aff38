"""Token counts webox works out itself when a provider did not send its own.

No tokenizer: exact ones (tiktoken) download their vocabularies at run time and each provider
counts differently anyway. The estimate is the one the context builder trims by — about four
characters a token, a few tokens of overhead per message — and every figure computed this way is
stored with ``usage_estimated=True``.
"""

from __future__ import annotations

import math

from chat.context import build_chat_request, estimate_tokens
from chat.models import Message


def estimate_completion_tokens(text: str) -> int:
    """Tokens in streamed text: about four characters each, rounded up; nothing streamed is 0."""
    return math.ceil(len(text) / 4) if text else 0


def estimate_prompt_tokens(reply: Message, *, context_tokens: int | None = None) -> int:
    """Tokens of the context the reply was sent, rebuilt by the same rule that built it."""
    request = build_chat_request(reply, context_tokens=context_tokens)
    total = sum(estimate_tokens(m.content) for m in request.messages)
    return total + (estimate_tokens(request.system_prompt) if request.system_prompt else 0)
