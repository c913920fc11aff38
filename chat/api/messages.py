"""Actions on one reply or turn: stop, regenerate, choose, fuse."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..errors import ChatError
from ..serializers import MessageOutputSerializer, message_data
from ..services import inputs
from .common import ChatApiError, get_message


class MessageActionApi(APIView):
    """Base for POST /messages/{id}/<action>."""

    def call(self, request, message_id, action):
        message = get_message(request, message_id)
        try:
            return action(reply=message)
        except ChatError as exc:
            raise ChatApiError(exc) from exc


class CancelApi(MessageActionApi):
    """Stop a reply that is still streaming; it ends as `cancelled` with its text so far."""

    name = "Stop a reply"

    @extend_schema(request=None, responses={202: MessageOutputSerializer})
    def post(self, request, message_id):
        reply = self.call(request, message_id, services.reply_cancel)
        return Response(message_data(reply), status=status.HTTP_202_ACCEPTED)


class RegenerateApi(MessageActionApi):
    """Ask the same provider and model again: a new version of the reply, streamed like the first."""

    name = "Regenerate a reply"

    @extend_schema(request=None, responses={202: inline_serializer("RegenerateOutput", {
        "reply": MessageOutputSerializer()})})
    def post(self, request, message_id):
        reply = self.call(request, message_id, services.reply_regenerate)
        return Response({"reply": message_data(reply)}, status=status.HTTP_202_ACCEPTED)


class ChooseApi(MessageActionApi):
    """Choose the reply that follow-ups see, when the conversation's follow-ups see the chosen reply."""

    name = "Choose a reply"

    @extend_schema(request=None, responses={200: MessageOutputSerializer})
    def post(self, request, message_id):
        reply = self.call(request, message_id, services.reply_choose)
        return Response(message_data(reply))


class FuseInputSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=inputs.MAX_PROVIDER_NAME_CHARS)
    model = serializers.CharField(required=False, max_length=inputs.MAX_MODEL_CHARS,
                                  help_text="Default: the provider's default model.")
    replies = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False,
                                    help_text="Ids of finished replies of this turn; default: each column's latest.")
    prompt = serializers.CharField(required=False, trim_whitespace=False,
                                   max_length=inputs.MAX_SYSTEM_PROMPT_CHARS,
                                   help_text="A template holding {replies} and usually {question}; "
                                             "default: the one GET answers.")


class FuseApi(APIView):
    """Fuse a turn's replies: a model the user picks combines them into one answer, a new reply of
    the turn (its own column, `fuse`, `fuse#2`…) that streams like any other. The URL names the
    user's message. GET answers the default prompt and the replies fused by default.
    """

    name = "Fuse replies"

    def turn(self, request, message_id):
        message = get_message(request, message_id)
        if message.role != "user" or message.reply_to_id is not None:
            raise Http404("No such turn.")
        return message

    @extend_schema(responses={200: inline_serializer("FuseDefaults", {
        "prompt": serializers.CharField(), "replies": serializers.ListField(child=serializers.IntegerField())})},
        summary="The default fuse prompt and the replies fused by default.")
    def get(self, request, message_id):
        message = self.turn(request, message_id)
        return Response({"prompt": services.DEFAULT_FUSE_PROMPT,
                         "replies": [reply.pk for reply in services.fuse_candidates(message)]})

    @extend_schema(request=FuseInputSerializer, responses={202: inline_serializer("FuseOutput", {
        "reply": MessageOutputSerializer()})}, summary="Fuse a turn's replies into a new reply, streamed.")
    def post(self, request, message_id):
        message = self.turn(request, message_id)
        data = FuseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            reply = services.reply_fuse(user_message=message, provider=fields["provider"], model=fields.get("model"),
                                        reply_ids=fields.get("replies"), prompt=fields.get("prompt"))
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response({"reply": message_data(reply)}, status=status.HTTP_202_ACCEPTED)
