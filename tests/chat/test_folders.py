"""Folders and pins: one level of folders per user, pinned conversations first; deleting a folder
moves its conversations out; another user's folder does not exist; the list's cost is fixed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import events as chat_events
from chat.errors import ChatInputError
from chat.models import Conversation, Folder
from chat.services import (
    conversation_create,
    conversation_move,
    conversation_pin,
    folder_create,
    folder_delete,
    folder_rename,
)

pytestmark = pytest.mark.django_db


def listed(client, **params) -> list[str]:
    response = client.get("/api/chat/conversations", params)
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


def aged(user, titles: list[str]) -> list[Conversation]:
    """Conversations whose last activity is older the later they come in ``titles``."""
    now = timezone.now()
    made = []
    for age, title in enumerate(titles):
        conversation = conversation_create(owner=user, title=title)
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=now - timedelta(minutes=age))
        conversation.refresh_from_db()
        made.append(conversation)
    return made


# --- services -----------------------------------------------------------------------------------

def test_a_folder_name_is_trimmed_and_unique_per_user_in_any_case(user, other_user):
    folder = folder_create(owner=user, name="  Work  ")
    assert folder.name == "Work"
    with pytest.raises(ChatInputError, match="already have a folder"):
        folder_create(owner=user, name="work")
    assert folder_create(owner=other_user, name="Work").name == "Work"  # another user's names are theirs
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(ChatInputError):
            folder_create(owner=user, name=bad)
    assert folder_create(owner=user, name="y" * 100).name == "y" * 100
    assert Folder.objects.filter(owner=user).count() == 2


def test_renaming_a_folder_to_its_own_name_in_another_case_is_allowed_but_not_to_a_sibling(user):
    work = folder_create(owner=user, name="Work")
    folder_create(owner=user, name="Home")
    assert folder_rename(folder=work, name=" WORK ").name == "WORK"
    with pytest.raises(ChatInputError):
        folder_rename(folder=work, name="home")
    work.refresh_from_db()
    assert work.name == "WORK"


def test_two_creates_of_one_name_at_once_leave_one_folder_and_a_400(user, monkeypatch):
    from chat.services import folders

    # Both passed the name check before either stored: the unique constraint decides.
    monkeypatch.setattr(folders, "clean_folder_name", lambda name, **kwargs: name)
    folder_create(owner=user, name="Work")
    with pytest.raises(ChatInputError, match="already have a folder"):
        folder_create(owner=user, name="Work")
    assert list(Folder.objects.values_list("name", flat=True)) == ["Work"]


def test_deleting_a_folder_moves_its_conversations_out_and_keeps_them(user):
    folder = folder_create(owner=user, name="Work")
    first, second = aged(user, ["first", "second"])
    for conversation in (first, second):
        conversation_move(conversation=conversation, folder=folder)
    folder_delete(folder=folder)
    assert not Folder.objects.exists()
    assert list(Conversation.objects.order_by("title").values_list("title", "folder")) == [
        ("first", None), ("second", None)]


def test_moving_into_another_users_folder_is_refused(user, other_user):
    conversation = conversation_create(owner=user)
    theirs = folder_create(owner=other_user, name="Theirs")
    with pytest.raises(ChatInputError, match="No such folder"):
        conversation_move(conversation=conversation, folder=theirs)
    conversation.refresh_from_db()
    assert conversation.folder_id is None


def test_moving_and_pinning_tell_open_pages_and_are_not_activity(user, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    [conversation] = aged(user, ["old"])
    updated_at = conversation.updated_at
    folder = folder_create(owner=user, name="Work")
    published = []
    monkeypatch.setattr(chat_events, "publish_from_sync", lambda cid, evs: published.extend(evs))
    with django_capture_on_commit_callbacks(execute=True):
        conversation_move(conversation=conversation, folder=folder)
        conversation_pin(conversation=conversation)
        conversation_pin(conversation=conversation)  # already pinned: nothing to say
    assert [(e["type"], e["conversation"]["folder"], e["conversation"]["pinned"]) for e in published] == [
        ("conversation.updated", folder.pk, False), ("conversation.updated", folder.pk, True)]
    conversation.refresh_from_db()
    assert conversation.updated_at == updated_at and conversation.pinned_at is not None


# --- API: folders ---------------------------------------------------------------------------------

def test_folders_are_created_listed_by_name_with_counts_renamed_and_deleted(auth_client, user):
    created = auth_client.post("/api/chat/folders", {"name": " Work "}, format="json")
    assert created.status_code == 201
    work = created.json()
    assert (work["name"], work["conversation_count"]) == ("Work", 0)
    auth_client.post("/api/chat/folders", {"name": "Home"}, format="json")
    kept, archived = aged(user, ["kept", "archived"])
    conversation_move(conversation=kept, folder=Folder.objects.get(pk=work["id"]))
    conversation_move(conversation=archived, folder=Folder.objects.get(pk=work["id"]))
    Conversation.objects.filter(pk=archived.pk).update(archived=True)
    assert [(f["name"], f["conversation_count"]) for f in auth_client.get("/api/chat/folders").json()] == [
        ("Home", 0), ("Work", 1)]

    renamed = auth_client.patch(f"/api/chat/folders/{work['id']}", {"name": "Job"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Job"
    assert auth_client.delete(f"/api/chat/folders/{work['id']}").status_code == 204
    assert auth_client.get(f"/api/chat/folders/{work['id']}").status_code == 404
    assert Conversation.objects.filter(folder__isnull=True).count() == 2


@pytest.mark.parametrize("name, detail", [("work", "already have a folder"), ("", "needs a name"),
                                          ("x" * 101, "at most 100")])
def test_a_bad_folder_name_is_a_400_with_a_detail_and_stores_nothing(auth_client, user, name, detail):
    folder_create(owner=user, name="Work")
    response = auth_client.post("/api/chat/folders", {"name": name}, format="json")
    assert response.status_code == 400 and detail in response.json()["detail"]
    assert list(Folder.objects.values_list("name", flat=True)) == ["Work"]


def test_a_duplicate_rename_is_a_400_and_keeps_the_name(auth_client, user):
    work = folder_create(owner=user, name="Work")
    folder_create(owner=user, name="Home")
    response = auth_client.patch(f"/api/chat/folders/{work.pk}", {"name": "Home"}, format="json")
    assert response.status_code == 400 and response.json()["detail"]
    work.refresh_from_db()
    assert work.name == "Work"


def test_another_users_folder_does_not_exist(auth_client, other_user):
    theirs = folder_create(owner=other_user, name="Theirs")
    mine = conversation_create(owner=other_user)  # theirs too: the folder must stay as it is
    conversation_move(conversation=mine, folder=theirs)
    url = f"/api/chat/folders/{theirs.pk}"
    for response in (auth_client.get(url), auth_client.patch(url, {"name": "Mine"}, format="json"),
                     auth_client.delete(url), auth_client.get("/api/chat/folders/999999")):
        assert response.status_code == 404 and response.json()["detail"]
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.conversations.count() == 1
    assert auth_client.get("/api/chat/folders").json() == []


def test_folders_need_a_login(api_client):
    assert api_client.get("/api/chat/folders").status_code in (401, 403)


# --- API: a conversation's folder and pin ------------------------------------------------------------

def test_a_conversation_is_moved_and_pinned_through_its_patch(auth_client, user):
    folder = folder_create(owner=user, name="Work")
    conversation = conversation_create(owner=user, title="plan")
    url = f"/api/chat/conversations/{conversation.pk}"
    body = auth_client.patch(url, {"folder": folder.pk, "pinned": True}, format="json").json()
    assert (body["folder"], body["pinned"]) == (folder.pk, True) and body["pinned_at"]
    detail = auth_client.get(url).json()
    assert (detail["folder"], detail["pinned"], detail["title"]) == (folder.pk, True, "plan")
    body = auth_client.patch(url, {"folder": None, "pinned": False}, format="json").json()
    assert (body["folder"], body["pinned"], body["pinned_at"]) == (None, False, None)


def test_moving_into_another_users_or_a_missing_folder_is_a_400_and_changes_nothing(auth_client, user,
                                                                                     other_user):
    mine = folder_create(owner=user, name="Mine")
    theirs = folder_create(owner=other_user, name="Theirs")
    conversation = conversation_create(owner=user, title="plan")
    conversation_move(conversation=conversation, folder=mine)
    for folder_id in (theirs.pk, 999999, "x"):
        response = auth_client.patch(f"/api/chat/conversations/{conversation.pk}",
                                     {"folder": folder_id, "title": "changed", "pinned": True}, format="json")
        assert response.status_code == 400 and response.json()["detail"], response.content
    conversation.refresh_from_db()
    assert (conversation.folder_id, conversation.title, conversation.pinned_at) == (mine.pk, "plan", None)


def test_pinned_conversations_come_first_most_recently_pinned_first_then_by_activity(auth_client, user):
    newest, middle, oldest, ancient = aged(user, ["newest", "middle", "oldest", "ancient"])
    assert listed(auth_client) == ["newest", "middle", "oldest", "ancient"]
    conversation_pin(conversation=oldest)
    conversation_pin(conversation=ancient)
    assert listed(auth_client) == ["ancient", "oldest", "newest", "middle"]
    conversation_pin(conversation=ancient, pinned=False)
    assert listed(auth_client) == ["oldest", "newest", "middle", "ancient"]


def test_the_list_filters_by_folder_or_by_none(auth_client, user, other_user):
    work = folder_create(owner=user, name="Work")
    home = folder_create(owner=user, name="Home")
    loose, at_work, at_home, pinned_at_work = aged(user, ["loose", "at work", "at home", "pinned at work"])
    conversation_move(conversation=at_work, folder=work)
    conversation_move(conversation=pinned_at_work, folder=work)
    conversation_pin(conversation=pinned_at_work)
    conversation_move(conversation=at_home, folder=home)
    assert listed(auth_client, folder=work.pk) == ["pinned at work", "at work"]
    assert listed(auth_client, folder="none") == ["loose"]
    assert listed(auth_client, folder="None") == ["loose"]
    assert len(listed(auth_client)) == 4
    assert listed(auth_client, folder=work.pk, q="pinned") == ["pinned at work"]
    theirs = folder_create(owner=other_user, name="Theirs")
    for bad in (theirs.pk, 999999, "work"):
        response = auth_client.get("/api/chat/conversations", {"folder": bad})
        assert response.status_code == 400 and response.json()["detail"] == "No such folder."


def test_the_list_costs_the_same_queries_however_many_folders_and_pins(auth_client, user, django_assert_num_queries):
    conversation_create(owner=user, title="alone")
    with CaptureQueriesContext(connection) as captured:
        assert auth_client.get("/api/chat/conversations").status_code == 200
    one = len(captured)
    for i in range(12):
        folder = folder_create(owner=user, name=f"folder {i}")
        conversation = conversation_create(owner=user, title=f"c{i}")
        conversation_move(conversation=conversation, folder=folder)
        if i % 2:
            conversation_pin(conversation=conversation)
    with django_assert_num_queries(one):
        body = auth_client.get("/api/chat/conversations").json()
    assert body["count"] == 13 and sum(item["pinned"] for item in body["results"]) == 6
    with django_assert_num_queries(1):
        assert len(auth_client.get("/api/chat/folders").json()) == 12


# --- admin ----------------------------------------------------------------------------------------

@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_the_conversation_admin_shows_and_filters_by_folder(staff_client, user):
    work = folder_create(owner=user, name="Work folder")
    inside, outside = aged(user, ["inside", "outside"])
    conversation_move(conversation=inside, folder=work)
    page = staff_client.get("/admin/chat/conversation/").content.decode()
    assert "Work folder" in page and "By folder" in page
    filtered = staff_client.get(f"/admin/chat/conversation/?folder__id__exact={work.pk}").content.decode()
    assert ">inside<" in filtered and ">outside<" not in filtered
    change = staff_client.get(f"/admin/chat/conversation/{inside.pk}/change/").content.decode()
    assert "Work folder" in change
    folders = staff_client.get("/admin/chat/folder/").content.decode()
    assert "Work folder" in folders and "alice" in folders


def test_the_api_root_lists_the_folder_endpoints_and_the_browsable_page_has_a_form(api_client, auth_client, user):
    chat = api_client.get("/api/").json()["chat"]
    assert chat["Folders"] == "http://testserver/api/chat/folders"
    assert chat["Folder"] == "http://testserver/api/chat/folders/{folder_id}"
    auth_client.force_authenticate(user)
    page = auth_client.get("/api/chat/folders", HTTP_ACCEPT="text/html").content.decode()
    assert "<h1>Folders</h1>" in page and 'name="name"' in page
