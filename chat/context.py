"""What each column is sent: its own thread of the conversation, on the branch it answers on.

The earlier turns are those of the tree's path down to the turn the asked message follows
(``Message.parent``, chat/tree.py): never a turn of another branch. The rule (docs/architecture.md,
"The conversation tree" and "Context"; docs/compare.md, "Columns"): for every earlier turn a column
sees the user's message and at most one assistant answer —
- context mode ``own``: the latest completed reply of that turn written by the same column (the
  reply whose ``column`` key is this column's), else no answer at all: a column is never sent
  another column's words as its own (a column whose reply failed sees the user's message alone).
  Two columns of one provider keep two threads;
- context mode ``chosen``: the reply the user chose for that turn, else its own latest completed
  reply, else no answer.
The turns before a column's first reply on the path (a column that joined later) follow its
``history`` (``parameters["history"]`` of that first reply): ``chosen`` (the default) gives the
user's message with the reply chosen for it, if any; ``empty`` leaves those turns out.
A column's own system prompt (``parameters["system_prompt"]``) replaces the conversation's.
Every user message carries its attachments, earlier turns' too: file text in the message, images
only to a model that can see them (docs/attachments.md).
A fused reply (``Message.fuse``) is sent its fuse prompt alone (docs/compare.md, "Fuse"); as an
answer of its turn it is like any reply (the chosen one in mode ``chosen``).
The oldest turns are dropped until the estimate fits the model's context budget.

``build_chat_request`` builds a stored reply's request; ``column_request`` the request a column
would be sent for a message not stored yet (the cost estimate, chat/usage/estimate.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.db.models.expressions import RawSQL

from .attachments.content import message_with_attachments
from .attachments.models import Attachment
from .attachments.vision import sees_images
from .models import ContextMode, Conversation, Message, ReplyStatus, Role
from .providers import ChatMessage, ChatRequest
from .tree import Tree, active_leaf

DEFAULT_RESERVED_OUTPUT_TOKENS = 1024
# A column's ``history`` (chat/services/inputs.py): what it is sent of the turns before it joined.
HISTORY_CHOSEN, HISTORY_EMPTY = "chosen", "empty"
# What an image counts for when trimming and in the cost estimate: providers charge roughly this for a screenshot.
IMAGE_TOKENS = 1000


def estimate_tokens(text: str) -> int:
    # About four characters a token for English text; a few tokens of overhead per message.
    return len(text) // 4 + 4


def message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.content) + IMAGE_TOKENS * len(message.images)


def column_key(reply: Message) -> str:
    return reply.column or reply.provider


def pick_answer(replies: list[Message], *, column: str, mode: str) -> Message | None:
    chosen = next((r for r in replies if r.chosen and r.content), None)
    if mode == ContextMode.CHOSEN and chosen:
        return chosen
    own = [r for r in replies if column_key(r) == column and r.status == ReplyStatus.COMPLETE and r.content]
    return own[-1] if own else None


@dataclass
class EarlierTurns:
    """The turns of a path of the tree: the user's messages, oldest first, every reply to each,
    and each message's attachments in upload order."""

    messages: list[Message]
    replies: dict[int, list[Message]]
    attachments: dict[int, list[Attachment]] = field(default_factory=dict)


ACTIVE = object()


def earlier_turns(conversation: Conversation, *, follows: int | None | object = ACTIVE) -> EarlierTurns:
    """The turns a new message following the turn ``follows`` comes after: the path down to it, with every
    reply to each, regenerated versions too. ``follows`` None: a first turn (nothing earlier); by default
    the end of the branch on screen.

    One query for the path and its replies, and one more for the attachments: a send costs the
    same statements however many turns or branches there are. With ``follows`` given, the path is
    found in the database and only its rows are read; by default the whole tree is, to find the end
    of the branch on screen in it.
    """
    turns = EarlierTurns([], {})
    if follows is None:
        return turns
    tree, users, replies = Tree(), {}, {}
    rows = Message.objects.filter(Q(role=Role.USER, reply_to__isnull=True) | Q(role=Role.ASSISTANT),
                                  conversation=conversation).order_by("id")
    if follows is not ACTIVE:
        # The other branches of a long conversation are most of its text: leave them in the database.
        on_path = RawSQL(_path_sql(), [follows, conversation.pk])
        rows = rows.filter(Q(pk__in=on_path) | Q(reply_to_id__in=on_path))
    # Only what a thread is built from: a long conversation has hundreds of rows.
    for message in rows.only("id", "role", "content", "reply_to_id", "parent_id", "column", "provider", "status",
                             "chosen", "parameters"):
        if message.role == Role.USER:
            users[message.pk] = message
            tree.add(message.pk, message.parent_id)
        elif message.reply_to_id is not None:
            replies.setdefault(message.reply_to_id, []).append(message)
    path = tree.path(active_leaf(conversation, tree) if follows is ACTIVE else follows)
    turns.messages = [users[turn] for turn in path]
    turns.replies = {turn: replies[turn] for turn in path if turn in replies}
    turns.attachments = attachments_by_message(path)
    return turns


def _path_sql() -> str:
    """The ids from the turn ``%s`` of the conversation ``%s`` up its parents to a first turn.

    ``UNION``, not ``UNION ALL``: a row seen twice ends the walk, so even a broken chain of parents
    that loops cannot make it endless.
    """
    table = Message._meta.db_table
    return (f"WITH RECURSIVE path(id, parent_id) AS ("
            f"SELECT id, parent_id FROM {table} WHERE id = %s AND conversation_id = %s "
            f"UNION SELECT turn.id, turn.parent_id FROM {table} turn JOIN path ON turn.id = path.parent_id"
            f") SELECT id FROM path")


def column_joined(turns: EarlierTurns, *, column: str, parameters: dict) -> tuple[int, str]:
    """Where ``column``'s own replies on this path start (an index of ``turns.messages``; its length: at the
    message asked now), and the ``history`` rule for the turns before: its first reply's, else ``parameters``'."""
    for index, message in enumerate(turns.messages):
        first = next((r for r in turns.replies.get(message.pk, []) if column_key(r) == column), None)
        if first is not None:
            return index, first.parameters.get("history") or HISTORY_CHOSEN
    return len(turns.messages), parameters.get("history") or HISTORY_CHOSEN


def attachments_by_message(message_ids: list[int]) -> dict[int, list[Attachment]]:
    by_message: dict[int, list[Attachment]] = {}
    if message_ids:
        for attachment in Attachment.objects.filter(message_id__in=message_ids).order_by("id"):
            by_message.setdefault(attachment.message_id, []).append(attachment)
    return by_message


def column_request(*, conversation: Conversation, turns: EarlierTurns, column: str, provider: str, model: str,
                   parameters: dict, question: str, attachments: Sequence[Attachment] = (),
                   context_tokens: int | None = None) -> ChatRequest:
    """What ``column`` (``provider``'s ``model``) is sent to answer ``question`` with its ``attachments``: its own
    thread of ``turns``, every user message with its attachments (images only if the model sees them), trimmed
    to the budget."""
    sees = (any(turns.attachments.values()) or bool(attachments)) and sees_images(provider, model)

    def user_message(content: str, files: list[Attachment]) -> ChatMessage:
        if not files:
            return ChatMessage("user", content)
        return ChatMessage("user", *message_with_attachments(content, files, sees_images=sees))

    joined, history = column_joined(turns, column=column, parameters=parameters)
    thread: list[list[ChatMessage]] = []
    for index, message in enumerate(turns.messages):
        replies = turns.replies.get(message.pk, [])
        if index < joined and history == HISTORY_EMPTY:
            continue
        turn = [user_message(message.content, turns.attachments.get(message.pk, []))]
        if index < joined:
            answer = next((r for r in replies if r.chosen and r.content), None)
        else:
            answer = pick_answer(replies, column=column, mode=conversation.context_mode)
        if answer is not None:
            turn.append(ChatMessage("assistant", answer.content))
        thread.append(turn)
    asked = [user_message(question, list(attachments))]

    max_tokens = parameters.get("max_tokens")
    budget = (context_tokens or settings.WEBOX_CONTEXT_TOKENS) - (max_tokens or DEFAULT_RESERVED_OUTPUT_TOKENS)
    system_prompt = parameters.get("system_prompt") or conversation.system_prompt
    used = estimate_tokens(system_prompt) + sum(message_tokens(m) for m in asked)
    kept: list[list[ChatMessage]] = []
    for turn in reversed(thread):
        cost = sum(message_tokens(m) for m in turn)
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    history = [m for turn in reversed(kept) for m in turn] + asked
    return ChatRequest(
        model=model,
        messages=tuple(history),
        system_prompt=system_prompt,
        temperature=parameters.get("temperature"),
        max_tokens=max_tokens,
    )


def build_chat_request(reply: Message, *, context_tokens: int | None = None,
                       question_attachments: Sequence[Attachment] | None = None) -> ChatRequest:
    """What ``reply`` is sent. ``question_attachments``: its question's files when the caller knows them
    already (the engine's claim knows when there are none); None: they are read."""
    if reply.fuse:
        # A fused reply is sent its prompt alone (the question and the replies are in it): no system
        # prompt and no earlier turns, so what it is sent is exactly what its provenance shows.
        return ChatRequest(model=reply.model, messages=(ChatMessage("user", reply.fuse["prompt"]),),
                           temperature=reply.parameters.get("temperature"),
                           max_tokens=reply.parameters.get("max_tokens"))
    question = reply.reply_to
    return column_request(
        conversation=reply.conversation, turns=earlier_turns(reply.conversation, follows=question.parent_id),
        column=reply.column or reply.provider, provider=reply.provider, model=reply.model,
        parameters=reply.parameters, question=question.content,
        attachments=(attachments_by_message([question.pk]).get(question.pk, []) if question_attachments is None
                     else question_attachments),
        context_tokens=context_tokens,
    )
