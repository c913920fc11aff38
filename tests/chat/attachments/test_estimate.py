"""Attachments in the cost estimate and in each column's request: one code path for both, per column.

Counts by hand, o200k_base (gpt-4o's table) splitting the user message "Why?" with a text file
"a.txt" holding "hi" as (22 tokens):
  "Why" "?\\n\\n" "<<<" "attachment" ' "' "a" ".txt" '"' " (" "text" "/plain" ")\\n" "hi" "\\n" ">>>"
  " end" " of" " attachment" ' "' "a" ".txt" '"'
and, for a column that cannot see images, the same with the image's line after it (40 tokens):
  ... ' "' "a" ".txt" '"\\n\\n' "[" "An" " image" "," ' "' "p" ".png" '",' " was" " attached" " here" ";"
  " this" " model" " cannot" " see" " images" ".]"
A chat request adds 3 tokens a message and 3 for the reply; an image counts IMAGE_TOKENS (1000).
"""

from __future__ import annotations

import pytest

from chat.context import IMAGE_TOKENS, build_chat_request
from chat.models import Message, Role, VisionModel
from chat.providers.services import provider_create
from tests.chat.attachments.conftest import png_bytes
from tests.conftest import send_turn

pytestmark = pytest.mark.django_db

# One provider, two columns: gpt-4o sees images, gpt-4o-mini is told not to (the admin's table).
COLUMNS = [{"provider": "gpt", "model": "gpt-4o"}, {"provider": "gpt", "model": "gpt-4o-mini"}]
SEEING_FIRST_TURN = 22 + 3 + 3 + IMAGE_TOKENS
BLIND_FIRST_TURN = 40 + 3 + 3


@pytest.fixture(autouse=True)
def gpt(db):
    VisionModel.objects.create(provider="gpt", model_pattern="gpt-4o-mini", sees_images=False)
    return provider_create(name="gpt", kind="openai", api_key="k", model_names=["gpt-4o", "gpt-4o-mini"],
                           default_model="gpt-4o")


@pytest.fixture
def uploads(post_file):
    return [post_file("a.txt", b"hi").json()["id"], post_file("p.png", png_bytes()).json()["id"]]


def estimate(client, **body):
    return client.post("/api/chat/estimate", {"columns": COLUMNS, **body}, format="json")


def test_the_estimate_counts_the_pending_uploads_as_each_column_is_sent_them(auth_client, uploads):
    body = estimate(auth_client, message="Why?", attachments=uploads).json()
    seeing, blind = body["columns"]
    assert (seeing["input_tokens"], seeing["exact"]) == (SEEING_FIRST_TURN, False)  # an image's count is a guess
    assert (blind["input_tokens"], blind["exact"]) == (BLIND_FIRST_TURN, True)
    assert body["turn"]["input_tokens"] == SEEING_FIRST_TURN + BLIND_FIRST_TURN
    without = estimate(auth_client, message="Why?").json()["columns"]
    assert [c["input_tokens"] for c in without] == [1 + 1 + 3 + 3] * 2  # "Why" "?"


def test_a_send_stores_the_same_estimate_and_each_reply_is_sent_what_was_counted(user, auth_client, uploads):
    estimate(auth_client, message="Why?")  # the table is loaded: the send counts with it too
    sent = send_turn(user=user, conversation=None, message="Why?", columns=COLUMNS, attachments=uploads)
    seeing, blind = sent.replies
    assert [r.estimate["input_tokens"] for r in sent.replies] == [SEEING_FIRST_TURN, BLIND_FIRST_TURN]

    [asked] = build_chat_request(seeing).messages
    assert [image.name for image in asked.images] == ["p.png"]
    assert asked.content.endswith('>>> end of attachment "a.txt"')
    [asked] = build_chat_request(blind).messages
    assert asked.images == ()
    assert asked.content.endswith('"p.png", was attached here; this model cannot see images.]')


def test_an_earlier_turns_files_are_counted_in_each_columns_thread(user, auth_client, uploads):
    first = send_turn(user=user, conversation=None, message="Why?", columns=COLUMNS, attachments=uploads)
    body = estimate(auth_client, conversation_id=first.conversation.pk, message="Look").json()
    # The replies have not ended: each thread is the first question, then "Look" (1 token).
    assert [c["input_tokens"] for c in body["columns"]] == [SEEING_FIRST_TURN + 1 + 3, BLIND_FIRST_TURN + 1 + 3]


def test_an_upload_that_is_not_pending_is_not_found(user, auth_client, make_user, post_file, uploads):
    send_turn(user=user, conversation=None, message="Why?", columns=COLUMNS, attachments=uploads[:1])
    assert estimate(auth_client, message="Why?", attachments=uploads[:1]).status_code == 404  # sent already
    other = make_user("bob")
    auth_client.force_authenticate(other)
    assert estimate(auth_client, message="Why?", attachments=uploads[1:]).status_code == 404
    assert Message.objects.filter(role=Role.USER).count() == 1
