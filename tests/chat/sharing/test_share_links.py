"""Share links: a read-only page of a branch as it was when shared, for anyone with the link; nothing
private on it (no provider, model, figures or keys unless asked, no later message, no other branch,
blind turns blind), revocable, and off when the site or staff say so."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from chat.models import Conversation, Message, ReplyStatus, Role, Share
from chat.providers import provider_create
from chat.services import conversation_create

pytestmark = pytest.mark.django_db

API_KEY = "sk-secret-share-test-key-0123456789"


def turn(conversation, text, parent=None):
    message = Message.objects.create(conversation=conversation, role=Role.USER, content=text, parent=parent)
    return message


def reply(question, text, *, provider="acme", model="fake-echo", status=ReplyStatus.COMPLETE, **fields):
    done = status not in (ReplyStatus.PENDING, ReplyStatus.STREAMING)
    return Message.objects.create(
        conversation=question.conversation, role=Role.ASSISTANT, reply_to=question, provider=provider, model=model,
        column=provider, content=text, status=status, prompt_tokens=11, completion_tokens=22,
        cost=Decimal("0.00012345"), cost_currency="USD", duration_ms=1500,
        completed_at=timezone.now() if done else None, **fields)


@pytest.fixture
def branched(user):
    """Turn 1 (two columns) → turn 2a (on screen) and its edit 2b; each with a reply."""
    conversation = conversation_create(owner=user, title="Trip plans")
    first = turn(conversation, "Where should I go in **May**?")
    reply(first, "Lisbon is lovely in May.", provider="acme", model="fake-echo")
    reply(first, "Try Kyoto.", provider="zenith", model="fake-stream")
    second_a = turn(conversation, "Cheap flights there?", parent=first)
    reply(second_a, "Book eight weeks ahead.")
    second_b = turn(conversation, "What about hotels instead?", parent=first)
    reply(second_b, "Stay near the old town.")
    conversation.active_leaf = second_a
    conversation.save(update_fields=["active_leaf"])
    return conversation, first, second_a, second_b


def share(auth_client, conversation, **body) -> dict:
    response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/share", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def public(url: str):
    """The page as a visitor with no session sees it."""
    return Client().get(url.split("testserver", 1)[-1])


def test_a_link_shows_the_branch_on_screen_to_anyone_without_login(auth_client, branched, fake_provider):
    provider_create(name="acme", kind="openai", api_key=API_KEY, model_names=["fake-echo"],
                    default_model="fake-echo", base_url=fake_provider.url)
    conversation, *_ = branched
    data = share(auth_client, conversation)
    assert len(data["token"]) >= 43 and data["url"].endswith(f"/s/{data['token']}/")
    assert data["show_details"] is False

    page = public(data["url"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Trip plans" in html
    assert "<strong>May</strong>" in html  # the same Markdown renderer as the chat
    for text in ("Lisbon is lovely in May.", "Try Kyoto.", "Cheap flights there?", "Book eight weeks ahead."):
        assert text in html
    # The other branch is not shared.
    assert "What about hotels instead?" not in html and "Stay near the old town." not in html
    # Nothing private: no provider or model, no figures, no key.
    for private in ("acme", "zenith", "fake-echo", "fake-stream", "0.00012345", "USD", "tokens", "1.5 s",
                    API_KEY, "sk-"):
        assert private not in html, private
    assert "Reply 1" in html and "Reply 2" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert page["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert "<script" not in html


def test_turn_shares_the_branch_ending_there(auth_client, branched):
    conversation, first, second_a, second_b = branched
    html = public(share(auth_client, conversation, turn=second_b.pk)["url"]).content.decode()
    assert "What about hotels instead?" in html and "Stay near the old town." in html
    assert "Cheap flights there?" not in html and "Book eight weeks ahead." not in html

    html = public(share(auth_client, conversation, turn=first.pk)["url"]).content.decode()
    assert "Lisbon is lovely in May." in html
    assert "Cheap flights there?" not in html and "What about hotels instead?" not in html


def test_nothing_made_after_the_share_shows(auth_client, branched):
    conversation, first, second_a, _ = branched
    streaming = reply(second_a, "Half a sen", provider="zenith", model="fake-stream", status=ReplyStatus.STREAMING)
    url = share(auth_client, conversation)["url"]

    # After the share: a regenerated version, a new column, a new turn, and the streaming reply ends.
    reply(first, "Regenerated: Porto instead.")
    reply(first, "A third column joined later.", provider="late", model="late-model")
    third = turn(conversation, "A question asked later", parent=second_a)
    reply(third, "An answer given later.")
    Message.objects.filter(pk=streaming.pk).update(content="Half a sentence finished later.",
                                                   status=ReplyStatus.COMPLETE, completed_at=timezone.now())
    conversation.active_leaf = third
    conversation.save(update_fields=["active_leaf"])

    html = public(url).content.decode()
    assert "Lisbon is lovely in May." in html  # the version that existed, not the newer one
    for later in ("Porto instead", "third column", "asked later", "given later", "Half a sen"):
        assert later not in html, later
    assert "Still being written when this link was made." in html


def test_an_imported_reply_without_an_end_time_shows_its_text(auth_client, user):
    conversation = conversation_create(owner=user)
    question = turn(conversation, "Imported question")
    Message.objects.create(conversation=conversation, role=Role.ASSISTANT, reply_to=question, provider="acme",
                           content="Imported answer", status=ReplyStatus.COMPLETE, imported=True)
    html = public(share(auth_client, conversation)["url"]).content.decode()
    assert "Imported answer" in html and "Still being written" not in html


def test_show_details_shows_models_and_figures(auth_client, branched):
    conversation, *_ = branched
    data = share(auth_client, conversation, show_details=True)
    assert data["show_details"] is True
    html = public(data["url"]).content.decode()
    assert "acme · fake-echo" in html and "zenith · fake-stream" in html
    assert "11 + 22 tokens" in html and "0.00012345 USD" in html and "1.5 s" in html


def test_a_failed_reply_shows_no_error_text(auth_client, user):
    conversation = conversation_create(owner=user)
    question = turn(conversation, "Hello?")
    reply(question, "", status=ReplyStatus.ERROR, error_detail="The model `fake-echo` of acme-account is gone")
    html = public(share(auth_client, conversation, show_details=True)["url"]).content.decode()
    assert "This reply failed." in html and "acme-account" not in html


def test_reply_markdown_is_sanitised_like_the_chat(auth_client, user):
    conversation = conversation_create(owner=user)
    question = turn(conversation, "<img src=x onerror=alert(1)>")
    reply(question, "<script>alert(1)</script> [click](javascript:alert(2))")
    html = public(share(auth_client, conversation)["url"]).content.decode()
    assert "<script>alert" not in html and 'href="javascript' not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html


def blind_turn(user, *, revealed: bool):
    conversation = conversation_create(owner=user, blind=True)
    question = turn(conversation, "Who are you?")
    moment = timezone.now() if revealed else None
    for provider, model, label in (("acme", "claude-3", "B"), ("zenith", "gpt-4o", "A")):
        reply(question, f"I am Claude, made by Anthropic, served as {provider} {model}.", provider=provider,
              model=model, blind_label=label, blind_revealed_at=moment)
    return conversation, question


@pytest.mark.parametrize("show_details", [False, True])
def test_a_blind_turn_stays_blind_whatever_show_details_says(auth_client, user, show_details):
    conversation, _ = blind_turn(user, revealed=False)
    html = public(share(auth_client, conversation, show_details=show_details)["url"]).content.decode()
    assert html.index("Model A") < html.index("Model B")
    for name in ("acme", "zenith", "claude", "gpt-4o", "anthropic", "tokens", "USD"):
        assert name not in html.lower(), name


def test_a_reveal_after_the_share_does_not_unblind_the_link(auth_client, user):
    conversation, question = blind_turn(user, revealed=False)
    url = share(auth_client, conversation, show_details=True)["url"]
    Message.objects.filter(reply_to=question).update(blind_revealed_at=timezone.now())
    html = public(url).content.decode()
    assert "Model A" in html and "acme" not in html and "Claude" not in html


def test_a_turn_revealed_before_the_share_shows_its_models_only_with_details(auth_client, user):
    conversation, _ = blind_turn(user, revealed=True)
    plain = public(share(auth_client, conversation)["url"]).content.decode()
    # Revealed: its text as written; without details, still no provider or model of its own.
    assert '<h3 class="shared-reply-heading">Model A</h3>' in plain and "acme · " not in plain
    assert "11 + 22 tokens" not in plain
    detailed = public(share(auth_client, conversation, show_details=True)["url"]).content.decode()
    assert "acme · claude-3" in detailed and "I am Claude" in detailed


def test_revoking_a_link_makes_it_404(auth_client, branched):
    conversation, *_ = branched
    data = share(auth_client, conversation)
    assert public(data["url"]).status_code == 200
    assert auth_client.delete(f"/api/chat/shares/{data['token']}").status_code == 204
    assert public(data["url"]).status_code == 404
    again = auth_client.delete(f"/api/chat/shares/{data['token']}")
    assert again.status_code == 404 and again.json()["detail"]
    assert not Share.objects.exists()


def test_an_unknown_token_is_404():
    assert Client().get("/s/not-a-real-token-at-all/").status_code == 404


def test_someone_elses_links_and_conversations_look_like_nothing(auth_client, branched, other_user, api_client):
    conversation, first, *_ = branched
    data = share(auth_client, conversation)
    api_client.force_authenticate(other_user)
    for response in (api_client.get(f"/api/chat/shares/{data['token']}"),
                     api_client.delete(f"/api/chat/shares/{data['token']}"),
                     api_client.post(f"/api/chat/conversations/{conversation.pk}/share", {}, format="json")):
        assert response.status_code == 404 and response.json()["detail"]
    assert api_client.get("/api/chat/shares").json()["results"] == []
    assert Share.objects.count() == 1

    # A turn of another conversation is not a turn of this one.
    others = conversation_create(owner=other_user)
    foreign = turn(others, "Mine")
    response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/share", {"turn": foreign.pk},
                                format="json")
    assert response.status_code == 404 and response.json()["detail"]
    assert Share.objects.count() == 1


def test_an_empty_conversation_has_nothing_to_share(auth_client, user):
    conversation = conversation_create(owner=user)
    response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/share", {}, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    assert not Share.objects.exists()


def test_the_list_holds_ones_own_links_newest_first(auth_client, branched, user):
    conversation, first, *_ = branched
    older = share(auth_client, conversation, turn=first.pk)
    newer = share(auth_client, conversation, show_details=True)
    results = auth_client.get("/api/chat/shares").json()["results"]
    assert [item["token"] for item in results] == [newer["token"], older["token"]]
    assert results[0]["url"] == newer["url"] and results[0]["conversation_title"] == "Trip plans"
    assert results[1]["turn"] == first.pk


def test_sharing_off_for_the_site_refuses_new_links_and_closes_old_ones(auth_client, branched, settings):
    conversation, *_ = branched
    url = share(auth_client, conversation)["url"]
    settings.WEBOX_SHARING = False
    response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/share", {}, format="json")
    assert response.status_code == 403 and response.json()["detail"]
    assert public(url).status_code == 404
    assert Share.objects.count() == 1
    settings.WEBOX_SHARING = True
    assert public(url).status_code == 200


def test_staff_can_turn_links_off_for_one_user(auth_client, branched, user):
    conversation, *_ = branched
    url = share(auth_client, conversation)["url"]
    user.can_share = False
    user.save(update_fields=["can_share"])
    response = auth_client.post(f"/api/chat/conversations/{conversation.pk}/share", {}, format="json")
    assert response.status_code == 403 and response.json()["detail"]
    assert public(url).status_code == 404


def test_a_deactivated_owners_links_stop_opening(auth_client, branched, user):
    conversation, *_ = branched
    url = share(auth_client, conversation)["url"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert public(url).status_code == 404


def test_a_deleted_conversation_takes_its_links_with_it(auth_client, branched):
    conversation, *_ = branched
    url = share(auth_client, conversation)["url"]
    assert auth_client.delete(f"/api/chat/conversations/{conversation.pk}").status_code == 204
    assert public(url).status_code == 404
    assert not Conversation.objects.exists() and not Share.objects.exists()


def test_the_page_reads_in_a_few_queries_however_long_the_branch(auth_client, user, django_assert_max_num_queries):
    conversation = conversation_create(owner=user)
    parent = None
    for number in range(30):
        parent = turn(conversation, f"Question {number}", parent=parent)
        reply(parent, f"Answer {number}")
    url = share(auth_client, conversation)["url"]
    with django_assert_max_num_queries(6):
        html = public(url).content.decode()
    assert "Answer 0" in html and "Answer 29" in html


def test_no_log_line_holds_a_token(auth_client, branched, caplog):
    conversation, *_ = branched
    data = share(auth_client, conversation)
    caplog.set_level(logging.INFO)
    assert public(data["url"]).status_code == 200
    auth_client.delete(f"/api/chat/shares/{data['token']}")
    assert public(data["url"]).status_code == 404  # Django logs its own "Not Found" line too
    assert data["token"] not in caplog.text
    assert "GET /s/[token]/ 404" in caplog.text and "Not Found: /s/[token]/" in caplog.text
    assert "DELETE /api/chat/shares/[token] 204" in caplog.text
