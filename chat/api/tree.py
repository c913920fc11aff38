"""The REST API of the conversation tree: thin views over chat/services/edits.py (docs/api.md, "Branches")."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..errors import ChatError
from ..serializers import ConversationDetailSerializer
from ..services import edits, inputs
from .common import ChatApiError, get_conversation, get_message
from .conversations import conversation_detail_data
from .send import ColumnInputSerializer, SendApi, sent_body


class EditInputSerializer(serializers.Serializer):
    message = serializers.CharField(trim_whitespace=False, max_length=inputs.MAX_MESSAGE_CHARS,
                                    style={"base_template": "textarea.html", "rows": 4})
    columns = serializers.ListField(
        child=ColumnInputSerializer(), required=False, min_length=1, max_length=inputs.MAX_COLUMNS_PER_TURN,
        help_text="Like a send's columns; default: the edited turn's (each column's latest reply: its provider, "
                  "model and settings).")
    attachments = serializers.ListField(child=serializers.IntegerField(), required=False,
                                        help_text="Ids of your uploads (POST /api/chat/attachments) to send.")


class EditApi(APIView):
    """Edit one of your messages and send it again: a new branch from that point, answered 202 like a
    send. The old message and everything after it stay, on their branch.

    The new message follows the same turn as the edited one, and the conversation shows its branch.
    Each column is regenerated from it with its own thread up to that point; replies still
    generating on the abandoned branch are stopped first.
    """

    name = "Edit and resend a message"

    def get_serializer(self, *args, **kwargs):
        """The browsable API's form: the new text (columns and attachments go in the JSON body)."""
        return EditInputSerializer(*args, **kwargs)

    @extend_schema(request=EditInputSerializer, responses={202: SendApi.SendOutputSerializer},
                   summary="Edit a message and send it again as a new branch; the replies stream over the WebSocket.")
    def post(self, request, message_id):
        message = get_message(request, message_id)
        data = EditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        columns = [dict(column) for column in fields["columns"]] if "columns" in fields else None
        try:
            result = edits.message_edit(user=request.user, message=message, text=fields["message"],
                                        columns=columns, attachments=fields.get("attachments"))
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(sent_body(result), status=status.HTTP_202_ACCEPTED)


class BranchInputSerializer(serializers.Serializer):
    turn = serializers.IntegerField(help_text="A user message of this conversation: its branch is shown.")


class BranchApi(APIView):
    """Show another branch: the conversation's branch on screen becomes the newest line through `turn`
    (a user message of it). Answers the conversation with that branch's newest turns, as GET of the
    conversation does; other open tabs get `conversation.updated` with the new `active_leaf`.
    """

    name = "Switch branch"

    def get_serializer(self, *args, **kwargs):
        return BranchInputSerializer(*args, **kwargs)

    @extend_schema(request=BranchInputSerializer, responses={200: ConversationDetailSerializer},
                   summary="Show the branch through a turn; answers the conversation on that branch.")
    def post(self, request, conversation_id):
        conversation = get_conversation(request, conversation_id)
        data = BranchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            edits.conversation_branch_switch(conversation=conversation, turn_id=data.validated_data["turn"])
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(conversation_detail_data(request, conversation))
