"""ChatGPT's data export: ``conversations.json``, a list of conversations, each a ``mapping`` tree.

Each node of ``mapping`` is ``{id, message, parent, children}``; a message has ``author.role``,
``content`` (``content_type`` and ``parts``), ``create_time`` (seconds since 1970), ``recipient``
(``"all"`` unless it is a call to a tool) and ``metadata.model_slug``. Text from users and
assistants is imported (chat/imports/peers.py says how the tree maps); everything else (images and
other non-text parts, code and tool calls, tool output, reasoning, browsing, system messages and
custom instructions) is listed as not imported. The root node, which holds no message, becomes nothing.
"""

from __future__ import annotations

from ..models import Role
from .checks import Checker, NotImported, epoch_time
from .peers import Node, PeerConversation, node_id, text, to_checked

PROVIDER = "chatgpt"
# What a content type is, in the response's list of what was not imported.
KINDS = {"code": "code (a tool call)", "execution_output": "tool output", "thoughts": "reasoning",
         "reasoning_recap": "reasoning", "tether_browsing_display": "web browsing", "tether_quote": "web quote",
         "user_editable_context": "custom instructions", "image_asset_pointer": "image",
         "audio_asset_pointer": "audio", "audio_transcription": "audio transcription"}
TEXT_TYPES = ("text", "multimodal_text")


def is_chatgpt(data) -> bool:
    first = data[0] if isinstance(data, list) and data else data
    return isinstance(first, dict) and "mapping" in first


def conversation(item, *, number: int, not_imported: list[NotImported]):
    check = Checker(f"Conversation {number}")
    if not isinstance(item, dict):
        check.fail("must be an object.")
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        check.fail("mapping must be an object of nodes.")
    title = item.get("title") if isinstance(item.get("title"), str) else ""
    nodes = {}
    for key, raw in mapping.items():
        node = _node(Checker(f"Conversation {number}, node {str(key)[:60]!r}"), key, raw)
        nodes[node.id] = node
    peer = PeerConversation(
        title=title, nodes=nodes, current=node_id(check, item.get("current_node"), "current_node"),
        created_at=epoch_time(item.get("create_time")), updated_at=epoch_time(item.get("update_time")),
        archived=item.get("is_archived") is True,
        metadata={"imported_from": PROVIDER, "id": str(item.get("id") or item.get("conversation_id") or "")[:100]},
    )
    return to_checked(check, peer, number=number, provider=PROVIDER, not_imported=not_imported)


def _node(check: Checker, key, raw) -> Node:
    if not isinstance(raw, dict):
        check.fail("must be an object.")
    node = Node(id=node_id(check, key, "id"), parent=node_id(check, raw.get("parent"), "parent"))
    if "children" in raw and not isinstance(raw["children"], list):
        check.fail("children must be a list.")
    message = raw.get("message")
    if message is None:
        return node
    if not isinstance(message, dict):
        check.fail("message must be an object.")
    author, content = message.get("author"), message.get("content")
    metadata = message.get("metadata") or {}
    if not isinstance(author, dict) or not isinstance(author.get("role"), str):
        check.fail("message.author.role must be text.")
    if not isinstance(content, dict) or not isinstance(content.get("content_type", ""), str):
        check.fail("message.content must be an object with a content_type.")
    if not isinstance(metadata, dict):
        check.fail("message.metadata must be an object.")
    parts = content.get("parts") or []
    if not isinstance(parts, list):
        check.fail("message.content.parts must be a list.")
    role, kind = author["role"][:20], content.get("content_type", "text")
    node.source_role, node.time = role, epoch_time(message.get("create_time"))
    strings = [part for part in parts if isinstance(part, str)]
    others = [part for part in parts if not isinstance(part, str)]
    body = text(check, "\n\n".join(part for part in strings if part))
    recipient = message.get("recipient", "all")
    if role == Role.SYSTEM or role == "tool" or role not in (Role.USER, Role.ASSISTANT):
        if body or others or kind not in TEXT_TYPES:
            node.left_out.append("system message" if role == Role.SYSTEM else f"{role} message")
        return node
    if recipient not in (None, "all"):
        node.left_out.append(f"a call to {str(recipient)[:40]}")
        return node
    if kind not in TEXT_TYPES:
        node.left_out.append(KINDS.get(kind, kind[:40] or "a message without text"))
        return node
    for part in others:
        part_kind = part.get("content_type") if isinstance(part, dict) else None
        node.left_out.append(KINDS.get(part_kind, str(part_kind)[:40]) if isinstance(part_kind, str) else "a part")
    if role == Role.ASSISTANT and not body:
        return node  # nothing was said (a placeholder, or only parts listed above)
    node.role, node.text = role, body
    slug = metadata.get("model_slug")
    node.model = slug[:200] if isinstance(slug, str) else ""
    return node
