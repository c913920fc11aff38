"""The chat REST API: shapes, validation, ordering, and access to other users' data."""

import pytest
from rest_framework.test import APIClient

from chat.errors import ChatInputError
from chat.models import Conversation, Message, ReplyStatus
from chat.services import conversation_create, send_input_clean

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_demo(settings):
    settings.WEBOX_DEMO_DELAY_MS = 1


def send(client, **fields):
    body = {"message": "Hello there", "selected_providers": ["demo"], **fields}
    return client.post("/api/chat/send", body, format="json")


def test_send_creates_conversation_titled_from_message_and_pending_replies(auth_client):
    response = send(auth_client, message="What is the tallest mountain on Earth and why?",
                    selected_models={"demo": "demo-markdown"}, temperature=0.3, max_tokens=50)
    assert response.status_code == 202
    body = response.json()
    assert body["conversation"]["title"] == "What is the tallest mountain on Earth and why?"
    assert body["user_message"]["role"] == "user"
    assert body["user_message"]["content"] == "What is the tallest mountain on Earth and why?"
    [reply] = body["replies"]
    assert reply["provider"] == "demo" and reply["model"] == "demo-markdown"
    assert reply["status"] == "pending" and reply["reply_to"] == body["user_message"]["id"]
    assert reply["parameters"] == {"temperature": 0.3, "max_tokens": 50}


def test_long_first_message_gives_a_shortened_title(auth_client):
    body = send(auth_client, message="word " * 40).json()
    assert len(body["conversation"]["title"]) <= 61
    assert body["conversation"]["title"].endswith("…")


def test_send_uses_the_providers_default_model(auth_client):
    [reply] = send(auth_client).json()["replies"]
    assert reply["model"] == "demo-echo"


def test_per_provider_params_override_the_turns(auth_client):
    body = send(auth_client, temperature=0.5, provider_params={"demo": {"temperature": 1.5}}).json()
    assert body["replies"][0]["parameters"] == {"temperature": 1.5}


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"message": "   "}, "message"),
        ({"selected_providers": []}, "selected_providers"),
        ({"selected_providers": ["nope"]}, "selected_providers"),
        ({"selected_providers": ["demo", "demo"]}, "selected_providers"),
        ({"temperature": 7}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"provider_params": {"demo": {"temperature": -1}}}, "provider_params.demo.temperature"),
    ],
)
def test_bad_send_is_a_400_with_a_message_and_stores_nothing(auth_client, fields, field):
    response = send(auth_client, **fields)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert field in body["errors"]
    assert Conversation.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.parametrize("fields", [
    {"message": "   "},
    {"message": 42},
    {"selected_providers": "demo"},
    {"selected_providers": ["demo", "nope"]},
    {"temperature": "hot"},
    {"max_tokens": 10**9},
    {"system_prompt": ["not", "text"]},
    {"attachments": ["1"]},
    {"provider_params": {"demo": {"max_tokens": 0}}},
    {"columns": [{"provider": "demo", "colour": "blue"}], "selected_providers": None},
])
def test_a_json_send_is_refused_as_a_sockets_send_frame_is(auth_client, fields):
    """One check for both: a JSON body goes to send_input_clean, as a socket's frame does (chat/streaming)."""
    body = {"message": "Hello there", "selected_providers": ["demo"], **fields}
    with pytest.raises(ChatInputError) as refused:
        send_input_clean(**{name: value for name, value in body.items() if value is not None})

    response = auth_client.post("/api/chat/send", {k: v for k, v in body.items() if v is not None}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": refused.value.detail, "errors": {refused.value.field: [refused.value.detail]}}
    assert Conversation.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.parametrize("conversation_id", ["abc", True, 1.5, {"id": 1}, "-1"])
def test_a_json_sends_conversation_id_must_be_an_id_or_null(auth_client, conversation_id):
    response = send(auth_client, conversation_id=conversation_id)
    assert response.status_code == 400
    assert "conversation_id" in response.json()["errors"]
    assert Conversation.objects.count() == 0


def test_a_json_send_takes_its_conversation_id_as_a_number_or_digits_and_ignores_unknown_fields(auth_client):
    first = send(auth_client, conversation_id=None, colour="blue").json()
    conversation_id = first["conversation"]["id"]
    second = send(auth_client, conversation_id=str(conversation_id), message="Again")
    assert second.status_code == 202 and second.json()["conversation"]["id"] == conversation_id
    assert Message.objects.filter(conversation_id=conversation_id, role="user").count() == 2


def test_a_form_send_of_the_browsable_api_is_read_by_its_serializer(auth_client):
    conversation = send(auth_client).json()["conversation"]["id"]

    response = auth_client.post("/api/chat/send", {"conversation_id": str(conversation), "message": "From the form",
                                                   "selected_providers": ["demo"], "temperature": "0.5"},
                                format="multipart")

    assert response.status_code == 202
    [reply] = response.json()["replies"]
    assert response.json()["conversation"]["id"] == conversation and reply["parameters"] == {"temperature": 0.5}
    bad = auth_client.post("/api/chat/send", {"message": "x", "selected_providers": ["demo"], "temperature": "hot"},
                           format="multipart")
    assert bad.status_code == 400 and "temperature" in bad.json()["errors"]


def test_second_send_adds_a_turn_to_the_same_conversation(auth_client):
    first = send(auth_client).json()
    second = send(auth_client, conversation_id=first["conversation"]["id"], message="Again").json()
    assert second["conversation"]["id"] == first["conversation"]["id"]
    assert Message.objects.filter(conversation_id=first["conversation"]["id"], role="user").count() == 2


def test_conversation_list_is_newest_activity_first_with_preview_and_filter(auth_client, user):
    older = conversation_create(owner=user, title="Alpha plans")
    newer = conversation_create(owner=user, title="Beta ideas")
    send(auth_client, conversation_id=older.pk, message="bump the older one")
    body = auth_client.get("/api/chat/conversations").json()
    assert [c["id"] for c in body["results"]] == [older.pk, newer.pk]
    assert body["results"][0]["preview"]
    assert body["count"] == 2
    filtered = auth_client.get("/api/chat/conversations", {"q": "beta"}).json()
    assert [c["id"] for c in filtered["results"]] == [newer.pk]


def test_archived_conversations_are_listed_apart(auth_client, user):
    kept = conversation_create(owner=user, title="kept")
    gone = conversation_create(owner=user, title="gone")
    assert auth_client.patch(f"/api/chat/conversations/{gone.pk}", {"archived": True}, format="json").status_code == 200
    assert [c["id"] for c in auth_client.get("/api/chat/conversations").json()["results"]] == [kept.pk]
    archived = auth_client.get("/api/chat/conversations", {"archived": "true"}).json()["results"]
    assert [c["id"] for c in archived] == [gone.pk]


def test_create_get_update_and_delete_a_conversation(auth_client):
    created = auth_client.post("/api/chat/conversations", {"title": "Plans", "system_prompt": "Be brief.",
                                                           "default_providers": ["demo"]}, format="json")
    assert created.status_code == 201
    cid = created.json()["id"]
    updated = auth_client.patch(f"/api/chat/conversations/{cid}", {"title": "New plans", "context_mode": "chosen",
                                                                   "default_models": {"demo": "demo-markdown"}},
                                format="json")
    assert updated.json()["title"] == "New plans"
    detail = auth_client.get(f"/api/chat/conversations/{cid}").json()
    assert detail["context_mode"] == "chosen" and detail["default_models"] == {"demo": "demo-markdown"}
    assert detail["system_prompt"] == "Be brief." and detail["messages"] == []
    assert auth_client.put(f"/api/chat/conversations/{cid}", {"context_mode": "sideways"},
                           format="json").status_code == 400
    assert auth_client.delete(f"/api/chat/conversations/{cid}").status_code == 204
    assert auth_client.get(f"/api/chat/conversations/{cid}").status_code == 404


def test_conversation_detail_lists_messages_in_order(auth_client):
    first = send(auth_client, message="one").json()
    cid = first["conversation"]["id"]
    send(auth_client, conversation_id=cid, message="two")
    messages = auth_client.get(f"/api/chat/conversations/{cid}").json()["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["one", "two"]
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)


def test_an_active_reply_comes_with_its_finished_blocks_rendered(auth_client, make_reply):
    text = "Plan:\n\n| step | done |\n|---|---|\n| <script>x</script> | no |\n\nStill typing\nand so"
    streaming = make_reply(content=text, seq=4)
    complete = make_reply(status=ReplyStatus.COMPLETE, content=text)
    messages = {m["id"]: m for m in auth_client.get(f"/api/chat/conversations/{streaming.conversation_id}")
                .json()["messages"]}
    active = messages[streaming.pk]
    assert active["content_html"] == "" and active["rendered_upto"] == text.index("Still typing")
    assert active["rendered_html"].startswith("<p>Plan:</p>\n<table>") and "&lt;script&gt;" in active["rendered_html"]
    ended = messages[complete.pk]
    assert (ended["rendered_html"], ended["rendered_upto"]) == ("", 0)
    assert ended["content_html"].startswith(active["rendered_html"])


def test_an_active_reply_comes_with_its_open_code_fence_rendered(auth_client, make_reply):
    text = "Run:\n\n```sh\nls <dir>\nls -l"
    streaming = make_reply(content=text, seq=3)
    complete = make_reply(status=ReplyStatus.COMPLETE, content=text)
    messages = {m["id"]: m for m in auth_client.get(f"/api/chat/conversations/{streaming.conversation_id}")
                .json()["messages"]}
    # The whole lines of the open fence, as a code block; the line still arriving is the page's to add.
    assert messages[streaming.pk]["open_block"] == {
        "end": text.index("ls -l"), "html": '<pre><code class="language-sh">ls &lt;dir&gt;\n</code></pre>\n',
        "append": False, "in_code": True}
    assert messages[streaming.pk]["rendered_upto"] == text.index("```")
    assert messages[complete.pk]["open_block"] is None


def test_cancel_of_a_pending_reply_ends_it_cancelled(auth_client, user):
    conversation = conversation_create(owner=user)
    user_message = Message.objects.create(conversation=conversation, role="user", content="hi")
    reply = Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="demo-echo",
                                   reply_to=user_message, status=ReplyStatus.PENDING)
    response = auth_client.post(f"/api/chat/messages/{reply.pk}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    again = auth_client.post(f"/api/chat/messages/{reply.pk}/cancel")
    assert again.status_code == 409 and again.json()["detail"]


def test_regenerate_makes_a_new_reply_from_the_same_provider_and_model(auth_client, user):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="hi")
    old = Message.objects.create(conversation=conversation, role="assistant", provider="demo",
                                 model="demo-markdown", reply_to=question, status=ReplyStatus.COMPLETE,
                                 content="old", parameters={"temperature": 0.2})
    response = auth_client.post(f"/api/chat/messages/{old.pk}/regenerate")
    assert response.status_code == 202
    new = response.json()["reply"]
    assert new["id"] != old.pk
    assert (new["provider"], new["model"], new["reply_to"], new["parameters"]) == (
        "demo", "demo-markdown", question.pk, {"temperature": 0.2})


def test_choose_marks_one_reply_of_the_turn(auth_client, user):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="hi")
    a, b = (Message.objects.create(conversation=conversation, role="assistant", provider=p, model="m",
                                   reply_to=question, status=ReplyStatus.COMPLETE, content=p) for p in ("a", "b"))
    assert auth_client.post(f"/api/chat/messages/{a.pk}/choose").json()["chosen"] is True
    assert auth_client.post(f"/api/chat/messages/{b.pk}/choose").status_code == 200
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.chosen, b.chosen) == (False, True)
    assert auth_client.post(f"/api/chat/messages/{question.pk}/choose").status_code == 409


def test_a_reply_without_a_turn_cannot_be_chosen_and_nobody_elses_reply_changes(auth_client, user, other_user):
    def turnless_reply(owner, chosen):
        conversation = conversation_create(owner=owner)
        return Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="m",
                                      status=ReplyStatus.COMPLETE, content="no question", chosen=chosen)

    mine, theirs = turnless_reply(user, chosen=False), turnless_reply(other_user, chosen=True)
    before = Message.objects.get(pk=theirs.pk).updated_at
    response = auth_client.post(f"/api/chat/messages/{mine.pk}/choose")
    assert response.status_code == 409
    assert response.json()["detail"] == "This reply answers no message of the conversation, so it cannot be chosen."
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.chosen, theirs.updated_at, mine.chosen) == (True, before, False)


def test_every_endpoint_refuses_another_users_conversation_as_not_found(api_client, user, other_user):
    conversation = conversation_create(owner=user, title="private")
    question = Message.objects.create(conversation=conversation, role="user", content="secret question")
    reply = Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="demo-echo",
                                   reply_to=question, status=ReplyStatus.STREAMING, stream_id="a1b2")
    api_client.force_authenticate(other_user)
    cid = conversation.pk
    responses = [
        api_client.get(f"/api/chat/conversations/{cid}"),
        api_client.patch(f"/api/chat/conversations/{cid}", {"title": "mine"}, format="json"),
        api_client.put(f"/api/chat/conversations/{cid}", {"title": "mine"}, format="json"),
        api_client.delete(f"/api/chat/conversations/{cid}"),
        api_client.post("/api/chat/send", {"conversation_id": cid, "message": "x", "selected_providers": ["demo"]},
                        format="json"),
        api_client.post(f"/api/chat/messages/{reply.pk}/cancel"),
        api_client.post(f"/api/chat/messages/{reply.pk}/regenerate"),
        api_client.post(f"/api/chat/messages/{reply.pk}/choose"),
    ]
    missing = api_client.get("/api/chat/conversations/999999")
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert all(r.json() == missing.json() for r in responses[:4])
    assert api_client.get("/api/chat/conversations").json()["results"] == []
    conversation.refresh_from_db()
    assert conversation.title == "private" and Message.objects.filter(conversation=conversation).count() == 2


def test_chat_api_requires_authentication(api_client):
    assert api_client.get("/api/chat/conversations").status_code == 401
    assert api_client.post("/api/chat/send", {}, format="json").status_code == 401


def test_openapi_schema_and_swagger_ui_are_served(auth_client, client, user):
    schema = auth_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/chat/send" in schema.content and b"/api/auth/token" in schema.content
    client.force_login(user)
    assert client.get("/api/docs/").status_code == 200


def test_browsable_api_renders_the_send_endpoint(client, user):
    client.force_login(user)
    page = client.get("/api/chat/conversations", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"<h1>Conversations</h1>" in page.content


def test_nested_validation_errors_have_a_readable_detail(auth_client):
    response = send(auth_client, provider_params={"demo": {"temperature": 5}})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail == "provider_params.demo.temperature must be between 0.0 and 2.0."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"default_providers": ["nope"]}, "default_providers"),
        ({"default_params": {"temperature": 9}}, "default_params.temperature"),
        ({"default_params": {"colour": "blue"}}, "default_params"),
        ({"default_params": {"provider_params": {"demo": {"max_tokens": -5}}}},
         "default_params.provider_params.demo.max_tokens"),
    ],
)
def test_conversation_defaults_are_checked(auth_client, user, body, field):
    created = auth_client.post("/api/chat/conversations", body, format="json")
    assert created.status_code == 400 and field in created.json()["errors"]
    conversation = conversation_create(owner=user)
    patched = auth_client.patch(f"/api/chat/conversations/{conversation.pk}", body, format="json")
    assert patched.status_code == 400 and field in patched.json()["errors"]
    conversation.refresh_from_db()
    assert conversation.default_providers == [] and conversation.default_params == {}


def test_valid_defaults_are_stored(auth_client):
    body = {"default_providers": ["demo"], "default_params": {"temperature": 0.7, "provider_params": {
        "demo": {"max_tokens": 300}}}, "archived": True}
    created = auth_client.post("/api/chat/conversations", body, format="json").json()
    assert created["default_params"] == {"temperature": 0.7, "provider_params": {"demo": {"max_tokens": 300}}}
    assert created["archived"] is True


def test_unknown_archived_filter_is_a_400(auth_client):
    response = auth_client.get("/api/chat/conversations", {"archived": "maybe"})
    assert response.status_code == 400 and "archived" in response.json()["detail"]


def test_cancel_with_the_stream_store_down_is_a_503_and_changes_nothing(auth_client, user, unreachable_stream_store):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="hi")
    reply = Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="demo-echo",
                                   reply_to=question, status=ReplyStatus.STREAMING, stream_id="a1b2")
    response = auth_client.post(f"/api/chat/messages/{reply.pk}/cancel")
    assert response.status_code == 503 and "unreachable" in response.json()["detail"]
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.STREAMING


def test_delete_with_the_stream_store_down_still_deletes(auth_client, user, unreachable_stream_store):
    conversation = conversation_create(owner=user)
    question = Message.objects.create(conversation=conversation, role="user", content="hi")
    Message.objects.create(conversation=conversation, role="assistant", provider="demo", model="demo-echo",
                           reply_to=question, status=ReplyStatus.STREAMING, stream_id="a1b2")
    assert auth_client.delete(f"/api/chat/conversations/{conversation.pk}").status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_a_columns_own_system_prompt_is_stored_with_its_reply(auth_client):
    body = send(auth_client, provider_params={"demo": {"system_prompt": "  Only haiku.  ", "max_tokens": 9}}).json()
    assert body["replies"][0]["parameters"] == {"system_prompt": "Only haiku.", "max_tokens": 9}


def test_conversation_defaults_remember_a_columns_system_prompt(auth_client):
    created = auth_client.post("/api/chat/conversations", {"default_params": {
        "provider_params": {"demo": {"temperature": 0.2, "system_prompt": "Be terse."}}}}, format="json")
    assert created.status_code == 201
    assert created.json()["default_params"] == {"provider_params": {"demo": {"temperature": 0.2,
                                                                             "system_prompt": "Be terse."}}}
    bad = auth_client.post("/api/chat/conversations", {"default_params": {
        "provider_params": {"demo": {"system_prompt": 5}}}}, format="json")
    assert bad.status_code == 400


def test_providers_say_which_settings_they_send(auth_client):
    [demo] = [p for p in auth_client.get("/api/chat/providers").json() if p["name"] == "demo"]
    assert demo["accepts"] == ["max_tokens"]


def test_preferences_follow_the_user_to_any_client(auth_client, user):
    assert auth_client.get("/api/chat/preferences").json() == {}
    response = auth_client.patch("/api/chat/preferences", {
        "providers": ["demo"], "models": {"demo": "typed-model"},
        "params": {"max_tokens": 50, "provider_params": {"demo": {"system_prompt": "Hi"}}}}, format="json")
    assert response.status_code == 200
    assert auth_client.patch("/api/chat/preferences", {"context_mode": "chosen"}, format="json").status_code == 200
    other_device = APIClient()
    other_device.force_authenticate(user)
    assert other_device.get("/api/chat/preferences").json() == {
        "providers": ["demo"], "models": {"demo": "typed-model"},
        "params": {"max_tokens": 50, "provider_params": {"demo": {"system_prompt": "Hi"}}}, "context_mode": "chosen"}
    refused = auth_client.patch("/api/chat/preferences", {"providers": ["nope"]}, format="json")
    assert refused.status_code == 400 and refused.json()["detail"] == "Unknown provider 'nope'."
