"""Export (JSON, Markdown; API and manage.py) and import back, refusing bad files whole."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from chat.exports import CONVERSATION_FIELDS, MESSAGE_FIELDS
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.services import conversation_create

pytestmark = pytest.mark.django_db


def make_history(owner) -> Conversation:
    """Two turns, three providers, a regenerated version, an error, a cut reply, a chosen one."""
    conversation = conversation_create(
        owner=owner, title="Trip **plans**", system_prompt="Be brief.", default_providers=["demo"],
        default_models={"demo": "demo-echo"}, default_params={"temperature": 0.4}, context_mode="chosen",
    )
    base = timezone.now() - timedelta(days=3)
    first = Message.objects.create(conversation=conversation, role=Role.USER, content="Where to go?")
    replies = [
        Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="Lisbon | Porto",
                               provider="openai", model="gpt-4o", reply_to=first, status=ReplyStatus.COMPLETE,
                               prompt_tokens=12, completion_tokens=40, ttft_ms=210, duration_ms=1900,
                               finish_reason="stop", parameters={"temperature": 0.2, "max_tokens": 300},
                               seq=7, chosen=True, started_at=base, completed_at=base + timedelta(seconds=2),
                               cost=Decimal("0.00043000"), cost_currency="USD", tokens_per_second=23.5),
        Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="Rome",
                               provider="openai", model="gpt-4o", reply_to=first, status=ReplyStatus.COMPLETE,
                               finish_reason="length", parameters={"max_tokens": 5}),
        Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="",
                               provider="anthropic", model="claude-x", reply_to=first, status=ReplyStatus.ERROR,
                               error_code="auth", error_detail="The key was refused.", prompt_tokens=12,
                               completion_tokens=0, usage_estimated=True, cost_estimated=True,
                               cost=Decimal("0.00000100"), cost_currency="USD"),
    ]
    second = Message.objects.create(conversation=conversation, role=Role.USER, content="And in `winter`?",
                                    parent=first)
    Message.objects.create(conversation=conversation, role=Role.ASSISTANT, content="```python\nprint(1)\n```",
                           provider="ollama", model="llama3", reply_to=second, status=ReplyStatus.CANCELLED,
                           finish_reason="cancelled")
    for offset, message in enumerate([first, *replies, second]):
        Message.objects.filter(pk=message.pk).update(created_at=base + timedelta(minutes=offset))
    Conversation.objects.filter(pk=conversation.pk).update(created_at=base, archived=True, metadata={"tag": "x"})
    conversation.refresh_from_db()
    return conversation


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def downloaded(response) -> bytes:
    """The body of a download (exports stream)."""
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def imported(snap: dict) -> dict:
    """A snapshot as its import looks: the same, every message marked imported."""
    return {**snap, "messages": [{**m, "imported": True} for m in snap["messages"]]}


def snapshot(conversation: Conversation) -> dict:
    messages = list(conversation.messages.order_by("id"))
    index = {m.pk: i for i, m in enumerate(messages)}
    return {
        **{name: getattr(conversation, name) for name in CONVERSATION_FIELDS},
        "messages": [
            {**{name: getattr(m, name) for name in MESSAGE_FIELDS}, "reply_to": index.get(m.reply_to_id)}
            for m in messages
        ],
    }


def test_a_json_export_imports_back_without_loss(user, other_user):
    original = make_history(user)
    exported = client_for(user).get(f"/api/chat/conversations/{original.pk}/export?format=json")
    assert exported.status_code == 200
    assert exported["Content-Disposition"] == f'attachment; filename="webox-conversation-{original.pk}.json"'

    response = client_for(other_user).post("/api/chat/import", downloaded(exported), content_type="application/json")

    assert response.status_code == 201, response.content
    [created] = response.json()["conversations"]
    copy = Conversation.objects.get(pk=created["id"])
    assert copy.owner == other_user and copy.pk != original.pk
    # Everything but one mark: the copies are imported history (never counted as usage again).
    assert snapshot(copy) == imported(snapshot(original))
    assert Conversation.objects.filter(owner=user).count() == 1


def test_importing_an_uploaded_file_works_like_a_json_body(user):
    make_history(user)
    make_history(user)
    exported = downloaded(client_for(user).get("/api/chat/export"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(user).post("/api/chat/import", {"file": SimpleUploadedFile("all.json", exported)},
                                     format="multipart")
    assert response.status_code == 201, response.content
    assert len(response.json()["conversations"]) == 2
    assert Conversation.objects.filter(owner=user).count() == 4


def test_export_all_holds_only_ones_own_conversations_archived_too(user, other_user):
    mine = make_history(user)
    make_history(other_user)
    data = json.loads(downloaded(client_for(user).get("/api/chat/export?format=json")))
    assert data["format"] == "webox.conversations" and data["version"] == 1
    assert [c["id"] for c in data["conversations"]] == [mine.pk]
    assert data["conversations"][0]["archived"] is True
    assert len(data["conversations"][0]["messages"]) == 6


def test_markdown_export_has_a_section_per_turn_and_a_subsection_per_reply(user):
    conversation = make_history(user)
    response = client_for(user).get(f"/api/chat/conversations/{conversation.pk}/export?format=md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = downloaded(response).decode()
    assert text.startswith("# Trip **plans**\n")
    assert text.count("\n## Turn ") == 2
    assert "### openai · gpt-4o (version 1 of 2) ✓ chosen" in text
    assert "### openai · gpt-4o (version 2 of 2)" in text
    assert "cut by max tokens" in text
    assert "> Error auth: The key was refused." in text
    assert "### ollama · llama3" in text and "```python\nprint(1)\n```" in text


def test_someone_elses_conversation_cannot_be_exported(user, other_user):
    conversation = make_history(user)
    assert client_for(other_user).get(f"/api/chat/conversations/{conversation.pk}/export").status_code == 404


def test_an_unknown_export_format_is_refused(user):
    response = client_for(user).get("/api/chat/export?format=pdf")
    assert response.status_code == 400
    assert response.json()["detail"] == "format must be json, md or zip."


def valid_file(**conversation) -> dict:
    return {"format": "webox.conversations", "version": 1, "conversations": [{
        "title": "ok", "messages": [
            {"id": 1, "role": "user", "content": "hi"},
            {"id": 2, "role": "assistant", "content": "yo", "provider": "no-such-provider", "reply_to": 1},
        ], **conversation}]}


def deep(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("body, detail", [
    (b"{not json", "The file is not valid JSON"),
    (b"[1, 2]", "Not a file webox can import"),
    (json.dumps({"format": "webox.conversations", "version": 9, "conversations": []}).encode(),
     "Unsupported export version '9'"),
    (json.dumps(valid_file(title=5)).encode(), "Conversation 1: title must be text."),
    (json.dumps(valid_file(context_mode="all")).encode(), "Conversation 1: context_mode must be one of"),
    (json.dumps(valid_file(messages=[{"role": "user", "prompt_tokens": "12"}])).encode(),
     "Conversation 1, message 1: prompt_tokens must be a whole number from 0."),
    (json.dumps(valid_file(messages=[{"role": "assistant", "reply_to": 99}])).encode(),
     "Conversation 1, message 1: reply_to must name an earlier user message"),
    (json.dumps(valid_file(messages=[{"id": 1, "role": "user", "content": "hi"},
                                     {"id": 2, "role": "assistant", "content": "yo"}])).encode(),
     "Conversation 1, message 2: an assistant reply needs reply_to"),
    (json.dumps(valid_file(metadata={"a": deep(10)})).encode(), "Conversation 1: metadata nests too deeply."),
    (b"[" * 100_000 + b"]" * 100_000, "The file nests too deeply"),
    (json.dumps(valid_file(messages=[{"role": "user", "created_at": "yesterday"}])).encode(),
     "Conversation 1, message 1: created_at must be an ISO 8601 date and time."),
    (json.dumps(valid_file(messages=[{"role": "assistant", "cost": "-1"}])).encode(),
     "Conversation 1, message 1: cost must be an amount written as text"),
    (json.dumps(valid_file(messages=[{"role": "assistant", "cost": 0.5}])).encode(),
     "Conversation 1, message 1: cost must be an amount written as text"),
    (json.dumps(valid_file(messages=[{"role": "assistant", "tokens_per_second": "fast"}])).encode(),
     "Conversation 1, message 1: tokens_per_second must be a number from 0."),
])
def test_a_bad_file_is_refused_with_a_reason_and_nothing_is_imported(user, body, detail):
    before = Message.objects.count()
    # A valid conversation first: the refusal must take it back too.
    data = json.loads(body) if body.startswith(b"{\"format") else None
    if data is not None:
        data["conversations"].insert(0, valid_file()["conversations"][0])
        body = json.dumps(data).encode()
        detail = detail.replace("Conversation 1", "Conversation 2")
    response = client_for(user).post("/api/chat/import", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail), response.json()
    assert Conversation.objects.filter(owner=user).count() == 0
    assert Message.objects.count() == before


def test_a_huge_upload_is_refused(user, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from chat import imports

    big = SimpleUploadedFile("big.json", b" " * (imports.MAX_IMPORT_BYTES + 1))
    response = client_for(user).post("/api/chat/import", {"file": big}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == "The file is larger than 20 MB."


def test_ids_in_a_file_never_reach_other_rows(user, other_user):
    theirs = make_history(other_user)
    target = theirs.messages.filter(role=Role.USER).first()
    body = valid_file()
    body["conversations"][0]["id"] = theirs.pk
    body["conversations"][0]["messages"] = [
        {"id": target.pk, "role": "user", "content": "mine"},
        {"id": target.pk + 1, "role": "assistant", "content": "reply", "reply_to": target.pk},
    ]
    response = client_for(user).post("/api/chat/import", body, format="json")
    assert response.status_code == 201
    [created] = Conversation.objects.filter(owner=user)
    question, answer = created.messages.order_by("id")
    assert answer.reply_to == question and question.pk != target.pk
    assert snapshot(theirs) == snapshot(Conversation.objects.get(pk=theirs.pk))


def test_a_reply_still_generating_imports_as_stopped(user):
    body = valid_file()
    body["conversations"][0]["messages"][1]["status"] = "streaming"
    assert client_for(user).post("/api/chat/import", body, format="json").status_code == 201
    reply = Message.objects.get(conversation__owner=user, role=Role.ASSISTANT)
    assert reply.status == ReplyStatus.CANCELLED and reply.content == "yo"


def test_manage_py_exports_and_imports(user, other_user, tmp_path):
    original = make_history(user)
    path = tmp_path / "out.json"
    call_command("export_conversations", "--user", user.username, "--output", str(path))
    call_command("import_conversations", str(path), "--user", other_user.username)
    [copy] = Conversation.objects.filter(owner=other_user)
    assert snapshot(copy) == imported(snapshot(original))

    markdown = tmp_path / "out.md"
    call_command("export_conversations", "--user", user.username, "--conversation", str(original.pk),
                 "--format", "md", "--output", str(markdown))
    assert markdown.read_text().count("## Turn ") == 2

    path.write_text('{"format": "nope"}')
    with pytest.raises(CommandError, match="Nothing imported: Not a webox export"):
        call_command("import_conversations", str(path), "--user", other_user.username)


def test_the_json_export_streams_the_same_text_as_one_dump(user, settings):
    for _ in range(3):
        make_history(user)
    response = client_for(user).get("/api/chat/export?format=json")
    assert response.streaming
    text = downloaded(response).decode()
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=1)
    assert len(json.loads(text)["conversations"]) == 3


def test_an_export_of_nothing_is_still_a_valid_file(user):
    data = json.loads(downloaded(client_for(user).get("/api/chat/export")))
    assert data["conversations"] == [] and data["format"] == "webox.conversations"
    assert downloaded(client_for(user).get("/api/chat/export?format=md")) == b""


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_is_sent_in_pieces_as_it_is_read(user, monkeypatch):
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    from chat.api import exports

    monkeypatch.setattr(exports, "EXPORT_PIECE_BYTES", 1)  # a piece per conversation
    for _ in range(3):
        await sync_to_async(make_history)(user)
    client = AsyncClient()
    await client.aforce_login(user)
    pieces = {}
    for form in ("json", "md"):
        response = await client.get(f"/api/chat/export?format={form}")
        assert response.status_code == 200 and response.is_async
        pieces[form] = [piece async for piece in response.streaming_content]
    # json: the head, each conversation, the tail; md: each conversation.
    assert (len(pieces["json"]), len(pieces["md"])) == (5, 3)
    assert len(json.loads(b"".join(pieces["json"]))["conversations"]) == 3
