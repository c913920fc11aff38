"""What every import format is held to: the size and count caps, the error a refused file raises,
and the field checks that turn a file's values into a message's fields or a clear refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..usage.services import REPLY_MAX_COST, REPLY_MAX_TOKENS

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_CONVERSATIONS = 5_000
MAX_MESSAGES = 100_000
MAX_CONTENT_CHARS = 1_000_000
# A turn at most this many turns below the first (a tree deeper than any conversation a person has).
MAX_TREE_DEPTH = 10_000
# JSON kept as it is (parameters, defaults, metadata) may nest this deep at most.
MAX_NESTING = 6
# A reply's figures at most, as for a reply webox ends itself. Imported replies count in no usage
# figure, but they are stored and shown.
MAX_TOKENS = REPLY_MAX_TOKENS
MAX_COST = REPLY_MAX_COST
# The response lists at most this many parts left out (and says how many there were in all).
MAX_NOT_IMPORTED_LISTED = 1_000


class ExportFileError(Exception):
    """A file that cannot be imported; ``detail`` says why, in words a user can act on."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass
class Item:
    """One message of a checked file: its fields, and the file's own ids for it and what it links to."""

    ref: object
    reply_to: object
    fields: dict
    # User messages of a file that holds the tree: the turn this one follows (a ref; None: a first turn).
    parent: object = None
    vote: dict | None = None


@dataclass
class Checked:
    """One conversation of a file, checked in full and ready to store."""

    fields: dict
    items: list[Item]
    # Whether the items name their parents; if not, each turn follows the one before (older files).
    tree: bool = False
    active_leaf: object = None


@dataclass
class NotImported:
    """A part of a peer's file that has no place in webox, reported back instead of dropped silently."""

    conversation: int  # 1-based, in the file's order
    title: str
    message: str  # the file's id of the message
    role: str
    what: str  # e.g. "image", "tool call", "system message"

    def as_dict(self) -> dict:
        return {"conversation": self.conversation, "title": self.title, "message": self.message,
                "role": self.role, "what": self.what}


@dataclass
class Parsed:
    """A whole file, checked: its conversations and what was left out of them."""

    conversations: list[Checked] = field(default_factory=list)
    not_imported: list[NotImported] = field(default_factory=list)


def depth_within(value, limit: int) -> bool:
    """Whether ``value`` nests no deeper than ``limit`` (iterative: a hostile file cannot recurse us)."""
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return True


def load_json(raw: bytes | str):
    """The file's JSON, or a refusal for one too large, too deep or not JSON."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ExportFileError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
    try:
        return json.loads(raw)
    except RecursionError:
        raise ExportFileError("The file nests too deeply to be an export.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportFileError(f"The file is not valid JSON ({str(exc)[:120]}).") from None


def is_ref(value) -> bool:
    """A file's id for a message: a number or text."""
    return not isinstance(value, bool) and isinstance(value, int | str) and len(str(value)) <= 200


def epoch_time(value) -> datetime | None:
    """A peer's time, in seconds (or milliseconds) since 1970; None for none or nonsense."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0 < value < 1e14):
        return None
    if value > 1e11:  # milliseconds
        value = value / 1000
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def message_fields(*, role: str, content: str, **extra) -> dict:
    """The fields of a message a peer's file brings in, with webox's defaults for the rest."""
    fields = {"role": role, "content": content, "provider": "", "model": "", "column": "", "status": "complete",
              "error_code": "", "error_detail": "", "prompt_tokens": None, "completion_tokens": None,
              "ttft_ms": None, "duration_ms": None, "finish_reason": "", "parameters": {}, "chosen": False,
              "seq": 0, "created_at": None, "updated_at": None, "started_at": None, "completed_at": None,
              "cost": None, "cost_currency": "", "cost_estimated": False, "usage_estimated": False,
              "tokens_per_second": None, "estimate": None, "blind_label": "", "blind_revealed_at": None,
              "fuse": None}
    fields.update(extra)
    return fields


class Checker:
    """Field checks that fail with the place in the file (``where``) and what is wrong."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, detail: str):
        raise ExportFileError(f"{self.where}: {detail}")

    def text(self, data: dict, name: str, *, limit: int = MAX_CONTENT_CHARS) -> str:
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.fail(f"{name} must be text.")
        if len(value) > limit:
            self.fail(f"{name} is longer than {limit} characters.")
        return value

    def integer(self, data: dict, name: str, *, limit: int) -> int | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(f"{name} must be a whole number from 0.")
        if value > limit:
            self.fail(f"{name} must be at most {limit}.")
        return value

    def amount(self, data: dict, name: str) -> Decimal | None:
        value = data.get(name)
        if value is None:
            return None
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0:
            self.fail(f"{name} must be an amount written as text, such as \"0.0012\".")
        if amount > MAX_COST:
            self.fail(f"{name} must be at most {MAX_COST}.")
        return amount.quantize(Decimal("1e-8"))

    def rate(self, data: dict, name: str) -> float | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not (0 <= value < 1e9):
            self.fail(f"{name} must be a number from 0.")
        return float(value)

    def boolean(self, data: dict, name: str) -> bool:
        value = data.get(name, False)
        if not isinstance(value, bool):
            self.fail(f"{name} must be true or false.")
        return value

    def json_object(self, data: dict, name: str, *, kind: type = dict):
        value = data.get(name)
        if value is None:
            return kind()
        if not isinstance(value, kind):
            self.fail(f"{name} must be {'an object' if kind is dict else 'a list'}.")
        if not depth_within(value, MAX_NESTING):
            self.fail(f"{name} nests too deeply.")
        if len(json.dumps(value)) > 100_000:
            self.fail(f"{name} is too large.")
        return value

    def time(self, data: dict, name: str, *, required: bool = False) -> datetime | None:
        value = data.get(name)
        if value is None:
            if required:
                self.fail(f"{name} is missing.")
            return None
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well formed but not a date, such as month 13
            parsed = None
        if parsed is None:
            self.fail(f"{name} must be an ISO 8601 date and time.")
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)

    def choice(self, data: dict, name: str, choices, default: str) -> str:
        value = data.get(name, default)
        if value not in choices:
            self.fail(f"{name} must be one of {', '.join(choices)}.")
        return value
