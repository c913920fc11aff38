"""webox's own JSON export (chat/exports.py), checked in full before anything is stored.

A file that holds the tree names each user message's ``parent`` (the earlier turn it follows) and
each conversation's ``active_leaf``; an older file (no ``parent`` anywhere in a conversation) is one
line: each turn follows the one before, and the last is the branch on screen.
"""

from __future__ import annotations

from ..exports import FORMAT, VERSION
from ..models import ACTIVE_STATUSES, ContextMode, ReplyStatus, Role, VoteOutcome
from ..services.fuse import MAX_FUSE_SOURCES
from ..services.inputs import default_columns_from_short_form
from .checks import MAX_TOKENS, Checked, Checker, ExportFileError, Item, Parsed

TIME_FIELDS = ("created_at", "updated_at", "started_at", "completed_at", "blind_revealed_at")
INT_FIELDS = {"prompt_tokens": MAX_TOKENS, "completion_tokens": MAX_TOKENS, "ttft_ms": 2**31 - 1,
              "duration_ms": 2**31 - 1, "seq": 2**31 - 1}
TEXT_LIMITS = {"provider": 100, "model": 200, "column": 120, "error_code": 40, "error_detail": 2000,
               "finish_reason": 40, "cost_currency": 3, "blind_label": 2}
# ``imported`` is written out but never read back: every message an import creates is imported.
BOOL_FIELDS = ("chosen", "cost_estimated", "usage_estimated")


def is_webox(data) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def parse(data: dict) -> Parsed:
    if data.get("version") != VERSION:
        version = str(data.get("version"))[:20]
        raise ExportFileError(f"Unsupported export version {version!r}; this webox reads {VERSION}.")
    if not isinstance(data.get("conversations"), list):
        raise ExportFileError('"conversations" must be a list.')
    return Parsed(conversations=[_conversation(item, number)
                                 for number, item in enumerate(data["conversations"], start=1)])


def _conversation(item, number: int) -> Checked:
    check = Checker(f"Conversation {number}")
    if not isinstance(item, dict):
        check.fail("must be an object.")
    fields = {
        "title": check.text(item, "title", limit=200),
        "system_prompt": check.text(item, "system_prompt"),
        "default_providers": check.json_object(item, "default_providers", kind=list),
        "default_models": check.json_object(item, "default_models"),
        "default_params": check.json_object(item, "default_params"),
        "default_columns": check.json_object(item, "default_columns", kind=list),
        "context_mode": check.choice(item, "context_mode", ContextMode.values, ContextMode.OWN),
        "archived": check.boolean(item, "archived"),
        "metadata": check.json_object(item, "metadata"),
        "blind": check.boolean(item, "blind"),
        "created_at": check.time(item, "created_at"),
        "updated_at": check.time(item, "updated_at"),
    }
    if not all(isinstance(name, str) and len(name) <= 100 for name in fields["default_providers"]):
        check.fail("default_providers must be a list of names.")
    if not all(isinstance(column, dict) and isinstance(column.get("provider"), str)
               for column in fields["default_columns"]):
        check.fail("default_columns must be a list of columns, each naming its provider.")
    if "default_columns" not in item:  # a file from before columns: its short form says the same
        fields["default_columns"] = default_columns_from_short_form(
            fields["default_providers"], fields["default_models"], fields["default_params"])
    raw_messages = item.get("messages", [])
    if not isinstance(raw_messages, list):
        check.fail("messages must be a list.")
    items: list[Item] = []
    roles: dict[object, str] = {}
    turns: set = set()
    tree = any(isinstance(raw, dict) and "parent" in raw for raw in raw_messages)
    for index, raw in enumerate(raw_messages, start=1):
        mcheck = Checker(f"Conversation {number}, message {index}")
        items.append(_message(mcheck, raw, roles, turns, tree))
    _check_vote_refs(check, items)
    active_leaf = item.get("active_leaf")
    if active_leaf is not None and active_leaf not in turns:
        check.fail("active_leaf must name a user message of the conversation that answers nothing.")
    return Checked(fields=fields, items=items, tree=tree, active_leaf=active_leaf)


def _message(check: Checker, raw, roles: dict, turns: set, tree: bool) -> Item:
    if not isinstance(raw, dict):
        check.fail("must be an object.")
    ref, reply_to, parent = raw.get("id"), raw.get("reply_to"), raw.get("parent")
    for name, value in (("id", ref), ("reply_to", reply_to), ("parent", parent)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | str)):
            check.fail(f"{name} must be a number or text.")
    if ref is not None and ref in roles:
        check.fail("its id is used twice.")
    message = {
        "role": check.choice(raw, "role", Role.values, Role.USER),
        "content": check.text(raw, "content"),
        "status": check.choice(raw, "status", ReplyStatus.values, ReplyStatus.COMPLETE),
        "parameters": check.json_object(raw, "parameters"),
        "estimate": check.json_object(raw, "estimate") if raw.get("estimate") is not None else None,
        "fuse": _fuse_provenance(check, raw.get("fuse")),
        "cost": check.amount(raw, "cost"),
        "tokens_per_second": check.rate(raw, "tokens_per_second"),
    }
    for name in BOOL_FIELDS:
        message[name] = check.boolean(raw, name)
    for name, limit in TEXT_LIMITS.items():
        message[name] = check.text(raw, name, limit=limit)
    for name, limit in INT_FIELDS.items():
        message[name] = check.integer(raw, name, limit=limit)
    if message["seq"] is None:
        message["seq"] = 0
    if message["role"] == Role.ASSISTANT and "column" not in raw:
        message["column"] = message["provider"]  # a file from before columns: the provider was the thread
    for name in TIME_FIELDS:
        message[name] = check.time(raw, name)
    if reply_to is not None and roles.get(reply_to) != Role.USER:
        check.fail("reply_to must name an earlier user message of the same conversation.")
    if reply_to is None and message["role"] == Role.ASSISTANT:
        check.fail("an assistant reply needs reply_to: the user message it answers.")
    is_turn = message["role"] == Role.USER and reply_to is None
    if parent is not None:
        # An earlier turn only: so a file's tree has no cycle and every parent exists.
        if not is_turn:
            check.fail("only a user message that answers nothing follows a turn (parent).")
        if parent not in turns:
            check.fail("parent must name an earlier user message of the same conversation.")
    if message["status"] in ACTIVE_STATUSES:
        # Nothing will ever generate an imported reply: it keeps its text, marked as stopped.
        message["status"] = ReplyStatus.CANCELLED
        message["finish_reason"] = message["finish_reason"] or "cancelled"
    vote = None
    if raw.get("vote") is not None:
        if message["role"] != Role.USER:
            check.fail("only a user message holds a vote.")
        vote = _check_vote(check, raw["vote"])
    if ref is not None:
        roles[ref] = message["role"]
        if is_turn:
            turns.add(ref)
    return Item(ref=ref, reply_to=reply_to, fields=message, parent=parent if tree else None, vote=vote)


def _check_vote(check: Checker, raw) -> dict:
    if not isinstance(raw, dict):
        check.fail("vote must be an object.")
    vote = {
        "outcome": check.choice(raw, "outcome", VoteOutcome.values, ""),
        "winners": check.json_object(raw, "winners", kind=list),
        "replies": check.json_object(raw, "replies", kind=list),
        "blind": check.boolean(raw, "blind"),
        "revealed_before": check.boolean(raw, "revealed_before"),
        "created_at": check.time(raw, "created_at"),
        "updated_at": check.time(raw, "updated_at"),
    }
    if not all(isinstance(ref, int | str) and not isinstance(ref, bool) for ref in vote["winners"]):
        check.fail("vote.winners must be a list of message ids.")
    if not all(isinstance(item, dict) and isinstance(item.get("provider", ""), str)
               and isinstance(item.get("model", ""), str) for item in vote["replies"]):
        check.fail("vote.replies must be a list of {id, provider, model}.")
    return vote


def _check_vote_refs(check: Checker, items: list[Item]) -> None:
    """A vote's winners must be replies to its own turn (as the file names them)."""
    replies_to: dict[object, set] = {}
    for item in items:
        if item.reply_to is not None and item.ref is not None:
            replies_to.setdefault(item.reply_to, set()).add(item.ref)
    for item in items:
        if item.vote and not set(item.vote["winners"]) <= replies_to.get(item.ref, set()):
            check.fail("a vote's winners must be replies to its turn.")


def _fuse_provenance(check: Checker, value) -> dict | None:
    """A fused reply's provenance: its sources are ids of this file, turned into the new rows' ids on import."""
    if value is None:
        return None
    if not isinstance(value, dict):
        check.fail("fuse must be an object.")
    sources = value.get("sources")
    if (not isinstance(sources, list) or len(sources) > MAX_FUSE_SOURCES
            or not all(isinstance(ref, int | str) and not isinstance(ref, bool) for ref in sources)):
        check.fail(f"fuse.sources must be a list of at most {MAX_FUSE_SOURCES} message ids.")
    texts = {name: check.text(value, name) for name in ("prompt", "template")}
    if any("\x00" in text for text in texts.values()):
        check.fail("fuse cannot hold NUL characters.")
    return {"sources": sources, **texts}
