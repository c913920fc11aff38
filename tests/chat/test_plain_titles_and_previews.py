"""Automatic titles and sidebar previews are plain text: no `**`, backticks, `#` or table pipes."""

import importlib

import pytest
from django.apps import apps

from chat.models import Conversation, Message, ReplyStatus, Role
from chat.rendering import markdown_to_plain
from chat.selectors import PREVIEW_CHARS
from chat.services import conversation_create, title_from_message

TABLE = "| city | people |\n|:--|--:|\n| Oslo | 700k |\n| Bergen | 290k |"
FENCE = "```python\ndef add(a, b):\n    return a + b\n```"


@pytest.mark.parametrize(("markdown", "plain"), [
    ("hello **world**", "hello world"),
    ("*so* _very_ ***much*** ~~not~~", "so very much not"),
    ("# Trip planning\n\nWhere to go?", "Trip planning Where to go?"),
    ("Setext heading\n===", "Setext heading"),
    (TABLE, "city people Oslo 700k Bergen 290k"),
    (FENCE, "def add(a, b): return a + b"),
    ("Run `make test` first", "Run make test first"),
    ("See [the docs](https://example.com/docs) or <https://example.com>", "See the docs or https://example.com"),
    ("![a red fox](fox.png) in the snow", "a red fox in the snow"),
    ("> quoted\n\n- one\n- two\n\n1. first", "quoted one two first"),
    ("5 \\* 3 &amp; <b>raw</b>", "5 * 3 & <b>raw</b>"),
])
def test_markdown_becomes_its_words_without_marks(markdown, plain):
    assert markdown_to_plain(markdown) == plain


@pytest.mark.parametrize(("message", "title"), [
    ("hello **world**", "hello world"),
    ("## What is `asyncio.gather`?", "What is asyncio.gather?"),
    (f"Compare these:\n\n{TABLE}", "Compare these: city people Oslo 700k Bergen 290k"),
    (f"{FENCE}\nWhy does this fail?", "def add(a, b): return a + b Why does this fail?"),
    ("Read [this page](https://example.com/a/very/long/path) please", "Read this page please"),
])
def test_an_automatic_title_is_plain_text(message, title):
    assert title_from_message(message) == title


def test_an_automatic_title_is_shortened_after_the_marks_are_gone():
    title = title_from_message("**" + " ".join(["word"] * 11) + "** [x](https://example.com/" + "y" * 80 + ") and more")
    assert title == "word word word word word word word word word word word x…"


def test_a_message_of_marks_alone_keeps_its_characters_as_title():
    assert title_from_message("---") == "---"


@pytest.fixture
def send(auth_client, settings):
    settings.WEBOX_DEMO_DELAY_MS = 1

    def post(**fields):
        response = auth_client.post("/api/chat/send", {"selected_providers": ["demo"], **fields}, format="json")
        assert response.status_code == 202, response.content
        return response.json()

    return post


@pytest.mark.django_db
def test_a_conversation_started_with_markdown_gets_a_plain_title(send, auth_client):
    body = send(message="hello **world**, what is `2 + 2`?")
    assert body["conversation"]["title"] == "hello world, what is 2 + 2?"
    listed = auth_client.get("/api/chat/conversations").json()["results"]
    assert [c["title"] for c in listed] == ["hello world, what is 2 + 2?"]


@pytest.mark.django_db
def test_an_empty_conversations_first_send_gives_it_a_plain_title(send, auth_client):
    created = auth_client.post("/api/chat/conversations", {}, format="json").json()
    body = send(conversation_id=created["id"], message="# Plans\nfor **June**")
    assert body["conversation"]["title"] == "Plans for June"


@pytest.mark.django_db
def test_a_title_someone_typed_is_kept_exactly(send, auth_client):
    created = auth_client.post("/api/chat/conversations", {"title": "My **bold** | `odd` title"}, format="json")
    assert created.json()["title"] == "My **bold** | `odd` title"
    body = send(conversation_id=created.json()["id"], message="hello **world**")
    assert body["conversation"]["title"] == "My **bold** | `odd` title"
    renamed = auth_client.patch(f"/api/chat/conversations/{created.json()['id']}", {"title": "# Still *mine*"},
                                format="json")
    assert renamed.json()["title"] == "# Still *mine*"
    assert Conversation.objects.get().title == "# Still *mine*"


@pytest.mark.django_db
def test_the_list_shows_the_latest_message_as_plain_text_and_keeps_it_stored_as_markdown(auth_client, user):
    conversation = conversation_create(owner=user, title="Cities")
    question = Message.objects.create(conversation=conversation, role=Role.USER, content="Which cities?")
    reply_text = f"## Cities\n\n{TABLE}\n\n{FENCE}\n\nSee [the list](https://example.com/cities)."
    Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content=reply_text, provider="demo",
                           model="demo-echo", reply_to=question, status=ReplyStatus.COMPLETE)

    [item] = auth_client.get("/api/chat/conversations").json()["results"]
    assert item["preview"] == ("Cities city people Oslo 700k Bergen 290k def add(a, b): return a + b "
                               "See the list.")
    assert Message.objects.get(role=Role.ASSISTANT).content == reply_text


@pytest.mark.django_db
def test_a_long_preview_is_cut_to_its_length_in_plain_text(auth_client, user):
    conversation = conversation_create(owner=user, title="Long")
    Message.objects.create(conversation=conversation, role=Role.USER, content="**many** " * 100)

    [item] = auth_client.get("/api/chat/conversations").json()["results"]
    assert item["preview"] == ("many " * 100)[:PREVIEW_CHARS]


@pytest.mark.django_db
def test_the_migration_makes_old_automatic_titles_plain_and_leaves_typed_ones(user):
    migration = importlib.import_module("chat.migrations.0005_plain_automatic_titles")

    def conversation(title, first_message):
        made = conversation_create(owner=user, title=title)
        if first_message is not None:
            Message.objects.create(conversation=made, role=Role.USER, content=first_message)
            Message.objects.create(conversation=made, role=Role.USER, content="a **later** message")
        return made

    automatic = conversation("hello **world**", "hello **world**")
    long_automatic = conversation(migration.old_title(f"Compare:\n{TABLE}"), f"Compare:\n{TABLE}")
    typed = conversation("My **own** title", "hello **world**")
    typed_alone = conversation("# Notes", None)
    plain_already = conversation("plain words", "plain words")
    before = {c.pk: c.updated_at for c in Conversation.objects.all()}

    migration.make_automatic_titles_plain(apps, None)

    titles = dict(Conversation.objects.values_list("pk", "title"))
    assert titles == {automatic.pk: "hello world", long_automatic.pk: "Compare: city people Oslo 700k Bergen 290k",
                      typed.pk: "My **own** title", typed_alone.pk: "# Notes", plain_already.pk: "plain words"}
    assert {c.pk: c.updated_at for c in Conversation.objects.all()} == before
