"""Open WebUI's chat export: a list of ``{id, title, chat: {...}, created_at, updated_at, archived}`` (or one).

``chat.history`` is ``{messages: {id: {id, parentId, childrenIds, role, content, model, timestamp,
files?}}, currentId}``; ``chat.messages`` is the branch on screen, a list of the same messages
(read when there is no history). A user message sent to several models has one assistant child per
model: they become the turn's columns (chat/imports/peers.py). Files and images, system messages and
code executions are listed as not imported; ``chat.params.system`` becomes the system prompt.
"""

from __future__ import annotations

from ..models import Role
from .checks import Checker, NotImported, epoch_time
from .peers import Node, PeerConversation, node_id, text, to_checked

PROVIDER = "open-webui"


def _chat(item) -> dict | None:
    if isinstance(item, dict) and isinstance(item.get("chat"), dict):
        return item["chat"]
    if isinstance(item, dict) and isinstance(item.get("history"), dict):
        return item  # a bare chat object
    return None


def is_openwebui(data) -> bool:
    items = data if isinstance(data, list) else [data]
    return bool(items) and _chat(items[0]) is not None


def conversation(item, *, number: int, not_imported: list[NotImported]):
    check = Checker(f"Conversation {number}")
    chat = _chat(item)
    if chat is None:
        check.fail('must be an object with a "chat" holding its history.')
    history = chat.get("history")
    if history is None:  # an old export: only the branch on screen, as a list
        listed = chat.get("messages")
        if not isinstance(listed, list):
            check.fail("chat.history must be an object.")
        raw_messages = {str(raw.get("id")): raw for raw in listed if isinstance(raw, dict)}
        history = {"messages": raw_messages, "currentId": listed[-1].get("id") if listed and isinstance(
            listed[-1], dict) else None}
    if not isinstance(history, dict) or not isinstance(history.get("messages"), dict):
        check.fail("chat.history.messages must be an object of messages.")
    nodes = {}
    for key, raw in history["messages"].items():
        node = _node(Checker(f"Conversation {number}, message {str(key)[:60]!r}"), key, raw)
        nodes[node.id] = node
    title = next((value for value in (item.get("title"), chat.get("title")) if isinstance(value, str)), "")
    params = chat.get("params") if isinstance(chat.get("params"), dict) else {}
    system = params.get("system") if isinstance(params.get("system"), str) else ""
    peer = PeerConversation(
        title=title, nodes=nodes, current=node_id(check, history.get("currentId"), "currentId"),
        created_at=epoch_time(item.get("created_at")) or epoch_time(chat.get("timestamp")),
        updated_at=epoch_time(item.get("updated_at")), archived=item.get("archived") is True,
        system_prompt=system, metadata={"imported_from": PROVIDER, "id": str(item.get("id") or "")[:100]},
    )
    return to_checked(check, peer, number=number, provider=PROVIDER, not_imported=not_imported)


def _node(check: Checker, key, raw) -> Node:
    if not isinstance(raw, dict):
        check.fail("must be an object.")
    node = Node(id=node_id(check, key, "id"), parent=node_id(check, raw.get("parentId"), "parentId"))
    if "childrenIds" in raw and not isinstance(raw["childrenIds"], list):
        check.fail("childrenIds must be a list.")
    role, content = raw.get("role"), raw.get("content", "")
    if not isinstance(role, str):
        check.fail("role must be text.")
    if content is None:
        content = ""
    if not isinstance(content, str):
        check.fail("content must be text.")
    node.source_role, node.time = role[:20], epoch_time(raw.get("timestamp"))
    files = raw.get("files") or []
    if not isinstance(files, list):
        check.fail("files must be a list.")
    for entry in files:
        kind = entry.get("type") if isinstance(entry, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = "image" if kind == "image" else "file"
        node.left_out.append(f"{label} {name[:80]}" if isinstance(name, str) and name else label)
    if raw.get("code_executions"):
        node.left_out.append("code execution")
    if role not in (Role.USER, Role.ASSISTANT):
        if content:
            node.left_out.append("system message" if role == Role.SYSTEM else f"{role[:20]} message")
        return node
    node.role, node.text = role, text(check, content)
    model = raw.get("model")
    node.model = model[:200] if isinstance(model, str) else ""
    return node
