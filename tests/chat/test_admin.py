"""The conversation and message admin: lists, filters, the readable thread, operator actions."""

import json
import uuid
from decimal import Decimal

import pytest

from chat import events as chat_events
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.stream_store import stream_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_lists_conversations_and_searches_message_text(staff_client, user):
    hit = Conversation.objects.create(owner=user, title="Weather talk")
    Message.objects.create(conversation=hit, role="user", content="Is it raining in Lisbon?")
    Message.objects.create(conversation=hit, role="user", content="And in Lisbon tomorrow?")
    miss = Conversation.objects.create(owner=user, title="Other")
    Message.objects.create(conversation=miss, role="user", content="Tell me a joke")

    page = staff_client.get("/admin/chat/conversation/", {"q": "lisbon"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [hit]


def test_admin_conversation_page_shows_messages_inline(staff_client, user):
    conversation = Conversation.objects.create(owner=user, title="Inline")
    Message.objects.create(
        conversation=conversation, role="assistant", provider="demo", model="demo-1",
        content="a reply", status=ReplyStatus.COMPLETE,
    )
    page = staff_client.get(f"/admin/chat/conversation/{conversation.pk}/change/")
    assert page.status_code == 200
    assert b"a reply" in page.content


def test_admin_filters_by_archived(staff_client, user):
    Conversation.objects.create(owner=user, title="Kept")
    Conversation.objects.create(owner=user, title="Old", archived=True)
    page = staff_client.get("/admin/chat/conversation/", {"archived__exact": "1"})
    assert [c.title for c in page.context["cl"].result_list] == ["Old"]


def test_admin_is_refused_to_non_staff(client, user):
    client.force_login(user)
    assert client.get("/admin/chat/conversation/").status_code == 302


# --- the operators' admin: lists, filters, the thread, actions ---------------------------------

LIST = "/admin/chat/conversation/"


def reply(conversation, question, provider="openai", model="gpt-x", status=ReplyStatus.COMPLETE, **fields):
    return Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider=provider, model=model,
                                  reply_to=question, status=status, **fields)


@pytest.fixture
def thread(user):
    """A conversation of two turns: three providers, one regenerated version, one reply streaming."""
    conversation = Conversation.objects.create(
        owner=user, title="Trip planning", system_prompt="Be brief.", default_providers=["openai", "anthropic"],
        default_models={"openai": "gpt-x"},
        default_params={"temperature": 0.7, "provider_params": {"openai": {"max_tokens": 300}}},
    )
    first = Message.objects.create(conversation=conversation, role=Role.USER, content="Where to in May?")
    replies = [
        reply(conversation, first, content="**Lisbon**, then <img src=x onerror=alert(1)>", prompt_tokens=12,
              completion_tokens=34, ttft_ms=210, duration_ms=1500, finish_reason="stop",
              parameters={"temperature": 0.7}),
        reply(conversation, first, provider="anthropic", model="claude-y", content="Porto", chosen=True),
        reply(conversation, first, content="Madeira (second try)", prompt_tokens=12, completion_tokens=5),
        reply(conversation, first, provider="ollama", model="llama-z", status=ReplyStatus.ERROR, error_code="timeout",
              error_detail="No first token within 30 s."),
    ]
    second = Message.objects.create(conversation=conversation, role=Role.USER, content="And in June?", parent=first)
    # Streaming: claimed by a worker, so it has a stream id (its name in the stream store).
    replies.append(reply(conversation, second, status=ReplyStatus.STREAMING, content="Thinking so far",
                         stream_id=uuid.uuid4().hex))
    return conversation, replies


def listed(page) -> list[str]:
    return [c.title for c in page.context["cl"].result_list]


def test_list_shows_turns_providers_and_active_replies(staff_client, thread):
    page = staff_client.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Last activity" in html or "last activity" in html
    row = html[html.index("Trip planning"):]
    row = row[:row.index("</tr>")]
    assert '<td class="field-turns">2</td>' in row
    assert "anthropic, ollama, openai" in row
    assert "1 streaming" in row


def test_list_shows_the_total_cost_of_ended_replies_and_how_many_have_no_price(staff_client, thread):
    conversation, replies = thread
    Message.objects.filter(pk=replies[0].pk).update(cost=Decimal("0.0012"), cost_currency="USD")
    Message.objects.filter(pk=replies[2].pk).update(cost=Decimal("0.0003"), cost_currency="USD")
    html = staff_client.get(LIST).content.decode()
    row = html[html.index("Trip planning"):]
    row = row[:row.index("</tr>")]
    # Porto and the failed ollama reply have no price; the streaming reply is not counted yet.
    assert '<td class="field-total_cost">0.0015 USD; 2 unknown</td>' in row


def test_search_over_message_text_lists_each_conversation_once(staff_client, thread):
    page = staff_client.get(LIST, {"q": "lisbon"})
    assert listed(page) == ["Trip planning"]
    page = staff_client.get(LIST, {"q": "a"})  # matches the title and several messages
    assert listed(page) == ["Trip planning"]


@pytest.mark.parametrize("query, hit", [
    ({"provider": "ollama"}, True), ({"provider": "nobody"}, False),
    ({"model": "claude-y"}, True), ({"model": "gpt-none"}, False),
    ({"reply_status": "error"}, True), ({"reply_status": "cancelled"}, False),
    ({"reply_status": "active"}, True),
])
def test_filters_by_provider_model_and_reply_status(staff_client, thread, user, query, hit):
    quiet = Conversation.objects.create(owner=user, title="Quiet")
    reply(quiet, Message.objects.create(conversation=quiet, role=Role.USER, content="hi"), provider="demo",
          model="demo-echo", status=ReplyStatus.CANCELLED if query.get("reply_status") != "cancelled" else "complete")
    page = staff_client.get(LIST, query)
    assert page.status_code == 200
    assert listed(page) == (["Trip planning"] if hit else [])


def test_filter_by_owner(staff_client, thread, other_user):
    Conversation.objects.create(owner=other_user, title="Mallory's")
    page = staff_client.get(LIST, {"owner__id__exact": other_user.pk})
    assert listed(page) == ["Mallory's"]


def test_change_page_shows_the_thread_readably_and_safely(staff_client, thread):
    conversation, replies = thread
    page = staff_client.get(f"{LIST}{conversation.pk}/change/")
    html = page.content.decode()
    # Each turn: the user's message, then its replies by provider.
    assert html.index("Where to in May?") < html.index("<strong>Lisbon</strong>") < html.index("And in June?")
    assert "version 2 of 2" in html and "Madeira (second try)" in html
    # Rendered through the sanitiser: markup kept, the script-bearing tag escaped.
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "prompt 12 tokens · completion 34 tokens" in html
    assert "first token 210 ms · total 1,500 ms" in html
    assert "timeout" in html and "No first token within 30 s." in html
    assert "Thinking so far" in html and "Streaming" in html
    # Settings read as text, not JSON boxes.
    assert "temperature 0.7" in html and "openai: gpt-x" in html and "Parameters for openai" in html
    assert 'name="default_params"' not in html and 'name="metadata"' not in html
    assert f'href="/admin/chat/message/{replies[0].pk}/change/"' in html
    assert "chat/admin/admin.css" in html


def test_change_page_saves_through_the_service_and_tells_open_pages(staff_client, thread, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    conversation, _ = thread
    published = []
    monkeypatch.setattr(chat_events, "publish_from_sync", lambda cid, events: published.append((cid, events)))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{LIST}{conversation.pk}/change/", {
            "title": "Renamed", "archived": "on", "context_mode": "own", "system_prompt": "Be brief.",
        })
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert (conversation.title, conversation.archived) == ("Renamed", True)
    [(cid, events)] = published
    assert cid == conversation.pk and events[0]["type"] == "conversation.updated"
    assert events[0]["conversation"]["archived"] is True


def action(client, name, conversations, **extra):
    return client.post(LIST, {"action": name, "_selected_action": [c.pk for c in conversations], **extra})


def test_export_json_is_the_users_lossless_format(staff_client, thread):
    conversation, replies = thread
    response = action(staff_client, "export_json", [conversation])
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="webox-conversations-')
    document = json.loads(response.content)
    assert (document["format"], document["version"]) == ("webox.conversations", 1)
    [exported] = document["conversations"]
    assert exported["title"] == "Trip planning" and exported["default_params"]["temperature"] == 0.7
    by_id = {m["id"]: m for m in exported["messages"]}
    question = replies[0].reply_to_id
    assert by_id[question]["content"] == "Where to in May?"
    assert [m["id"] for m in exported["messages"] if m["reply_to"] == question] == [r.pk for r in replies[:4]]
    lisbon = by_id[replies[0].pk]
    assert (lisbon["prompt_tokens"], lisbon["completion_tokens"], lisbon["ttft_ms"], lisbon["duration_ms"]) == (
        12, 34, 210, 1500)
    assert lisbon["parameters"] == {"temperature": 0.7} and lisbon["finish_reason"] == "stop"
    assert by_id[replies[1].pk]["chosen"] is True
    assert (by_id[replies[3].pk]["status"], by_id[replies[3].pk]["error_code"]) == ("error", "timeout")
    assert by_id[replies[4].pk]["status"] == "streaming"


def test_export_markdown_has_a_section_per_turn_and_provider(staff_client, thread):
    conversation, _ = thread
    response = action(staff_client, "export_markdown", [conversation])
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Trip planning\n")
    assert text.index("## Turn 1") < text.index("### openai · gpt-x (version 1 of 2)") < text.index(
        "### openai · gpt-x (version 2 of 2)") < text.index("## Turn 2")
    assert "### anthropic · claude-y ✓ chosen" in text
    assert "Error timeout: No first token within 30 s." in text


def test_archive_and_unarchive_actions(staff_client, thread, user):
    conversation, _ = thread
    other = Conversation.objects.create(owner=user, title="Other", archived=True)
    response = action(staff_client, "archive", [conversation, other])
    assert response.status_code == 302
    assert Conversation.objects.filter(archived=True).count() == 2
    messages = [str(m) for m in staff_client.get(LIST).context["messages"]]
    assert messages == ["Archived 1 conversation(s)."]
    action(staff_client, "unarchive", [conversation, other])
    assert not Conversation.objects.filter(archived=True).exists()


def test_cancel_action_stops_active_replies(staff_client, thread, user):
    conversation, replies = thread
    pending = reply(conversation, replies[0].reply_to, provider="demo", status=ReplyStatus.PENDING)
    response = action(staff_client, "cancel_replies", [conversation])
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == ReplyStatus.CANCELLED
    # The streaming one is stopped by whichever worker runs it, through the stream store's flag.
    assert stream_store().cancel_requested([replies[-1].stream_key]) == {replies[-1].stream_key}
    messages = [str(m) for m in staff_client.get(LIST).context["messages"]]
    assert messages == ["Asked 2 active reply(ies) to stop."]


def test_delete_action_asks_first_then_deletes_and_stops_replies(staff_client, thread):
    conversation, replies = thread
    confirm = action(staff_client, "delete_selected", [conversation])
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    done = action(staff_client, "delete_selected", [conversation], post="yes")
    assert done.status_code == 302
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert stream_store().cancel_requested([replies[-1].stream_key]) == {replies[-1].stream_key}


def test_conversations_cannot_be_added_by_hand(staff_client):
    assert staff_client.get(f"{LIST}add/").status_code == 403


# --- messages ----------------------------------------------------------------------------------

MESSAGES = "/admin/chat/message/"


def test_message_list_truncates_text_and_filters_by_error_code(staff_client, thread):
    conversation, replies = thread
    long_text = "word " * 2000
    reply(conversation, replies[0].reply_to, provider="demo", content=long_text)
    page = staff_client.get(MESSAGES)
    html = page.content.decode()
    assert long_text.strip() not in html and "word word" in html
    errors = staff_client.get(MESSAGES, {"error_code": "timeout"})
    assert [m.pk for m in errors.context["cl"].result_list] == [replies[3].pk]
    by_model = staff_client.get(MESSAGES, {"model": "claude-y", "status__exact": "complete"})
    assert [m.pk for m in by_model.context["cl"].result_list] == [replies[1].pk]


def test_message_page_is_read_only_with_a_link_back(staff_client, thread):
    conversation, replies = thread
    page = staff_client.get(f"{MESSAGES}{replies[0].pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'href="/admin/chat/conversation/{conversation.pk}/change/"' in html
    assert "prompt 12 tokens · completion 34 tokens" in html and "first token 210 ms" in html
    assert "<strong>Lisbon</strong>" in html and "<img src=x" not in html
    assert "<textarea" not in html and 'name="_save"' not in html
    before = Message.objects.get(pk=replies[0].pk).content
    staff_client.post(f"{MESSAGES}{replies[0].pk}/change/", {"content": "edited"})
    assert Message.objects.get(pk=replies[0].pk).content == before
    assert staff_client.post(f"{MESSAGES}{replies[0].pk}/delete/", {"post": "yes"}).status_code == 403


def test_message_cancel_action_stops_a_pending_reply(staff_client, thread):
    conversation, replies = thread
    pending = reply(conversation, replies[0].reply_to, provider="demo", status=ReplyStatus.PENDING)
    staff_client.post(MESSAGES, {"action": "cancel_replies", "_selected_action": [pending.pk, replies[0].pk]})
    pending.refresh_from_db()
    assert pending.status == ReplyStatus.CANCELLED
    assert Message.objects.get(pk=replies[0].pk).status == ReplyStatus.COMPLETE


def test_cancel_action_with_the_stream_store_down_says_so(staff_client, thread, unreachable_stream_store):
    conversation, replies = thread
    action(staff_client, "cancel_replies", [conversation])
    messages = [str(m) for m in staff_client.get(LIST).context["messages"]]
    assert messages[0] == "Trip planning: The reply cannot be stopped right now: the stream service is unreachable."
    assert Message.objects.get(pk=replies[-1].pk).status == ReplyStatus.STREAMING


def test_list_queries_do_not_grow_with_the_page(staff_client, thread, user, django_assert_max_num_queries):
    with django_assert_max_num_queries(50) as counted:
        staff_client.get(LIST)
    one_conversation = len(counted.captured_queries)
    for number in range(10):
        conversation = Conversation.objects.create(owner=user, title=f"More {number}")
        reply(conversation, Message.objects.create(conversation=conversation, role=Role.USER, content="hi"))
    with django_assert_max_num_queries(one_conversation):
        page = staff_client.get(LIST)
    assert len(page.context["cl"].result_list) == 11
