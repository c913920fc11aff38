"""A conversation's own writes: create, change, archive, delete."""

from __future__ import annotations

from django.db import transaction

from chat import events
from chat.errors import ChatInputError
from chat.models import ContextMode, Conversation
from chat.rendering import markdown_to_plain
from chat.serializers import conversation_data

from .conversation_insert import conversation_insert
from .inputs import SHORT_FORM_DEFAULTS, clean_conversation_defaults, clean_system_prompt, clean_text
from .replies import streaming_replies_stop

TITLE_CHARS = 60
UPDATABLE_FIELDS = {"title", "system_prompt", "archived", "default_providers", "default_models", "default_params",
                    "default_columns", "context_mode", "metadata", "blind"}


def title_from_message(text: str) -> str:
    """A conversation's automatic title: the start of its first message as plain text (no Markdown marks).

    A message that is nothing but marks (``---``) keeps its own characters.
    """
    words = markdown_to_plain(text) or " ".join(text.split())
    if len(words) <= TITLE_CHARS:
        return words
    cut = words[:TITLE_CHARS].rsplit(" ", 1)[0] or words[:TITLE_CHARS]
    return cut + "…"


def conversation_create(*, owner, title: str = "", system_prompt: str = "", default_providers=None,
                        default_models=None, default_params=None, default_columns=None,
                        context_mode: str = ContextMode.OWN, archived: bool = False,
                        blind: bool = False) -> Conversation:
    given = {"default_providers": default_providers, "default_models": default_models,
             "default_params": default_params, "default_columns": default_columns}
    defaults = clean_conversation_defaults({name: value for name, value in given.items() if value is not None})
    clean_text(title, field="title")
    clean_system_prompt(system_prompt)
    return conversation_insert(Conversation(
        owner=owner, title=title.strip()[:200], system_prompt=system_prompt, context_mode=context_mode,
        archived=archived, blind=blind, **defaults,
    ))


def conversation_update(*, conversation: Conversation, **fields) -> Conversation:
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ChatInputError(f"Cannot change {', '.join(sorted(unknown))}.")
    clean_conversation_defaults(fields, current={name: getattr(conversation, name) for name in SHORT_FORM_DEFAULTS})
    if isinstance(fields.get("title"), str):
        clean_text(fields["title"], field="title")
    if "system_prompt" in fields:
        clean_system_prompt(fields["system_prompt"])
    for name, value in fields.items():
        setattr(conversation, name, value.strip()[:200] if name == "title" else value)
    with transaction.atomic():
        conversation.save(update_fields=[*fields, "updated_at"])
        events.publish_on_commit(conversation.pk, [events.conversation_updated(conversation_data(conversation))])
    return conversation


def conversation_archive(*, conversation: Conversation, archived: bool = True) -> Conversation:
    """Archive (or, with ``archived=False``, bring back) a conversation; its sockets are told."""
    if conversation.archived == archived:
        return conversation
    return conversation_update(conversation=conversation, archived=archived)


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete it, stopping every reply still generating in it."""
    streaming_replies_stop(messages=conversation.messages.all(), whose=f"conversation {conversation.pk}")
    conversation_id = conversation.pk
    with transaction.atomic():
        conversation.delete()
        events.publish_on_commit(conversation_id, [events.conversation_deleted(conversation_id)])
