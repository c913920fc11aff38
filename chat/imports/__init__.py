"""Conversations brought in from a file: webox's own export, a ChatGPT data export or an Open WebUI chat export.

The format is told from the file's shape (``detect``). Each format's module reads its file into
checked conversations (``checks.Checked``); ``store`` writes them. A file is read and checked in full
before the transaction opens, and an import is one transaction: a file is taken whole or refused
whole, under the caps of ``checks`` and the owner's storage quota (``chat.limits.check_storage``,
checked with the owner's row locked before anything is written).

Message ids in a file are references inside that file only: an import creates new rows owned by
the importing user and never looks an id up in the database, so ids from another account are
harmless. Imported messages are history: shown in their conversation, marked ``imported``, and never
counted in any usage figure (the dashboard's rollup, ``/metrics``, budgets), since webox did not
measure them; a file cannot forge the site's usage. What a peer's file holds that has no place in
webox is listed in the result (``not_imported``), never dropped silently.

May import: chat's models, services' input helpers, limits, usage bounds and chat.exports (its format
name). Imported by the import API, chat.archives and the import command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Conversation
from . import chatgpt, openwebui, webox
from .checks import (
    MAX_CONVERSATIONS,
    MAX_IMPORT_BYTES,
    MAX_MESSAGES,
    MAX_NOT_IMPORTED_LISTED,
    ExportFileError,
    NotImported,
    Parsed,
    load_json,
)
from .store import conversations_store

__all__ = ["MAX_IMPORT_BYTES", "ExportFileError", "Imported", "conversations_import", "detect"]

FORMATS = "a webox export, a ChatGPT conversations.json or an Open WebUI chat export"


@dataclass
class Imported:
    """What an import created, and what of the file it left out (peers' formats only)."""

    conversations: list[Conversation]
    not_imported: list[NotImported] = field(default_factory=list)
    format: str = "webox"

    def not_imported_data(self) -> list[dict]:
        return [entry.as_dict() for entry in self.not_imported[:MAX_NOT_IMPORTED_LISTED]]


def detect(data) -> str:
    """Which format a file's JSON is in: "webox", "chatgpt" or "openwebui"; a refusal for none of them."""
    if webox.is_webox(data):
        return "webox"
    if data == [] or data == {}:
        raise ExportFileError("The file holds no conversations.")
    if chatgpt.is_chatgpt(data):
        return "chatgpt"
    if openwebui.is_openwebui(data):
        return "openwebui"
    if isinstance(data, dict) and "format" in data:
        raise ExportFileError(f'Not a webox export: expected "format": "{webox.FORMAT}".')
    raise ExportFileError(f"Not a file webox can import: expected {FORMATS}.")


def parse(raw: bytes | str) -> tuple[str, Parsed]:
    """A file read and checked in full, nothing written: its format and its conversations."""
    data = load_json(raw)
    kind = detect(data)
    if kind == "webox":
        parsed = webox.parse(data)
        count = len(parsed.conversations)
    else:
        items = data if isinstance(data, list) else [data]
        count = len(items)
    if count > MAX_CONVERSATIONS:
        raise ExportFileError(f"A file holds at most {MAX_CONVERSATIONS} conversations.")
    if kind != "webox":
        _check_peer_size(kind, items)
        parsed = Parsed()
        module = chatgpt if kind == "chatgpt" else openwebui
        parsed.conversations = [module.conversation(item, number=number, not_imported=parsed.not_imported)
                                for number, item in enumerate(items, start=1)]
    if sum(len(checked.items) for checked in parsed.conversations) > MAX_MESSAGES:
        raise ExportFileError(f"A file holds at most {MAX_MESSAGES} messages.")
    return kind, parsed


def _check_peer_size(kind: str, items: list) -> None:
    """Refuse a file with too many nodes before reading any of them."""
    total = 0
    for item in items:
        if kind == "chatgpt":
            nodes = item.get("mapping") if isinstance(item, dict) else None
        else:
            chat = item.get("chat", item) if isinstance(item, dict) else None
            history = chat.get("history") if isinstance(chat, dict) else None
            nodes = history.get("messages") if isinstance(history, dict) else None
        total += len(nodes) if isinstance(nodes, dict | list) else 0
        if total > MAX_MESSAGES:
            raise ExportFileError(f"A file holds at most {MAX_MESSAGES} messages.")


def conversations_import(*, owner, raw: bytes | str) -> Imported:
    """Create the conversations of a file for ``owner``, all of them or none.

    Raises ``ExportFileError`` (nothing written) for a file that is not one webox can import, and
    ``chat.errors.StorageFull`` for one that would take ``owner`` over their storage quota.
    """
    kind, parsed = parse(raw)
    created = conversations_store(owner=owner, conversations=parsed.conversations)
    return Imported(conversations=created, not_imported=parsed.not_imported, format=kind)
