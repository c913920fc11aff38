"""The client side of the real path, on loopback: ``post`` (the REST API over HTTP) and ``ChatSocket``
(a conversation's WebSocket through daphne), every event kept in a ``StreamLog``.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections import defaultdict

TERMINAL = {"message.completed", "message.error", "message.cancelled"}


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


def post(port: int, path: str, token: str, body: dict | None = None, *, timeout: float = 10) -> dict:
    """POST JSON to daphne as the token's user; the decoded JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body or {}).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class ChatSocket:
    """A conversation's socket through daphne, authenticated by bearer subprotocol; ``log`` holds what arrived."""

    def __init__(self, port: int, conversation_id: int, token: str):
        self.url = f"ws://127.0.0.1:{port}/api/chat/ws/{conversation_id}"
        self.origin = f"http://127.0.0.1:{port}"
        self.conversation_id = conversation_id
        self.token = token
        self.log = StreamLog()

    async def __aenter__(self) -> ChatSocket:
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["webox.bearer", self.token], origin=self.origin,
                                           proxy=None, open_timeout=10)
        await self.until(lambda log: log.of_type("snapshot"))
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def until(self, done, timeout: float = 30):
        async with asyncio.timeout(timeout):
            while not done(self.log):
                self.log.add(json.loads(await self.ws.recv()))
        return self.log
