"""The tree's writes (chat/tree.py): edit a sent message into a new branch, switch the branch on screen.

An edit stores the new text as a sibling of the edited message (same parent) and regenerates each
column from it, each with its own thread of the path up to that point (chat/context.py). Replies
still generating below the edited point (the abandoned branch) are stopped first. A switch only
moves ``Conversation.active_leaf``. Both publish ``conversation.updated`` (its ``active_leaf``)
after commit, so the other tabs follow.
"""

from __future__ import annotations

from django.db import transaction

from chat import events, limits
from chat.attachments.selectors import pending_attachments_get
from chat.attachments.services import clean_attachment_ids
from chat.context import earlier_turns
from chat.errors import ChatConflict, ChatError, ChatInputError, ChatNotFound
from chat.models import ACTIVE_STATUSES, Conversation, Message, Role
from chat.serializers import conversation_data
from chat.tree import Tree, load_tree
from chat.usage.estimate import columns_estimate

from .inputs import SendInput, clean_columns, message_clean
from .turns import SendResult, _check_limits, reply_cancel, turn_store


def is_turn(message: Message) -> bool:
    return message.role == Role.USER and message.reply_to_id is None


def turn_columns(turn: Message) -> list[dict]:
    """The columns a turn was answered by, in their order: each column key's latest reply version, with its
    provider, model and parameters. A fused reply is left out (it fuses replies that do not exist yet)."""
    latest: dict[str, Message] = {}
    for reply in turn.replies.filter(role=Role.ASSISTANT, fuse__isnull=True).order_by("id"):
        latest[reply.column or reply.provider] = reply  # a column keeps the place of its first version
    return [{"key": key, "provider": reply.provider, "model": reply.model, **reply.parameters}
            for key, reply in latest.items()]


def below(tree: Tree, turn: int) -> list[int]:
    """``turn`` and every turn under it, on every branch."""
    found, stack = [], [turn]
    while stack:
        found.append(stack.pop())
        stack.extend(tree.children.get(found[-1], []))
    return found


def abandoned_replies_stop(*, conversation: Conversation, tree: Tree, turn: int) -> list[Message]:
    """Stop the replies still generating on ``turn`` and below it. A reply that ended meanwhile is skipped;
    ``ChatUnavailable`` (503) when the stream service cannot be reached to stop a streaming one."""
    stopped, unreachable = [], None
    active = conversation.messages.filter(role=Role.ASSISTANT, status__in=ACTIVE_STATUSES,
                                          reply_to_id__in=below(tree, turn))
    for reply in active.order_by("id"):
        try:
            stopped.append(reply_cancel(reply=reply))
        except ChatConflict:
            continue
        except ChatError as exc:
            unreachable = unreachable or exc
    if unreachable is not None:
        raise unreachable
    return stopped


def message_edit(*, user, message: Message, text, columns=None, attachments=None) -> SendResult:
    """Send ``text`` in place of the user's ``message``: a new branch at its point of the tree.

    ``columns`` (a send's full form) defaults to the edited turn's own (``turn_columns``); each column's
    thread is the path up to the edited message's parent. ``attachments``: pending uploads, as a send's.
    Replies generating on the edited turn or below are stopped first. Not a turn of the user's: 404.
    """
    conversation = message.conversation
    if not is_turn(message) or conversation.owner_id != user.pk:
        raise ChatNotFound("No such message.")
    message_clean(text)
    if columns is None:
        defaults = turn_columns(message)
        if not defaults:
            raise ChatInputError("This message has no replies to repeat: name the columns.", field="columns")
        cleaned = clean_columns(defaults)
    else:
        cleaned = clean_columns(columns)
    send = SendInput(message=text, columns=cleaned, attachments=clean_attachment_ids(attachments))
    limits.check_send_rate(user)
    # Refused uploads are refused before anything is stopped; the send's transaction checks them again, locked.
    pending_attachments_get(owner=user, attachment_ids=send.attachments)
    abandoned_replies_stop(conversation=conversation, tree=load_tree(conversation.pk), turn=message.pk)
    with transaction.atomic():
        _check_limits(user, len(send.columns))
        uploads = pending_attachments_get(owner=user, attachment_ids=send.attachments, lock=True)
        estimates = columns_estimate(conversation=conversation, columns=send.columns, message=send.message,
                                     attachments=uploads, wait_for_tokenizer=False,
                                     turns=earlier_turns(conversation, follows=message.parent_id))
        # Read in the storing transaction: a concurrent edit's sibling is counted once it has committed.
        siblings = list(Message.objects.filter(conversation=conversation, role=Role.USER, reply_to__isnull=True,
                                               parent_id=message.parent_id).order_by("id").values_list("id", flat=True))
        user_message, replies = turn_store(
            conversation=conversation, send=send, parent_id=message.parent_id, siblings=siblings,
            attachments=uploads, estimates=estimates, changed=[], conversation_changed=True)
    return SendResult(conversation, user_message, replies, False)


def conversation_branch_switch(*, conversation: Conversation, turn_id) -> Conversation:
    """Show the branch through the turn ``turn_id``: ``active_leaf`` becomes the end of its newest line.

    A turn not in this conversation: 404, nothing changed.
    """
    tree = load_tree(conversation.pk)
    try:
        turn = int(turn_id)
    except (TypeError, ValueError):
        raise ChatNotFound("No such turn in this conversation.") from None
    if turn not in tree:
        raise ChatNotFound("No such turn in this conversation.")
    with transaction.atomic():
        conversation.active_leaf_id = tree.newest_leaf(turn)
        # Not updated_at: looking at another branch is not activity that reorders the sidebar.
        conversation.save(update_fields=["active_leaf"])
        events.publish_on_commit(conversation.pk, [events.conversation_updated(conversation_data(conversation))])
    return conversation

