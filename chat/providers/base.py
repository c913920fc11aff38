"""The one interface the rest of webox sees for any AI provider."""

from __future__ import annotations

import abc
import enum
import fnmatch
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


class ErrorCode(enum.StrEnum):
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    BAD_REQUEST = "bad_request"
    MODEL_NOT_FOUND = "model_not_found"
    UPSTREAM_ERROR = "upstream_error"
    TIMEOUT = "timeout"
    CONNECTION_LOST = "connection_lost"
    # Not a provider's fault: raised by webox itself (unknown provider name, cancelled, orphaned, interrupted,
    # a reply past its deadline or size cap, a model the operator does not allow).
    DEADLINE_EXCEEDED = "deadline_exceeded"
    TOO_LONG = "too_long"
    MODEL_NOT_ALLOWED = "model_not_allowed"
    PROVIDER_UNKNOWN = "provider_unknown"
    ORPHANED = "orphaned"
    INTERRUPTED = "interrupted"  # the embedded server stopped (or restarted) while the reply streamed


# Codes for which trying the same call again later can succeed.
RETRYABLE_CODES = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.UPSTREAM_ERROR, ErrorCode.TIMEOUT, ErrorCode.CONNECTION_LOST}
)


class ProviderError(Exception):
    """Every failure of a provider call, whatever the SDK raised.

    ``detail`` is safe to show a user and to log: it never holds an API key.
    """

    def __init__(self, code: ErrorCode, detail: str, *, retry_after: float | None = None):
        super().__init__(f"{code}: {detail}")
        self.code = ErrorCode(code)
        self.detail = detail
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


@dataclass(frozen=True)
class ChatImage:
    """An image sent with a user message, for a model that can see images."""

    media_type: str  # image/png, image/jpeg, image/webp or image/gif
    data: bytes = field(repr=False)
    name: str = ""


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "user" or "assistant"
    content: str
    # Each adapter sends these in its SDK's own content-part format, after the text.
    images: tuple[ChatImage, ...] = ()


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: tuple[ChatMessage, ...]
    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Retrying:
    """Yielded before the first text when a transient error is about to be retried.

    The provider waits ``delay`` seconds after yielding it, then tries again: this is retry number
    ``retry`` of at most ``max_retries`` (the budget may end the retries sooner).
    """

    retry: int
    max_retries: int
    code: ErrorCode
    delay: float


@dataclass(frozen=True)
class StreamResult:
    """The last item of every successful stream."""

    finish_reason: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: int | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class ProviderConfig:
    """Where a provider lives and how to reach it; ``api_key`` is kept out of ``repr``."""

    name: str
    kind: str
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    models: tuple[str, ...] = ()
    default_model: str = ""
    context_tokens: int | None = None
    source: str = "env"  # "env", "db" or "builtin"
    # The models users may ask for: names or fnmatch patterns (``gpt-4o*``); empty: any model.
    allowed_models: tuple[str, ...] = ()

    def allows(self, model: str) -> bool:
        """Whether users may ask this provider for ``model`` (case-sensitive, as endpoints are)."""
        return not self.allowed_models or any(fnmatch.fnmatchcase(model, pattern) for pattern in self.allowed_models)

    def only_allowed(self, models) -> tuple[str, ...]:
        """``models`` without those users may not ask for."""
        return tuple(model for model in models if self.allows(model))


# What a provider's stream yields.
StreamItem = TextDelta | Retrying | StreamResult

# What a stream may be given to read in batches: called before it waits on the network, it returns an
# awaitable to wait for first (the publisher's next flush, chat/streaming/publisher.py), or None to wait on
# the network at once. What arrived meanwhile is then read in one go.
Pace = Callable[[], Awaitable[Any] | None]


class ChatProvider(abc.ABC):
    """One provider endpoint. Subclasses live one per module in ``chat/providers/``."""

    # The ChatRequest settings this kind sends on; the chat page marks the others as ignored.
    accepted_parameters: tuple[str, ...] = ("temperature", "max_tokens", "system_prompt")

    def __init__(self, config: ProviderConfig):
        self.config = config

    @abc.abstractmethod
    def stream(self, request: ChatRequest, *, pace: Pace | None = None) -> AsyncIterator[StreamItem]:
        """Yield ``TextDelta`` items as text arrives, then exactly one ``StreamResult``.

        Raises ``ProviderError`` for every failure. Before the first delta transient errors may
        be retried, each retry announced by a ``Retrying`` item yielded before its wait; after the
        first delta nothing is retried. ``pace``: see ``Pace``; a provider that cannot batch its
        reads ignores it.
        """

    @abc.abstractmethod
    async def list_models(self) -> list[str]:
        """The model names the endpoint serves now (its models listing)."""
