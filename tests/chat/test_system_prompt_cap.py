"""A conversation's system prompt has a length cap: on create, on update and on a send, REST and socket alike."""

import pytest

from chat.errors import ChatInputError
from chat.models import Conversation, Message
from chat.services import conversation_create, conversation_update, send_input_clean
from chat.services.inputs import MAX_SYSTEM_PROMPT_CHARS

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (MAX_SYSTEM_PROMPT_CHARS + 1)


def test_creating_a_conversation_with_too_long_a_system_prompt_is_a_400_and_stores_nothing(auth_client):
    response = auth_client.post("/api/chat/conversations", {"system_prompt": TOO_LONG}, format="json")
    assert response.status_code == 400
    assert f"{MAX_SYSTEM_PROMPT_CHARS} characters" in response.json()["detail"]
    assert "system_prompt" in response.json()["errors"]
    assert not Conversation.objects.exists()


def test_updating_a_conversation_with_too_long_a_system_prompt_is_a_400_and_keeps_the_old_one(auth_client, user):
    conversation = conversation_create(owner=user, system_prompt="Be brief.")
    response = auth_client.patch(f"/api/chat/conversations/{conversation.pk}", {"system_prompt": TOO_LONG},
                                 format="json")
    assert response.status_code == 400 and "system_prompt" in response.json()["errors"]
    conversation.refresh_from_db()
    assert conversation.system_prompt == "Be brief."


def test_a_send_with_too_long_a_system_prompt_is_a_400_and_stores_nothing(auth_client):
    response = auth_client.post("/api/chat/send", {"message": "Hi", "selected_providers": ["demo"],
                                                   "system_prompt": TOO_LONG}, format="json")
    assert response.status_code == 400 and "system_prompt" in response.json()["errors"]
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_system_prompt_at_the_cap_is_taken(auth_client):
    at_cap = "x" * MAX_SYSTEM_PROMPT_CHARS
    response = auth_client.post("/api/chat/conversations", {"system_prompt": at_cap}, format="json")
    assert response.status_code == 201
    assert Conversation.objects.get().system_prompt == at_cap


def test_the_services_refuse_it_too_for_the_socket_and_the_admin(user):
    with pytest.raises(ChatInputError, match="at most") as refused:
        send_input_clean(message="Hi", selected_providers=["demo"], system_prompt=TOO_LONG)
    assert refused.value.field == "system_prompt"
    with pytest.raises(ChatInputError, match="at most"):
        conversation_create(owner=user, system_prompt=TOO_LONG)
    conversation = conversation_create(owner=user)
    with pytest.raises(ChatInputError, match="at most"):
        conversation_update(conversation=conversation, system_prompt=TOO_LONG)
    conversation.refresh_from_db()
    assert conversation.system_prompt == ""
