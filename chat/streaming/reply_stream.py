"""One streaming reply's text as the publisher holds it: every piece so far, those not yet recorded and
published (``pending``), and its seq (chat/streaming/publisher.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chat.streamed_markdown import StreamedBlocks


@dataclass(eq=False)
class ReplyStream:
    reply_id: int
    conversation_id: int
    key: str  # the reply's stream key (Message.stream_key)
    task: asyncio.Task | None
    chunks: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    seq: int = 0
    published_bytes: int = 0  # UTF-8 length of the text up to ``seq``
    checkpointed_seq: int = 0  # -1: the last checkpoint failed
    last_checkpoint: float = field(default_factory=time.monotonic)
    cancel_requested: bool = False
    # Set once the provider call is over: a cancel arriving later must not interrupt the final writes.
    finishing: bool = False
    # Called with the stream when its first text arrives (the publisher sends that at once).
    on_first_text: Callable[[ReplyStream], None] | None = field(default=None, repr=False)
    blocks: StreamedBlocks = field(default_factory=StreamedBlocks, repr=False)

    def append(self, text: str) -> None:
        if text:
            first = not self.chunks
            self.chunks.append(text)
            self.pending.append(text)
            if first and self.on_first_text is not None:
                self.on_first_text(self)

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def text_of_first(self, count: int) -> str:
        return "".join(self.chunks[:count])

    @property
    def final_seq(self) -> int:
        """The seq of the reply's whole text, for its end: one past ``seq`` while text is still unrecorded
        (its final flush failed), so every socket sees that it lacks text and repairs from the stored end."""
        return self.seq + 1 if self.pending else self.seq

    @property
    def published_text(self) -> str:
        """The text up to ``seq``: what sockets have been sent, without what is still pending."""
        return "".join(self.chunks[: len(self.chunks) - len(self.pending)])
