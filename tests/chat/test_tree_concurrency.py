"""Two tabs editing the same message at once make two branches and a sound tree.

On PostgreSQL both edits are inside their transactions at the same moment (each has run a
statement, then they meet); the user's row lock (chat/limits.py) then orders their writes. SQLite
takes its write lock when a transaction begins, so there the two meet just before their transactions.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from chat.models import Conversation, Message, Role
from chat.services import conversation_create, edits, message_edit
from chat.tree import load_tree
from tests.conftest import send_turn

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = [{"provider": "demo", "model": "demo-echo"}, {"provider": "demo", "model": "demo-markdown"}]


def test_two_edits_of_one_message_at_once_make_two_branches(user, monkeypatch):
    # Nothing generates: the test reads the stored tree only.
    monkeypatch.setattr("chat.hooks._send", lambda reply_ids: None)
    conversation = conversation_create(owner=user)
    q1 = send_turn(user=user, conversation=conversation, message="q1", columns=COLUMNS).user_message
    q2 = send_turn(user=user, conversation=conversation, message="q2", columns=COLUMNS).user_message
    meet = threading.Barrier(2, timeout=20)
    in_transaction = connection.vendor == "postgresql"
    if in_transaction:
        check_limits = edits._check_limits

        def meet_then_lock(user, new_replies):
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")  # the transaction has begun on the server
            meet.wait()
            check_limits(user, new_replies)

        monkeypatch.setattr(edits, "_check_limits", meet_then_lock)
    results, errors = [], []

    def tab(text):
        try:
            if not in_transaction:
                meet.wait()
            message = Message.objects.select_related("conversation").get(pk=q2.pk)
            results.append(message_edit(user=user, message=message, text=text))
        except Exception as exc:  # reported below, with the other tab's outcome
            errors.append(exc)
        finally:
            connections.close_all()

    tabs = [threading.Thread(target=tab, args=(text,)) for text in ("edit one", "edit two")]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join(30)

    assert errors == []
    tree = load_tree(conversation.pk)
    new = sorted(result.user_message.pk for result in results)
    assert tree.siblings(q2.pk) == [q2.pk, *new]
    assert {tree.parent[turn] for turn in new} == {q1.pk}
    assert sorted(len(result.replies) for result in results) == [2, 2]
    assert Message.objects.filter(reply_to_id__in=new, role=Role.ASSISTANT).count() == 4
    # Each edit reports the branches it saw: the later one counts the earlier.
    assert sorted(result.user_message.tree_siblings for result in results) == [[q2.pk, new[0]], [q2.pk, *new]]
    assert Conversation.objects.get(pk=conversation.pk).active_leaf_id in new
    assert Message.objects.filter(conversation=conversation, role=Role.USER).count() == 4
