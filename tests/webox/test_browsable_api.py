"""The browsable API: a root that lists every endpoint, views named in words, forms for the writes
a person tries there, page links; its writes go through the same validation as JSON ones."""

from urllib.parse import urlencode

import pytest
from django.test import Client

from chat.models import Conversation, Message
from chat.services import conversation_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html"}


@pytest.fixture
def browser(user) -> Client:
    """A logged-in session asking for HTML, as a browser does."""
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_api_root_lists_every_endpoint_by_group(api_client):
    groups = api_client.get("/api/").json()
    assert set(groups) >= {"auth", "chat", "dashboard", "ops", "docs"}
    assert groups["chat"]["Send a message"] == "http://testserver/api/chat/send"
    assert groups["chat"]["Conversation"] == "http://testserver/api/chat/conversations/{conversation_id}"
    assert groups["chat"]["Conversations"] == "http://testserver/api/chat/conversations"
    assert groups["auth"]["Get a token"] == "http://testserver/api/auth/token"
    assert groups["dashboard"]["Dashboard summary"] == "http://testserver/api/dashboard/summary"
    assert groups["docs"] == {"OpenAPI schema": "http://testserver/api/schema/",
                              "Swagger UI": "http://testserver/api/docs/", "ReDoc": "http://testserver/api/redoc/"}
    # Every view has a name in words, none DRF's "… Api".
    names = [name for group in groups.values() for name in group]
    assert not [name for name in names if name.endswith(" Api") or "Api " in name], names


def test_views_are_titled_in_words_with_their_docstring_as_description(browser):
    page = browser.get("/api/chat/conversations", **HTML).content.decode()
    assert "<h1>Conversations</h1>" in page
    assert "One&#x27;s conversations, most recently active first" in page or "One's conversations" in page
    assert "Conversation List Api" not in page


def test_the_send_page_has_a_form_listing_the_providers(browser):
    page = browser.get("/api/chat/send", **HTML).content.decode()
    assert "<h1>Send a message</h1>" in page
    assert 'name="message"' in page and 'name="selected_providers"' in page
    assert '<option value="demo"' in page


def test_sending_through_the_form_is_a_202_with_the_replies(browser):
    response = browser.post("/api/chat/send", {"message": "hi from the form", "selected_providers": ["demo"],
                                               "conversation_id": "", "temperature": "", "max_tokens": ""}, **HTML)
    assert response.status_code == 202
    assert Message.objects.filter(content="hi from the form").exists()


def test_a_bad_form_send_is_a_400_and_stores_nothing(browser):
    response = browser.post("/api/chat/send", {"message": "", "selected_providers": ["demo"]},
                            HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    assert not Conversation.objects.exists()


def test_renaming_through_the_put_form_keeps_the_other_fields(browser, user):
    conversation = conversation_create(owner=user, title="old", system_prompt="Be brief.")
    page = browser.get(f"/api/chat/conversations/{conversation.pk}", **HTML).content.decode()
    assert 'name="title"' in page and 'value="old"' in page
    # What the form's script sends: the form's fields, with the form's method.
    response = browser.put(f"/api/chat/conversations/{conversation.pk}", urlencode({"title": "new name"}),
                           content_type="application/x-www-form-urlencoded", **HTML)
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert (conversation.title, conversation.system_prompt, conversation.archived) == ("new name", "Be brief.", False)


def test_the_preferences_page_offers_the_current_preferences_to_edit(browser, user):
    user.preferences = {"chat": {"providers": ["demo"], "models": {"demo": "demo-fast"}}}
    user.save(update_fields=["preferences"])
    page = browser.get("/api/chat/preferences", **HTML).content.decode()
    assert "<h1>Preferences</h1>" in page
    assert "demo-fast" in page  # the PATCH body, filled in


def test_conversation_pages_have_page_links(browser, user):
    for n in range(3):
        conversation_create(owner=user, title=f"c{n}")
    page = browser.get("/api/chat/conversations?page_size=2", **HTML).content.decode()
    assert 'class="pagination' in page and "page=2" in page
