"""What every chat API view shares: ChatError as a DRF answer, the user's conversation, message or folder
from a URL or a body (404 or 400 otherwise), and the number fields of a send's settings."""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import APIException

from ..errors import ChatError, ChatInputError
from ..selectors import (
    ConversationNotFound,
    FolderNotFound,
    conversation_get_for_user,
    folder_get_for_user,
    message_get_for_user,
)
from ..services import inputs


class ChatApiError(APIException):
    """A ``chat.errors.ChatError`` as DRF answers it: its status, a JSON ``detail``, the field at fault."""

    status_code = 400

    def __init__(self, exc: ChatError):
        self.status_code = exc.status
        self.wait = exc.retry_after  # DRF's handler turns it into Retry-After
        detail = {"detail": exc.detail}
        if exc.field:
            detail["errors"] = {exc.field: [exc.detail]}
        super().__init__(detail=detail)


def get_conversation(request, conversation_id):
    try:
        return conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    except ConversationNotFound:
        raise Http404("No such conversation.") from None


def get_message(request, message_id):
    try:
        return message_get_for_user(user=request.user, message_id=message_id)
    except ConversationNotFound:
        raise Http404("No such message.") from None


def folder_for_input(request, folder_id):
    """A folder named in a body or a query: one of the user's, else a 400 (alike for another's)."""
    try:
        return folder_get_for_user(user=request.user, folder_id=folder_id)
    except FolderNotFound:
        raise ChatApiError(ChatInputError("No such folder.", field="folder")) from None


def temperature_field() -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True, min_value=inputs.TEMPERATURE_MIN,
                                  max_value=inputs.TEMPERATURE_MAX)


def max_tokens_field() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, min_value=inputs.MAX_TOKENS_MIN,
                                    max_value=inputs.MAX_TOKENS_MAX)
