"""A conversation is a tree of turns (docs/architecture.md, "The conversation tree").

A turn is a user message with its replies. Each user message names the turn it follows
(``Message.parent``); user messages with the same parent are branches of one another (an edit adds
a sibling). The branch on screen is the path from a first turn to ``Conversation.active_leaf``.
A column's thread on a branch is built from the turns of that path only (chat/context.py).

``load_tree`` reads the shape of a conversation in one query; everything else here is arithmetic
on it, so a page, a share or an export never costs a query per turn.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.db import connection

from .models import Conversation, Message, Role


@dataclass
class Tree:
    """The turns of one conversation: ``parent[id]`` and ``children[parent]`` (oldest first)."""

    parent: dict[int, int | None] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=dict)

    def add(self, turn: int, parent: int | None) -> None:
        """Add a turn; turns are added oldest first."""
        self.parent[turn] = parent
        self.children.setdefault(parent, []).append(turn)

    def __contains__(self, turn: int | None) -> bool:
        return turn in self.parent

    def path(self, leaf: int | None) -> list[int]:
        """The turns from a first turn down to ``leaf``, oldest first; [] for None or an unknown turn."""
        path: list[int] = []
        while leaf is not None and leaf in self.parent:
            path.append(leaf)
            leaf = self.parent[leaf]
        path.reverse()
        return path

    def siblings(self, turn: int) -> list[int]:
        """The branches at ``turn``'s place, ``turn`` among them, oldest first."""
        return self.children.get(self.parent.get(turn), [])

    def newest_leaf(self, turn: int | None = None) -> int | None:
        """The end of the newest line below ``turn`` (None: from the first turns): where a switch to a branch lands."""
        while self.children.get(turn):
            turn = self.children[turn][-1]
        return turn

    def branch_points(self) -> list[int | None]:
        """The parents with more than one child (None: the first turn has branches)."""
        return [parent for parent, kids in self.children.items() if len(kids) > 1]


def load_tree(conversation_id: int) -> Tree:
    """The shape of a conversation's tree: one query of (id, parent) pairs."""
    tree = Tree()
    with connection.cursor() as cursor:
        cursor.execute(_tree_statement(connection.vendor), [conversation_id, str(Role.USER)])
        for turn, parent in cursor.fetchall():
            tree.add(turn, parent)
    return tree


@functools.cache
def _tree_statement(vendor: str) -> str:
    """``Message.objects.filter(conversation_id=…, role=USER, reply_to__isnull=True).order_by("id")
    .values_list("id", "parent_id")``, written once: a send reads it, and building it cost about 0.5 ms
    of CPU. Both columns are ids, read as the database gives them."""
    quote = connection.ops.quote_name
    meta = Message._meta
    table = quote(meta.db_table)

    def column(name: str) -> str:
        return f"{table}.{quote(meta.get_field(name).column)}"

    return (f"SELECT {column('id')}, {column('parent')} FROM {table} WHERE ({column('conversation')} = %s "
            f"AND {column('reply_to')} IS NULL AND {column('role')} = %s) ORDER BY {column('id')} ASC")


def active_leaf(conversation: Conversation, tree: Tree) -> int | None:
    """The last turn of the branch on screen: the stored one, else the newest line's end."""
    if conversation.active_leaf_id in tree:
        return conversation.active_leaf_id
    return tree.newest_leaf()


def active_path(conversation: Conversation, tree: Tree | None = None) -> list[int]:
    """The turns of the branch on screen, oldest first."""
    tree = tree if tree is not None else load_tree(conversation.pk)
    return tree.path(active_leaf(conversation, tree))
