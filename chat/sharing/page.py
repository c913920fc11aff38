"""What the public page of a link shows: each turn's text and replies, rendered and hidden as they must be.

A reply of a blind turn that was not revealed when the link was made is "Model A", "Model B", …
with self-naming text masked (chat/blinding.py), whatever ``show_details`` says: a reveal after the
share is a change after the share. Without ``show_details`` no provider, model, usage, cost or
timing appears, and a column is "Reply 1", "Reply 2", …. A reply still being written at the share
shows no text: what it wrote came later. A failed reply shows no error text (providers' errors
name models and accounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import blinding
from ..models import ACTIVE_STATUSES, Message, ReplyStatus, Share
from ..rendering import render_markdown
from .selectors import SharedTurn, shared_turns


@dataclass(frozen=True)
class SharedReply:
    heading: str
    html: str  # sanitised by chat/rendering.py
    note: str
    details: str


@dataclass(frozen=True)
class SharedTurnView:
    html: str
    attachments: list[str]
    replies: list[SharedReply]


def hidden_at(reply: Message, moment: datetime) -> bool:
    """True when ``reply`` was a blind turn's reply not yet revealed at ``moment``."""
    return bool(reply.blind_label) and (reply.blind_revealed_at is None or reply.blind_revealed_at > moment)


def _finished_at(reply: Message, moment: datetime) -> bool:
    # Every end webox writes stamps completed_at; an imported reply may have none and is history.
    return reply.status not in ACTIVE_STATUSES and (reply.completed_at is None or reply.completed_at <= moment)


def _figures(reply: Message) -> str:
    parts = []
    if reply.prompt_tokens is not None or reply.completion_tokens is not None:
        parts.append(f"{reply.prompt_tokens or 0} + {reply.completion_tokens or 0} tokens")
    if reply.cost is not None:
        parts.append(f"{reply.cost.normalize():f} {reply.cost_currency}".strip())
    if reply.duration_ms is not None:
        parts.append(f"{reply.duration_ms / 1000:.1f} s")
    return " · ".join(parts)


def _reply(reply: Message, *, number: int, share: Share) -> SharedReply:
    hidden = hidden_at(reply, share.created_at)
    if hidden or (reply.blind_label and not share.show_details):
        heading, details = blinding.label_name(reply.blind_label), ""
    elif share.show_details:
        heading = " · ".join(part for part in (reply.provider, reply.model) if part) or f"Reply {number}"
        heading += " (fused)" if reply.fuse else ""
        details = _figures(reply)
    else:
        heading, details = f"Reply {number}", ""
    if not _finished_at(reply, share.created_at):
        return SharedReply(heading=heading, html="", note="Still being written when this link was made.",
                           details="")
    if reply.status == ReplyStatus.ERROR:
        return SharedReply(heading=heading, html="", note="This reply failed.", details="")
    text = blinding.mask_names(reply.content, provider=reply.provider, model=reply.model) if hidden else reply.content
    note = "Stopped before the end." if reply.status == ReplyStatus.CANCELLED else ""
    return SharedReply(heading=heading, html=render_markdown(text), note=note, details=details)


def _turn(turn: SharedTurn, share: Share) -> SharedTurnView:
    replies = turn.replies
    if any(hidden_at(reply, share.created_at) for reply in replies):
        # The columns' order is the order they were picked in: a blind turn shows its letters' order.
        replies = sorted(replies, key=lambda reply: (reply.blind_label or "~", reply.pk))
    return SharedTurnView(
        html=render_markdown(turn.message.content),
        attachments=[attachment.name for attachment in turn.message.attachments.all()],
        replies=[_reply(reply, number=number, share=share) for number, reply in enumerate(replies, start=1)],
    )


def shared_page(share: Share) -> dict:
    """The template context of ``chat/shared.html``."""
    return {
        "title": share.conversation.title or "Shared conversation",
        "shared_at": share.created_at,
        "show_details": share.show_details,
        "turns": [_turn(turn, share) for turn in shared_turns(share)],
    }
