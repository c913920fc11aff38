"""What the peers' formats share: a tree of message nodes, each naming its parent, turned into turns.

A node tree (ChatGPT's ``mapping``, Open WebUI's ``history.messages``) chains user and assistant
messages; webox's tree is of turns. A user node becomes a turn following the nearest user node above
it; an assistant node becomes a reply to the nearest user node above it, in a column named after its
model (several under one user node are that turn's columns, or versions of one column when their
model is the same). What a node holds that webox cannot (images, files, tool calls, reasoning, system
messages) is listed as not imported. The peer's current node becomes the turn on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..models import ContextMode, Role
from .checks import (
    MAX_CONTENT_CHARS,
    MAX_TREE_DEPTH,
    Checked,
    Checker,
    Item,
    NotImported,
    message_fields,
)


@dataclass
class Node:
    """One node of a peer's tree, read: what becomes of it (``role`` user or assistant, or None)."""

    id: str
    parent: str | None
    role: str | None = None
    text: str = ""
    model: str = ""
    time: datetime | None = None
    # What the node holds that is not imported, e.g. ["image"]; with role None, the node as a whole.
    left_out: list[str] = field(default_factory=list)
    source_role: str = ""


@dataclass
class PeerConversation:
    title: str
    nodes: dict[str, Node]
    current: str | None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    archived: bool = False
    system_prompt: str = ""
    metadata: dict = field(default_factory=dict)


def node_id(check: Checker, value, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 200:
        check.fail(f"{name} must be a node id (text).")
    return str(value)


def text(check: Checker, value: str) -> str:
    if len(value) > MAX_CONTENT_CHARS:
        check.fail(f"a message is longer than {MAX_CONTENT_CHARS} characters.")
    return value


def _ordered(check: Checker, nodes: dict[str, Node]) -> list[Node]:
    """The nodes, each after its parent; a parent that does not exist, a cycle or a node too deep is refused."""
    depth: dict[str, int] = {}
    for start in nodes:
        chain: list[str] = []
        seen: set[str] = set()
        current: str | None = start
        while current is not None and current not in depth:
            if current in seen:
                check.fail(f"the node {current[:60]!r} is its own ancestor (a cycle).")
            seen.add(current)
            chain.append(current)
            parent = nodes[current].parent
            if parent is not None and parent not in nodes:
                check.fail(f"the node {current[:60]!r} names a parent that does not exist.")
            current = parent
        level = depth[current] if current is not None else -1
        for name in reversed(chain):
            level += 1
            if level > MAX_TREE_DEPTH:
                check.fail(f"the tree is deeper than {MAX_TREE_DEPTH} messages.")
            depth[name] = level
    position = {name: index for index, name in enumerate(nodes)}
    return sorted(nodes.values(), key=lambda node: (depth[node.id], node.time.timestamp() if node.time else 0,
                                                     position[node.id]))


def to_checked(check: Checker, peer: PeerConversation, *, number: int, provider: str,
               not_imported: list[NotImported]) -> Checked:
    """The conversation as webox stores it; what has no place in it is added to ``not_imported``."""
    if peer.current is not None and peer.current not in peer.nodes:
        check.fail("the current message names a node that does not exist.")
    title = peer.title[:200]
    turn_of: dict[str, str | None] = {}
    items: list[Item] = []
    for node in _ordered(check, peer.nodes):
        above = turn_of.get(node.parent) if node.parent is not None else None
        for what in node.left_out:
            not_imported.append(NotImported(conversation=number, title=title, message=node.id,
                                            role=node.source_role, what=what))
        if node.role == Role.USER:
            items.append(Item(ref=node.id, reply_to=None, parent=above, fields=message_fields(
                role=Role.USER, content=node.text, created_at=node.time, updated_at=node.time)))
            turn_of[node.id] = node.id
            continue
        turn_of[node.id] = above
        if node.role == Role.ASSISTANT:
            if above is None:
                not_imported.append(NotImported(conversation=number, title=title, message=node.id,
                                                role=node.source_role, what="reply before any user message"))
                continue
            items.append(Item(ref=node.id, reply_to=above, fields=message_fields(
                role=Role.ASSISTANT, content=node.text, provider=provider, model=node.model,
                column=(node.model or provider)[:120], finish_reason="stop", created_at=node.time,
                updated_at=node.time, completed_at=node.time)))
    fields = {"title": title, "system_prompt": text(check, peer.system_prompt), "default_providers": [],
              "default_models": {}, "default_params": {}, "default_columns": [], "context_mode": ContextMode.OWN,
              "archived": peer.archived, "metadata": peer.metadata, "blind": False,
              "created_at": peer.created_at, "updated_at": peer.updated_at}
    active = turn_of.get(peer.current) if peer.current is not None else None
    return Checked(fields=fields, items=items, tree=True, active_leaf=active)
