"""Folders and pins: how a user arranges the conversation list (one level of folders, pins on top).

Neither counts as activity: moving or pinning a conversation leaves ``updated_at`` (the list's
"last activity") as it was. A conversation's sockets are told through ``conversation.updated``;
folder renames and deletes are not sent to sockets (the sidebar reloads its folders).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat import events
from chat.errors import ChatInputError
from chat.models import Conversation, Folder
from chat.serializers import conversation_data

from .inputs import clean_text

MAX_FOLDER_NAME_CHARS = 100
MAX_FOLDERS_PER_USER = 200


def clean_folder_name(name: str, *, owner, folder: Folder | None = None) -> str:
    """The name trimmed, 1 to 100 characters, not already another of the owner's folders (any case)."""
    name = clean_text(name if isinstance(name, str) else "", field="name").strip()
    if not name:
        raise ChatInputError("A folder needs a name.", field="name")
    if len(name) > MAX_FOLDER_NAME_CHARS:
        raise ChatInputError(f"A folder's name is at most {MAX_FOLDER_NAME_CHARS} characters.", field="name")
    taken = Folder.objects.filter(owner=owner, name__iexact=name)
    if folder is not None:
        taken = taken.exclude(pk=folder.pk)
    if taken.exists():
        raise ChatInputError(f"You already have a folder named “{name}”.", field="name")
    return name


def _save_named(folder: Folder, **save_kwargs) -> Folder:
    # Two tabs creating the same name at once: the unique constraint decides, the loser gets the 400.
    try:
        with transaction.atomic():
            folder.save(**save_kwargs)
    except IntegrityError:
        raise ChatInputError(f"You already have a folder named “{folder.name}”.", field="name") from None
    return folder


def folder_create(*, owner, name: str) -> Folder:
    name = clean_folder_name(name, owner=owner)
    if Folder.objects.filter(owner=owner).count() >= MAX_FOLDERS_PER_USER:
        raise ChatInputError(f"You can have at most {MAX_FOLDERS_PER_USER} folders.", field="name")
    return _save_named(Folder(owner=owner, name=name))


def folder_rename(*, folder: Folder, name: str) -> Folder:
    folder.name = clean_folder_name(name, owner=folder.owner_id, folder=folder)
    return _save_named(folder, update_fields=["name"])


def folder_delete(*, folder: Folder) -> None:
    """Delete the folder; its conversations stay, outside any folder (``on_delete=SET_NULL``)."""
    folder.delete()


def conversation_move(*, conversation: Conversation, folder: Folder | None) -> Conversation:
    """Put a conversation in one of its owner's folders, or (``folder=None``) out of any."""
    if folder is not None and folder.owner_id != conversation.owner_id:
        raise ChatInputError("No such folder.", field="folder")
    if conversation.folder_id == (folder.pk if folder else None):
        return conversation
    conversation.folder = folder
    return _conversation_save(conversation, "folder")


def conversation_pin(*, conversation: Conversation, pinned: bool = True) -> Conversation:
    """Pin a conversation to the top of the list (or unpin it); pinning again keeps its place."""
    if bool(conversation.pinned_at) == pinned:
        return conversation
    conversation.pinned_at = timezone.now() if pinned else None
    return _conversation_save(conversation, "pinned_at")


def _conversation_save(conversation: Conversation, field: str) -> Conversation:
    with transaction.atomic():
        conversation.save(update_fields=[field])  # not updated_at: arranging is not activity
        events.publish_on_commit(conversation.pk, [events.conversation_updated(conversation_data(conversation))])
    return conversation
