"""A blind turn's labels: "Model A, B, …" in a fresh random order per turn, stored on its replies.

The letters are dealt to the turn's columns in a random order, so a column's place on the page
(by letter) says nothing of the order it was picked in; a regenerated version keeps its column's
letter and the turn's reveal. What the labels hide, and where, is chat/blinding.py.
"""

from __future__ import annotations

import secrets

from chat.blinding import LABELS
from chat.models import Message


def blind_turn_label(replies: list[Message]) -> None:
    """Give each new reply of a blind turn its letter, before the send's one insert stores them."""
    letters = list(LABELS[:len(replies)])
    secrets.SystemRandom().shuffle(letters)
    for reply, letter in zip(replies, letters, strict=True):
        reply.blind_label = letter


def blind_version_of(reply: Message) -> dict:
    """The blind fields a regenerated version of ``reply`` takes over (none for a reply that is not blind)."""
    if not reply.blind_label:
        return {}
    return {"blind_label": reply.blind_label, "blind_revealed_at": reply.blind_revealed_at}
