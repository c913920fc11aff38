"""Reading conversations costs a fixed number of queries, however many there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Message, ReplyStatus, Role
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def make_conversations(user, count: int, messages_each: int = 2):
    conversations = []
    for i in range(count):
        conversation = conversation_create(owner=user, title=f"conversation {i}")
        question = None
        for j in range(messages_each):
            if j % 2 == 0:
                question = Message.objects.create(conversation=conversation, role=Role.USER, content=f"question {j}",
                                                  parent=question)
            else:
                Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content=f"**answer** {j}",
                                       provider="demo", model="demo-echo", reply_to=question,
                                       status=ReplyStatus.COMPLETE)
        conversations.append(conversation)
    return conversations


def queries_of(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


def test_the_conversation_list_costs_the_same_queries_for_one_or_twenty(auth_client, user, django_assert_num_queries):
    make_conversations(user, 1)
    one = queries_of(auth_client, "/api/chat/conversations")
    make_conversations(user, 19)
    with django_assert_num_queries(one):
        body = auth_client.get("/api/chat/conversations").json()
    assert body["count"] == 20 and len(body["results"]) == 20
    assert all(item["preview"] == "answer 1" for item in body["results"])
    # The count for the page links, and the page with each conversation's preview.
    assert one == 2


def test_a_conversations_detail_costs_the_same_queries_for_one_or_twenty_messages(auth_client, user,
                                                                                 django_assert_num_queries):
    [small] = make_conversations(user, 1, messages_each=1)
    [large] = make_conversations(user, 1, messages_each=20)
    one = queries_of(auth_client, f"/api/chat/conversations/{small.pk}")
    with django_assert_num_queries(one):
        body = auth_client.get(f"/api/chat/conversations/{large.pk}").json()
    assert len(body["messages"]) == 20
    assert body["messages"][1]["content_html"].startswith("<p><strong>answer</strong>")
    # The access check, the page's turns, their messages, then the messages' attachments.
    assert one == 4
