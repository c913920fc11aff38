"""Writing checked conversations (chat/imports/checks.py ``Checked``): one transaction for a whole file."""

from __future__ import annotations

from django.db import connections, router, transaction

from .. import limits
from ..models import Conversation, Message, Role, Vote
from .checks import Checked, Item

STAMPS = {"created_at", "updated_at"}


def conversations_store(*, owner, conversations: list[Checked]) -> list[Conversation]:
    """Create these conversations for ``owner``, all or none (``chat.errors.StorageFull`` for none).

    A handful of statements for the whole file, however many conversations it holds (a ChatGPT
    export has thousands): the conversations in one insert, their messages in batches, then the
    links and times that need the new ids.
    """
    adding = sum(len(item.fields["content"]) for checked in conversations for item in checked.items)
    with transaction.atomic():
        limits.lock_user_and_read_limits(owner)
        limits.check_storage(owner, adding)
        created = Conversation.objects.bulk_create(
            [Conversation(owner=owner, **{k: v for k, v in checked.fields.items() if k not in STAMPS})
             for checked in conversations], batch_size=500)
        rows = [Message(conversation=conversation, imported=True,
                        **{k: v for k, v in item.fields.items() if k not in STAMPS})
                for checked, conversation in zip(conversations, created, strict=True) for item in checked.items]
        # One insert in file order, so ids keep the order of turns (chat/context.py relies on it).
        Message.objects.bulk_create(rows, batch_size=500)
        rows_of = iter(rows)
        for checked, conversation in zip(conversations, created, strict=True):
            _link(owner, checked, conversation, [next(rows_of) for _ in checked.items])
        _update(Message, rows, LINKED_FIELDS)
        _update(Conversation, created, ("active_leaf", "created_at", "updated_at"))
    return created


def _link(owner, checked: Checked, conversation: Conversation, rows: list[Message]) -> None:
    """Set the links between a conversation's new rows (by the file's ids) and the file's times; store its votes."""
    by_ref = {item.ref: row for item, row in zip(checked.items, rows, strict=True) if item.ref is not None}
    previous_turn = None
    for item, row in zip(checked.items, rows, strict=True):
        row.reply_to = by_ref.get(item.reply_to)
        if row.role == Role.USER and row.reply_to is None:
            # An older file is one line: each turn follows the one before.
            row.parent = by_ref.get(item.parent) if checked.tree else previous_turn
            previous_turn = row
        if row.fuse:  # a source the file does not hold is left out
            row.fuse["sources"] = [by_ref[ref].pk for ref in row.fuse["sources"] if ref in by_ref]
        # auto_now(_add) set the times on insert; the file's are put back here.
        row.created_at = item.fields["created_at"] or row.created_at
        row.updated_at = item.fields["updated_at"] or row.updated_at
    _votes(owner=owner, conversation=conversation, items=checked.items, by_ref=by_ref, rows=rows)
    if checked.active_leaf is not None:
        conversation.active_leaf = by_ref[checked.active_leaf]
    else:  # a tree without one shows its newest line (chat/tree.py), a line its last turn
        conversation.active_leaf = None if checked.tree else previous_turn
    conversation.created_at = checked.fields["created_at"] or conversation.created_at
    conversation.updated_at = checked.fields["updated_at"] or conversation.updated_at


LINKED_FIELDS = ("reply_to", "parent", "created_at", "updated_at", "fuse")


def _update(model, rows: list, names: tuple[str, ...]) -> None:
    """Write these fields of rows just inserted: one statement, run per row.

    ``bulk_update`` builds a CASE expression per field and row in Python: 0.5 s per 40-message
    conversation on a busy test machine, most of an import's time. Values go through each field's
    own conversion, as an ORM update's would.
    """
    connection = connections[router.db_for_write(model)]
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
           f"WHERE {quote(model._meta.pk.column)} = %s")
    params = [[field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields] + [row.pk]
              for row in rows]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _votes(*, owner, conversation: Conversation, items: list[Item], by_ref: dict, rows: list) -> None:
    for item, row in zip(items, rows, strict=True):
        vote = item.vote
        if not vote:
            continue
        judged = [{"id": by_ref[entry.get("id")].pk, "provider": str(entry.get("provider", ""))[:100],
                   "model": str(entry.get("model", ""))[:200]}
                  for entry in vote["replies"] if entry.get("id") in by_ref]
        stored = Vote.objects.create(
            user=owner, conversation=conversation, turn=row, outcome=vote["outcome"],
            winners=[by_ref[ref].pk for ref in vote["winners"]], replies=judged, blind=vote["blind"],
            revealed_before=vote["revealed_before"])
        Vote.objects.filter(pk=stored.pk).update(created_at=vote["created_at"] or stored.created_at,
                                                 updated_at=vote["updated_at"] or stored.updated_at)
