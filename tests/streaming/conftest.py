"""Helpers for driving the chat socket in tests."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from channels.testing import WebsocketCommunicator

from webox.asgi import application

TERMINAL = {"message.completed", "message.error", "message.cancelled"}


async def connect(user=None, conversation_id: int = 0, *, subprotocols=None, headers=None):
    """A socket on the conversation, authenticated as ``user`` by its session."""
    headers = list(headers or [(b"origin", b"http://localhost")])
    communicator = WebsocketCommunicator(
        application, f"/api/chat/ws/{conversation_id}", headers=headers, subprotocols=subprotocols
    )
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=5)  # the first connection of a session sets up Redis
    assert connected
    return communicator


class StreamLog:
    """Everything a socket received, and each reply's text rebuilt from its snapshot and deltas."""

    def __init__(self):
        self.events: list[dict] = []
        self.text: dict[int, str] = defaultdict(str)
        self.seqs: dict[int, list[int]] = defaultdict(list)
        self.ended: dict[int, dict] = {}

    def add(self, event: dict) -> None:
        self.events.append(event)
        kind = event["type"]
        if kind == "snapshot":
            for reply in event["replies"]:
                self.text[reply["id"]] = reply["content"]
                self.seqs[reply["id"]].append(reply["seq"])
        elif kind == "message.delta":
            self.text[event["message_id"]] += event["text"]
            self.seqs[event["message_id"]].append(event["seq"])
        elif kind in TERMINAL:
            self.ended[event["message_id"]] = event

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == kind]


async def collect_until(communicator, log: StreamLog, done, timeout: float = 20.0) -> StreamLog:
    """Read events into ``log`` until ``done(log)`` is true."""
    async with asyncio.timeout(timeout):
        while not done(log):
            log.add(await communicator.receive_json_from(timeout=timeout))
    return log


def all_ended(reply_ids):
    return lambda log: all(reply_id in log.ended for reply_id in reply_ids)
