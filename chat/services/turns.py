"""A user's writes on a turn: send it, regenerate a reply, stop one, choose one (a ``best`` vote).

A send stores the user's message and one pending reply per column in one transaction, under the
user's limits, then announces the replies (``chat.hooks``) and publishes what it stored
(``chat.events``), both after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from chat import events, hooks, limits
from chat.attachments.selectors import pending_attachments_get
from chat.attachments.services import attachments_attach
from chat.context import earlier_turns
from chat.errors import ChatConflict, ChatInputError, ChatUnavailable
from chat.models import ACTIVE_STATUSES, Conversation, Message, ReplyStatus, Role
from chat.serializers import conversation_data, message_data
from chat.stream_store import StreamStoreUnavailable, stream_store
from chat.tree import active_leaf, load_tree
from chat.usage.estimate import columns_estimate

from .blind import blind_turn_label, blind_version_of
from .conversations import conversation_create, title_from_message
from .inputs import SendInput
from .send_writes import conversation_save, estimates_update, messages_insert
from .votes import vote_cast


@dataclass(frozen=True)
class SendResult:
    conversation: Conversation
    user_message: Message
    replies: list[Message]
    conversation_created: bool
    # ``conversation``, ``user_message`` and ``replies`` as the output serializers show them: the events'
    # data, which a response reuses rather than serializing the same rows again.
    shown: dict = field(default_factory=dict)


def _check_limits(user, new_replies: int) -> None:
    """The user's cap on active replies and monthly budget; call in the storing transaction."""
    limits.check_new_replies(user, new_replies, limits.lock_user_and_read_limits(user))


def turn_to_follow(conversation: Conversation) -> int | None:
    """The last turn of the branch on screen, which a new message follows."""
    if conversation.active_leaf_id is not None:
        return conversation.active_leaf_id
    return active_leaf(conversation, load_tree(conversation.pk))


def message_send(*, user, conversation: Conversation | None, send: SendInput) -> SendResult:
    """Store the user's message and one pending reply per column, then start generating them.

    ``conversation`` None starts a new one, titled from the message. Each reply keeps its column's
    key (its thread) and the estimate of its cost as the turn was sent.
    """
    limits.check_send_rate(user)
    with transaction.atomic():
        _check_limits(user, len(send.columns))
        created = conversation is None
        if created:
            conversation = conversation_create(owner=user, title=title_from_message(send.message))
        changed = []
        if send.system_prompt is not None and send.system_prompt != conversation.system_prompt:
            conversation.system_prompt = send.system_prompt
            changed.append("system_prompt")
        if not conversation.title:
            conversation.title = title_from_message(send.message)
            changed.append("title")
        attachments = pending_attachments_get(owner=user, attachment_ids=send.attachments, lock=True)
        # The new turn follows the branch on screen (chat/tree.py); two tabs sending at once make two branches.
        # active_leaf names a leaf, so the new turn has no sibling to report but another tab's concurrent
        # one, which shows as a branch when the conversation is read again.
        user_message, replies = turn_store(
            conversation=conversation, send=send, parent_id=None if created else turn_to_follow(conversation),
            siblings=[], attachments=attachments, changed=changed)
    return turn_publish(conversation=conversation, created=created, user_message=user_message, replies=replies,
                        send=send, attachments=attachments, conversation_changed=created or bool(changed))


def turn_store(*, conversation: Conversation, send: SendInput, parent_id: int | None, siblings: list[int],
               attachments, changed: list[str]) -> tuple[Message, list[Message]]:
    """Store a user message following the turn ``parent_id`` and one pending reply per column; make it the end
    of the branch on screen; start the replies after commit (``turn_publish`` says what was stored).

    Call inside the storing transaction. ``siblings``: the turns already following ``parent_id`` (the
    branches this one joins); ``changed``: the conversation's fields changed by the caller, saved here.
    """
    [user_message] = messages_insert([Message(conversation=conversation, role=Role.USER, content=send.message,
                                              parent_id=parent_id)])
    user_message.tree_siblings = [*siblings, user_message.pk]
    conversation.active_leaf = user_message
    conversation_save(conversation, [*changed, "active_leaf", "updated_at"])
    if attachments:  # most sends have none: no UPDATE to build
        attachments_attach(attachments=attachments, message=user_message)
    # One INSERT … RETURNING for every column's reply (Message has no save() or signals to skip).
    replies = [
        Message(
            conversation=conversation, role=Role.ASSISTANT, provider=column.provider, model=column.model,
            column=column.key, reply_to=user_message, status=ReplyStatus.PENDING, parameters=column.parameters,
        )
        for column in send.columns
    ]
    if conversation.blind:
        blind_turn_label(replies)
    replies = messages_insert(replies)
    # The replies start first: their provider calls wait for neither the estimate nor the publish. A
    # socket that gets a reply's text before its message.created fetches the reply (chat/static/chat/live.js).
    hooks.announce_replies_stored([reply.pk for reply in replies])
    return user_message, replies


def turn_publish(*, conversation: Conversation, created: bool, user_message: Message, replies: list[Message],
                 send: SendInput, attachments, conversation_changed: bool) -> SendResult:
    """After a turn is stored: its replies' estimates, then the events of what was stored (after commit)."""
    _store_estimates(conversation=None if created else conversation, user_message=user_message, replies=replies,
                     send=send, attachments=attachments)
    _mark_new_turn_read(user_message=user_message, replies=replies, attachments=attachments)
    shown = {"conversation": conversation_data(conversation), "user_message": message_data(user_message),
             "replies": [message_data(reply) for reply in replies]}
    event_list = []
    if conversation_changed:
        event_list.append(events.conversation_updated(shown["conversation"]))
    event_list += [events.message_created(data) for data in [shown["user_message"], *shown["replies"]]]
    events.publish_on_commit(conversation.pk, event_list)
    return SendResult(conversation, user_message, replies, created, shown)


def _store_estimates(*, conversation: Conversation | None, user_message: Message, replies: list[Message],
                     send: SendInput, attachments) -> None:
    """Each reply's estimate, as ``POST /api/chat/estimate`` counts it (the thread of the path before this
    turn), stored once the replies have started: their provider calls need not wait for the thread query, the
    prices and the tokenizer. One UPDATE; the worker writes a reply's other fields only."""
    turns = None if conversation is None else earlier_turns(conversation, follows=user_message.parent_id)
    estimates = columns_estimate(conversation=conversation, columns=send.columns, message=send.message,
                                 system_prompt=send.system_prompt, attachments=attachments, turns=turns,
                                 wait_for_tokenizer=False)
    for reply, estimate in zip(replies, estimates, strict=True):
        reply.estimate = estimate.as_dict()
    # One UPDATE in autocommit, not bulk_update's BEGIN, UPDATE, COMMIT: a single statement is atomic.
    estimates_update(replies)


def _mark_new_turn_read(*, user_message: Message, replies: list[Message], attachments) -> None:
    """Give the serializer what it would query of a turn just stored: its files and its vote, known already.

    The user message holds the attachments just bound to it, the replies none, and a new turn has no
    vote yet; so the events and the response are built without a query (Django's prefetch cache).
    """
    for attachment in attachments:
        attachment.message = user_message
    for message, files in ((user_message, attachments), *((reply, []) for reply in replies)):
        prefetched = message.attachments.all()
        prefetched._result_cache = sorted(files, key=lambda attachment: attachment.pk)  # the model's ordering
        prefetched._prefetch_done = True
        message.__dict__.setdefault("_prefetched_objects_cache", {})["attachments"] = prefetched
    Message._meta.get_field("vote").set_cached_value(user_message, None)


def reply_regenerate(*, reply: Message) -> Message:
    """A new reply from the same column (provider, model, settings, thread) to the same user message."""
    if reply.role != Role.ASSISTANT:
        raise ChatInputError("Only an assistant reply can be regenerated.")
    owner = reply.conversation.owner
    limits.check_send_rate(owner)
    with transaction.atomic():
        _check_limits(owner, 1)
        new_reply = Message.objects.create(
            conversation=reply.conversation, role=Role.ASSISTANT, provider=reply.provider, model=reply.model,
            column=reply.column, reply_to=reply.reply_to, status=ReplyStatus.PENDING, parameters=reply.parameters,
            estimate=reply.estimate, fuse=reply.fuse, **blind_version_of(reply),
        )
        reply.conversation.save(update_fields=["updated_at"])
        hooks.announce_replies_stored([new_reply.pk])
        events.publish_on_commit(reply.conversation_id, [events.message_created(message_data(new_reply))])
    return new_reply


def reply_cancel(*, reply: Message) -> Message:
    """Stop a reply. A pending one ends here; a streaming one is stopped by whichever worker runs it."""
    if reply.role != Role.ASSISTANT or reply.status not in ACTIVE_STATUSES:
        raise ChatConflict("This reply is not generating.")
    with transaction.atomic():
        stopped_before_start = Message.objects.filter(pk=reply.pk, status=ReplyStatus.PENDING).update(
            status=ReplyStatus.CANCELLED, completed_at=timezone.now(), updated_at=timezone.now()
        )
        reply.refresh_from_db()
        if stopped_before_start:
            events.publish_on_commit(reply.conversation_id, [events.message_ended(message_data(reply))])
    if not stopped_before_start and reply.stream_key:
        # Not pending any more, so claimed: the flag is named by this claim's stream key.
        try:
            stream_store().request_cancel([reply.stream_key])
        except StreamStoreUnavailable:
            raise ChatUnavailable("The reply cannot be stopped right now: the stream service is unreachable.") \
                from None
    return reply


def reply_choose(*, reply: Message) -> Message:
    """Choose this reply as the answer of its turn: a ``best`` vote for it (chat/services/votes.py)."""
    if reply.role != Role.ASSISTANT or reply.status != ReplyStatus.COMPLETE:
        raise ChatConflict("Only a completed reply can be chosen.")
    if reply.reply_to_id is None:
        raise ChatConflict("This reply answers no message of the conversation, so it cannot be chosen.")
    vote_cast(turn=reply.reply_to, outcome="best", winners=[reply.pk])
    reply.refresh_from_db()
    return reply
