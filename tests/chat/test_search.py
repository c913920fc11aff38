"""GET /api/chat/search: the words inside one's messages and replies, newest first, highlighted."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chat import search
from chat.models import Message, ReplyStatus, Role
from chat.providers.base import StreamResult
from chat.services import conversation_create, conversation_delete, replies_checkpoint, reply_complete

pytestmark = pytest.mark.django_db


def add(conversation, content, *, role=Role.USER, minutes_ago=0, **fields) -> Message:
    message = Message.objects.create(conversation=conversation, role=role, content=content, **fields)
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return message


def results(client, q, **params):
    response = client.get("/api/chat/search", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_words_inside_messages_and_replies_are_found_newest_first(auth_client, user):
    trip = conversation_create(owner=user, title="Holidays")
    question = add(trip, "Which train goes to Porto?", minutes_ago=30)
    answer = add(trip, "The **Alfa Pendular** train to Porto leaves hourly.", role=Role.ASSISTANT,
                 provider="openai", model="gpt-4o", reply_to=question, minutes_ago=20)
    add(trip, "Nothing about that here.", minutes_ago=10)

    body = results(auth_client, "porto")

    assert body["count"] == 2
    assert [r["message_id"] for r in body["results"]] == [answer.pk, question.pk]
    first = body["results"][0]
    assert first["conversation_id"] == trip.pk and first["conversation_title"] == "Holidays"
    assert first["provider"] == "openai" and first["role"] == "assistant"
    assert first["snippet"] == "The Alfa Pendular train to <mark>Porto</mark> leaves hourly."


def test_a_title_alone_is_not_a_match(auth_client, user):
    add(conversation_create(owner=user, title="Porto"), "Something else")
    assert results(auth_client, "porto")["count"] == 0


def test_every_word_must_match_and_each_matches_as_a_prefix(auth_client, user):
    conversation = conversation_create(owner=user)
    both = add(conversation, "Deploying the database migrations")
    add(conversation, "Deploying the frontend")
    assert [r["message_id"] for r in results(auth_client, "deploy datab")["results"]] == [both.pk]
    assert "<mark>Deploying</mark> the <mark>database</mark>" in results(auth_client, "deploy datab")["results"][0][
        "snippet"]


def test_only_ones_own_messages_are_searched_archived_too(auth_client, user, other_user):
    mine = add(conversation_create(owner=user, archived=True), "secret recipe")
    add(conversation_create(owner=other_user), "secret recipe of theirs")
    body = results(auth_client, "recipe")
    assert [r["message_id"] for r in body["results"]] == [mine.pk]
    assert body["results"][0]["conversation_archived"] is True


def test_a_snippet_is_escaped_except_its_marks(auth_client, user):
    add(conversation_create(owner=user), 'try <img src=x onerror="alert(1)"> payload & more')
    [result] = results(auth_client, "payload")["results"]
    assert result["snippet"] == 'try &lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>payload</mark> &amp; more'


def test_a_snippet_of_a_long_message_is_short_and_centred_on_the_match(auth_client, user):
    add(conversation_create(owner=user), "filler " * 3000 + "needle in the haystack " + "filler " * 3000)
    [result] = results(auth_client, "needle")["results"]
    assert "<mark>needle</mark> in the haystack" in result["snippet"]
    assert result["snippet"].startswith("…") and result["snippet"].endswith("…")
    assert len(result["snippet"]) < search.SNIPPET_CHARS + 30


def test_the_index_follows_edits_and_deletes(auth_client, user):
    conversation = conversation_create(owner=user)
    question = add(conversation, "question")
    reply = add(conversation, "", role=Role.ASSISTANT, provider="demo", model="demo-echo", reply_to=question,
                status=ReplyStatus.STREAMING)
    assert results(auth_client, "streamed")["count"] == 0
    replies_checkpoint(checkpoints=[(reply.pk, "text streamed so far", 3)])
    assert [r["message_id"] for r in results(auth_client, "streamed")["results"]] == [reply.pk]
    # Ended first: deleting a streaming reply would leave a stop request for its id in the stream store.
    Message.objects.filter(pk=reply.pk).update(status=ReplyStatus.COMPLETE)
    conversation_delete(conversation=conversation)
    assert results(auth_client, "streamed")["count"] == 0


def test_a_three_letter_prefix_matches_only_words_that_start_with_it(auth_client, user):
    conversation = conversation_create(owner=user)
    ids = [add(conversation, text, minutes_ago=i).pk for i, text in enumerate(["the data", "a database", "dated"])]
    add(conversation, "an update, not a match")
    body = results(auth_client, "dat")
    assert body["count"] == 3 and [r["message_id"] for r in body["results"]] == ids
    assert "a <mark>database</mark>" == body["results"][1]["snippet"]


def test_a_streaming_reply_is_found_by_its_text_so_far_and_once_when_it_ends(auth_client, user):
    conversation = conversation_create(owner=user)
    question = add(conversation, "tell me")
    reply = add(conversation, "", role=Role.ASSISTANT, provider="demo", model="demo-echo", reply_to=question,
                status=ReplyStatus.STREAMING)
    replies_checkpoint(checkpoints=[(reply.pk, "halfway through the answ", 2)])
    assert [r["snippet"] for r in results(auth_client, "halfway answ")["results"]] == [
        "<mark>halfway</mark> through the <mark>answ</mark>"]
    reply_complete(reply_id=reply.pk, content="halfway through the answer, and done", seq=3,
                   result=StreamResult(finish_reason="stop"))
    body = results(auth_client, "halfway answer")
    assert body["count"] == 1 and body["results"][0]["message_id"] == reply.pk
    assert body["results"][0]["snippet"] == "<mark>halfway</mark> through the <mark>answer</mark>, and done"


def stored_vector(message_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {search.PG_COLUMN}::text FROM chat_message WHERE id = %s", [message_id])
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored tsvector column is PostgreSQL's")
def test_checkpoints_compute_no_stored_vector_the_end_of_the_reply_does(user):
    conversation = conversation_create(owner=user)
    question = add(conversation, "tell me")
    reply = add(conversation, "", role=Role.ASSISTANT, provider="demo", model="demo-echo", reply_to=question,
                status=ReplyStatus.STREAMING)
    replies_checkpoint(checkpoints=[(reply.pk, "some text", 1)])
    assert stored_vector(reply.pk) is None
    reply_complete(reply_id=reply.pk, content="some text in full", seq=2, result=StreamResult(finish_reason="stop"))
    assert stored_vector(reply.pk) == "'full':4 'in':3 'some':1 'text':2"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored tsvector column is PostgreSQL's")
def test_the_generated_column_of_before_becomes_the_trigger_kept_one_with_its_vectors(auth_client, user):
    conversation = conversation_create(owner=user)
    with connection.cursor() as cursor:
        search.drop_search_index()
        cursor.execute(f"ALTER TABLE chat_message ADD COLUMN {search.PG_COLUMN} tsvector GENERATED ALWAYS AS "
                       f"({search.PG_VECTOR}) STORED")
    done = add(conversation, "converted in place")
    streaming = add(conversation, "converted so far", role=Role.ASSISTANT, provider="demo", reply_to=done,
                    status=ReplyStatus.STREAMING)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no ALTER TABLE with foreign key checks pending
    search.ensure_search_index()
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_generated FROM information_schema.columns "
                       "WHERE table_name = 'chat_message' AND column_name = %s", [search.PG_COLUMN])
        assert cursor.fetchall() == [("NEVER",)]
    assert stored_vector(done.pk) == "'converted':1 'in':2 'place':3" and stored_vector(streaming.pk) is None
    assert {r["message_id"] for r in results(auth_client, "converted")["results"]} == {done.pk, streaming.pk}


def test_the_count_stops_at_the_cap_and_the_last_page_is_the_oldest_of_those(auth_client, user):
    conversation = conversation_create(owner=user)
    Message.objects.bulk_create(Message(conversation=conversation, role=Role.USER, content=f"capped {i}")
                                for i in range(search.MAX_COUNT + 5))
    newest_first = list(Message.objects.filter(conversation=conversation).order_by("-created_at", "-id")
                        .values_list("pk", flat=True))
    first = results(auth_client, "capped", page_size=50)
    assert first["count"] == search.MAX_COUNT
    assert [r["message_id"] for r in first["results"]] == newest_first[:50]
    last = results(auth_client, "capped", page_size=50, page=search.MAX_COUNT // 50)
    assert [r["message_id"] for r in last["results"]] == newest_first[search.MAX_COUNT - 50:search.MAX_COUNT]
    assert last["next"] is None


def test_a_page_costs_the_same_queries_however_many_messages_match(user, django_assert_num_queries):
    conversation = conversation_create(owner=user)
    Message.objects.bulk_create(Message(conversation=conversation, role=Role.USER, content=f"many {i}")
                                for i in range(60))
    # The matching ids, newest first (the count and the order of every page), then the rows of one
    # page with their conversations; SQLite first asks whether its FTS5 table is there.
    expected = 3 if connection.vendor == "sqlite" else 2
    with django_assert_num_queries(expected):
        matches = search.message_search_for_user(user=user, query="many")
        page = matches[20:40]
        titles = {message.conversation.title for message in page}
    assert len(matches) == 60 and len(page) == 20 and titles == {conversation.title}


def test_results_are_paginated(auth_client, user):
    conversation = conversation_create(owner=user)
    ids = [add(conversation, f"page test {i}", minutes_ago=i).pk for i in range(5)]
    first = results(auth_client, "page", page_size=2)
    assert first["count"] == 5 and [r["message_id"] for r in first["results"]] == ids[:2]
    assert first["next"]
    assert [r["message_id"] for r in results(auth_client, "page", page_size=2, page=3)["results"]] == ids[4:]


@pytest.mark.parametrize("q, detail", [("   ", "Write something to search for."),
                                       ("x" * 201, "A search holds at most 200 characters.")])
def test_an_empty_or_huge_query_is_refused(auth_client, q, detail):
    response = auth_client.get("/api/chat/search", {"q": q})
    assert response.status_code == 400 and response.json()["detail"] == detail


def test_a_query_without_words_matches_the_text_as_it_is(auth_client, user):
    message = add(conversation_create(owner=user), "use the -> arrow")
    assert [r["message_id"] for r in results(auth_client, "->")["results"]] == [message.pk]


def test_the_database_full_text_index_is_used():
    expected = {"postgresql": "postgresql", "sqlite": "sqlite-fts5"}[connection.vendor]
    assert search.search_backend() == expected
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [search.PG_INDEX])
            [(definition,)] = cursor.fetchall()
            assert "USING gin (search_vector)" in definition
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'chat_message'::regclass "
                           "AND NOT tgisinternal")
            assert search.PG_TRIGGER in {name for (name,) in cursor.fetchall()}
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'chat_message_fts%'")
            assert {"chat_message_fts", *search.SQLITE_TRIGGERS} <= {name for (name,) in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 fallback is SQLite's")
def test_without_the_fts_table_search_falls_back_and_still_finds(auth_client, user):
    message = add(conversation_create(owner=user), "Fallback works")
    search.drop_search_index()
    assert search.search_backend() == "icontains"
    assert [r["message_id"] for r in results(auth_client, "fallback WORK")["results"]] == [message.pk]


def test_signed_out_search_is_refused(api_client):
    assert api_client.get("/api/chat/search", {"q": "x"}).status_code in (401, 403)
