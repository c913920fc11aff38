"""The conversation tree through the API: edit and resend (a new branch), switch branches, the
active path in the conversation's data, the replies an edit stops, and refusals that change nothing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import events
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.services import conversation_create, reply_regenerate
from tests.conftest import send_turn

pytestmark = pytest.mark.django_db

COLUMNS = [{"key": "left", "provider": "demo", "model": "demo-echo", "temperature": 0.3},
           {"key": "right", "provider": "demo", "model": "demo-markdown", "max_tokens": 50}]


def finish(user_message: Message, text: str = "") -> None:
    """End every reply of a turn, as a provider's answer would."""
    for reply in Message.objects.filter(reply_to=user_message):
        Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.COMPLETE,
                                                   content=text or f"{reply.column} answers {user_message.content}")


def turn(user, conversation, text, columns=COLUMNS, done=True):
    result = send_turn(user=user, conversation=conversation, message=text, columns=columns)
    if done:
        finish(result.user_message)
    return result.user_message


def edit(client, message_id, **body):
    return client.post(f"/api/chat/messages/{message_id}/edit", {"message": "edited", **body}, format="json")


def detail(client, conversation_id):
    return client.get(f"/api/chat/conversations/{conversation_id}").json()


def turns_of(data):
    return [m["content"] for m in data["messages"] if m["role"] == "user"]


@pytest.fixture
def published(monkeypatch):
    """The events each commit publishes: [(conversation id, [event, …])]."""
    sent = []
    monkeypatch.setattr(events, "publish_from_sync", lambda conversation_id, batch: sent.append((conversation_id,
                                                                                                  batch)))
    return sent


def test_an_edit_is_a_new_branch_beside_the_edited_message_and_the_old_one_stays(user, auth_client):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1")
    q2 = turn(user, conversation, "q2")
    q3 = turn(user, conversation, "q3")

    response = edit(auth_client, q2.pk, message="q2, better")

    assert response.status_code == 202, response.content
    body = response.json()
    new = body["user_message"]
    assert (new["content"], new["parent"]) == ("q2, better", q1.pk)
    assert new["branch"] == {"index": 2, "count": 2, "siblings": [q2.pk, new["id"]]}
    assert body["conversation"]["active_leaf"] == new["id"]
    assert [(r["column"], r["provider"], r["model"], r["parameters"], r["status"]) for r in body["replies"]] == [
        ("left", "demo", "demo-echo", {"temperature": 0.3}, "pending"),
        ("right", "demo", "demo-markdown", {"max_tokens": 50}, "pending"),
    ]
    data = detail(auth_client, conversation.pk)
    assert turns_of(data) == ["q1", "q2, better"]
    assert data["active_leaf"] == new["id"]
    assert [m["branch"]["count"] for m in data["messages"] if m["role"] == "user"] == [1, 2]
    # The old branch is kept whole: q2, its replies, and q3 below it.
    assert Message.objects.filter(reply_to__in=[q2, q3], status=ReplyStatus.COMPLETE).count() == 4
    assert Message.objects.get(pk=q3.pk).parent_id == q2.pk


def test_an_edit_repeats_each_columns_latest_version_and_not_a_fused_reply(user, auth_client):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1")
    left = Message.objects.get(reply_to=q1, column="left")
    again = reply_regenerate(reply=left)
    Message.objects.filter(pk=again.pk).update(model="demo-slow", parameters={"temperature": 1.1})
    Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="demo", model="demo-echo",
                           column="fuse", reply_to=q1, status=ReplyStatus.COMPLETE, content="fused",
                           fuse={"sources": [left.pk], "prompt": "p"})

    replies = edit(auth_client, q1.pk).json()["replies"]

    assert [(r["column"], r["model"], r["parameters"]) for r in replies] == [
        ("left", "demo-slow", {"temperature": 1.1}), ("right", "demo-markdown", {"max_tokens": 50})]


def test_an_edit_may_name_its_own_columns(user, auth_client):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1")

    response = edit(auth_client, q1.pk, columns=[{"provider": "demo", "model": "demo-echo", "key": "solo"}])

    assert [r["column"] for r in response.json()["replies"]] == ["solo"]
    assert response.json()["user_message"]["parent"] is None


def test_an_edit_stops_the_replies_generating_on_the_abandoned_branch_only(user, auth_client):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1", done=False)
    q2 = turn(user, conversation, "q2", done=False)
    q3 = turn(user, conversation, "q3", done=False)
    # Another branch under q2, not on screen: below the edited point too.
    Conversation.objects.filter(pk=conversation.pk).update(active_leaf=q2)
    conversation.refresh_from_db()
    q3b = turn(user, conversation, "q3b", done=False)

    assert edit(auth_client, q2.pk).status_code == 202

    statuses = {m.pk: set() for m in [q1, q2, q3, q3b]}
    for reply in Message.objects.filter(reply_to__in=statuses):
        statuses[reply.reply_to_id].add(reply.status)
    assert statuses == {q1.pk: {"pending"}, q2.pk: {"cancelled"}, q3.pk: {"cancelled"}, q3b.pk: {"cancelled"}}


def test_the_edit_reaches_other_tabs_as_the_conversation_with_its_new_active_leaf(
        user, auth_client, published, django_capture_on_commit_callbacks, monkeypatch):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1")
    # Only the events are read: the new replies must not be left queued for a worker that never comes.
    monkeypatch.setattr("chat.hooks._send", lambda reply_ids: None)

    with django_capture_on_commit_callbacks(execute=True):
        new = edit(auth_client, q1.pk).json()["user_message"]

    [(conversation_id, batch)] = published
    assert conversation_id == conversation.pk
    assert [e["type"] for e in batch] == ["conversation.updated", "message.created", "message.created",
                                          "message.created"]
    assert batch[0]["conversation"]["active_leaf"] == new["id"]
    assert batch[1]["message"]["branch"] == {"index": 2, "count": 2, "siblings": [q1.pk, new["id"]]}


@pytest.mark.parametrize("whose", ["another user's", "a reply", "unknown"])
def test_an_edit_of_what_is_not_ones_own_message_is_404_and_changes_nothing(user, other_user, auth_client, whose):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1", done=False)
    theirs = turn(other_user, conversation_create(owner=other_user), "theirs", done=False)
    target = {"another user's": theirs.pk, "a reply": Message.objects.filter(reply_to=q1).first().pk,
              "unknown": 10**9}[whose]
    before = list(Message.objects.order_by("id").values_list("id", "status"))

    response = edit(auth_client, target)

    assert response.status_code == 404
    assert response.json()["detail"]
    assert list(Message.objects.order_by("id").values_list("id", "status")) == before
    assert Conversation.objects.get(pk=conversation.pk).active_leaf_id == q1.pk


def test_a_bad_edit_is_400_and_stores_nothing(user, auth_client):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1", done=False)
    count = Message.objects.count()

    for body in ({"message": "  "}, {"columns": [{"provider": "nobody"}]},
                 {"columns": [{"provider": "demo", "history": "everything"}]}):
        response = edit(auth_client, q1.pk, **body)
        assert response.status_code == 400, body
        assert response.json()["detail"]
    assert Message.objects.count() == count
    assert set(Message.objects.filter(reply_to=q1).values_list("status", flat=True)) == {"pending"}


def test_switching_branch_shows_the_newest_line_through_the_turn_and_survives_a_reload(
        user, auth_client, published, django_capture_on_commit_callbacks):
    conversation = conversation_create(owner=user)
    turn(user, conversation, "q1")
    q2 = turn(user, conversation, "q2")
    q3 = turn(user, conversation, "q3")
    edit(auth_client, q2.pk, message="q2 again")
    updated_at = Conversation.objects.get(pk=conversation.pk).updated_at

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/branch", {"turn": q2.pk},
                                    format="json")

    assert response.status_code == 200
    assert response.json()["active_leaf"] == q3.pk
    assert turns_of(response.json()) == ["q1", "q2", "q3"]
    assert turns_of(detail(auth_client, conversation.pk)) == ["q1", "q2", "q3"]
    [(_, [event])] = published
    assert (event["type"], event["conversation"]["active_leaf"]) == ("conversation.updated", q3.pk)
    # A switch is not activity: the sidebar's order stays.
    assert Conversation.objects.get(pk=conversation.pk).updated_at == updated_at


@pytest.mark.parametrize("what", ["a turn of another conversation", "a reply", "unknown", "not a number"])
def test_switching_to_a_branch_that_is_not_there_is_404_and_changes_nothing(user, auth_client, what):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1")
    elsewhere = turn(user, conversation_create(owner=user), "elsewhere")
    target = {"a turn of another conversation": elsewhere.pk, "a reply": Message.objects.filter(reply_to=q1)[0].pk,
              "unknown": 10**9, "not a number": "x"}[what]

    response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/branch", {"turn": target},
                                format="json")

    assert response.status_code == (400 if what == "not a number" else 404)
    assert response.json()["detail"]
    assert Conversation.objects.get(pk=conversation.pk).active_leaf_id == q1.pk


def test_someone_elses_conversation_cannot_be_switched(user, other_user, auth_client):
    theirs = conversation_create(owner=other_user)
    q1 = turn(other_user, theirs, "q1")

    response = auth_client.post(f"/api/chat/conversations/{theirs.pk}/branch", {"turn": q1.pk}, format="json")

    assert response.status_code == 404


def test_the_pages_of_a_long_branch_follow_its_path(user, auth_client, settings):
    conversation = conversation_create(owner=user)
    first = [turn(user, conversation, f"t{i}", columns=COLUMNS[:1]) for i in range(4)]
    edit(auth_client, first[1].pk, message="t1 edited", columns=COLUMNS[:1])
    conversation.refresh_from_db()
    for i in range(2, 5):
        turn(user, conversation, f"u{i}", columns=COLUMNS[:1])

    from chat.selectors import conversation_messages_page

    newest = conversation_messages_page(conversation=conversation, turns=2)
    older = conversation_messages_page(conversation=conversation, turns=2,
                                       before=Message.objects.get(pk=newest.before))
    oldest = conversation_messages_page(conversation=conversation, turns=2,
                                        before=Message.objects.get(pk=older.before))

    def users(page):
        return [m.content for m in page.messages if m.role == Role.USER]

    assert (users(oldest), users(older), users(newest)) == (["t0"], ["t1 edited", "u2"], ["u3", "u4"])
    assert oldest.before is None


def branched(user, client, turns: int, edits: int) -> tuple[Conversation, Message]:
    """A conversation of ``turns`` finished turns with ``edits`` of its last one (its branches)."""
    conversation = conversation_create(owner=user)
    last = None
    for i in range(turns):
        last = turn(user, conversation, f"t{i}")
    for i in range(edits):
        finish(Message.objects.get(pk=edit(client, last.pk, message=f"t again {i}").json()["user_message"]["id"]))
    conversation.refresh_from_db()
    return conversation, last


def test_the_tree_costs_the_same_queries_however_many_turns_and_branches(user, auth_client):
    small, small_last = branched(user, auth_client, turns=2, edits=0)
    large, large_last = branched(user, auth_client, turns=8, edits=3)

    def queries(method, path, body=None):
        with CaptureQueriesContext(connection) as captured:
            response = getattr(auth_client, method)(path, body, format="json")
        assert response.status_code in (200, 202), response.content
        return len(captured)

    for conversation, last in ((small, small_last), (large, large_last)):
        conversation.counts = (
            queries("get", f"/api/chat/conversations/{conversation.pk}"),
            queries("post", f"/api/chat/conversations/{conversation.pk}/branch", {"turn": last.pk}),
            queries("post", f"/api/chat/messages/{last.pk}/edit", {"message": "once more"}),
        )
    assert small.counts == large.counts


def test_search_finds_text_on_every_branch_with_the_turn_that_opens_it(user, auth_client):
    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1 about zebras")
    Message.objects.filter(reply_to=q1, column="left").update(content="a striped zebra answer")
    Message.objects.filter(reply_to=q1, column="right").update(content="a lion answer")
    edit(auth_client, q1.pk, message="q1 about lions")

    hits = auth_client.get("/api/chat/search", {"q": "zebra"}).json()["results"]

    assert sorted((hit["role"], hit["turn"]) for hit in hits) == [("assistant", q1.pk), ("user", q1.pk)]
    opened = auth_client.post(f"/api/chat/conversations/{conversation.pk}/branch", {"turn": hits[0]["turn"]},
                              format="json").json()
    assert turns_of(opened) == ["q1 about zebras"]


def test_an_imported_file_of_one_line_becomes_one_branch(user, auth_client):
    from chat.exports import conversations_export_json
    from chat.imports import conversations_import

    conversation = conversation_create(owner=user)
    for text in ("q1", "q2", "q3"):
        turn(user, conversation, text)

    [copy] = conversations_import(owner=user, raw=conversations_export_json([conversation])).conversations

    data = detail(auth_client, copy.pk)
    assert turns_of(data) == ["q1", "q2", "q3"]
    assert [m["branch"]["count"] for m in data["messages"] if m["role"] == "user"] == [1, 1, 1]
    assert data["active_leaf"] == data["messages"][-3]["id"]


def test_an_edit_with_someone_elses_upload_is_404_and_stops_nothing(user, other_user, auth_client):
    from chat.attachments.services import attachment_upload

    conversation = conversation_create(owner=user)
    q1 = turn(user, conversation, "q1", done=False)
    theirs = attachment_upload(owner=other_user, name="b.txt", data=b"beta")

    response = edit(auth_client, q1.pk, attachments=[theirs.pk])

    assert response.status_code == 404 and "attachment" in response.json()["detail"]
    assert set(Message.objects.filter(reply_to=q1).values_list("status", flat=True)) == {"pending"}
    assert Message.objects.filter(role=Role.USER).count() == 1
