"""The REST API of votes and the blind arena: thin views over chat/services/votes.py and arena.py."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..errors import ChatError, ChatNotFound
from ..models import VoteOutcome
from ..serializers import (
    ConversationOutputSerializer,
    MessageOutputSerializer,
    VoteOutputSerializer,
    message_data,
    vote_data,
)
from ..services import arena, inputs
from .common import ChatApiError, get_conversation, get_message
from .send import sent_body


class VoteApi(APIView):
    class VoteInputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(choices=VoteOutcome.choices)
        winners = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                        help_text="Reply ids: one for best, two or more for tie, none for all_bad.")

    @extend_schema(responses={200: VoteOutputSerializer}, summary="The vote on a turn (404: none).")
    def get(self, request, message_id):
        try:
            vote = services.vote_for_turn(turn=get_message(request, message_id))
            if vote is None:
                raise ChatNotFound("This turn has no vote.")
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(vote_data(vote))

    @extend_schema(request=VoteInputSerializer, responses={200: VoteOutputSerializer},
                   summary="Vote on a turn (replacing an earlier vote); a blind turn is revealed by it.")
    def put(self, request, message_id):
        turn = get_message(request, message_id)
        data = self.VoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            vote = services.vote_cast(turn=turn, **data.validated_data)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(vote_data(vote))

    @extend_schema(responses={204: None}, summary="Withdraw the vote on a turn (and with it the chosen reply).")
    def delete(self, request, message_id):
        try:
            services.vote_withdraw(turn=get_message(request, message_id))
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevealApi(APIView):
    @extend_schema(request=None, responses={200: inline_serializer("RevealOutput", {
        "replies": MessageOutputSerializer(many=True)})},
        summary="Reveal who wrote each reply of a blind turn; a vote after this counts apart.")
    def post(self, request, message_id):
        try:
            replies = services.turn_reveal(turn=get_message(request, message_id))
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response({"replies": [message_data(reply) for reply in replies]})


class ArenaApi(APIView):
    class ArenaInputSerializer(serializers.Serializer):
        conversation_id = serializers.IntegerField(required=False, allow_null=True,
                                                   help_text="A blind conversation of yours; none: a new one.")
        message = serializers.CharField(trim_whitespace=False, max_length=inputs.MAX_MESSAGE_CHARS)
        count = serializers.IntegerField(min_value=arena.ARENA_MIN_MODELS, max_value=arena.ARENA_MAX_MODELS,
                                         help_text="How many random models answer.")

    class ArenaOutputSerializer(serializers.Serializer):
        conversation = ConversationOutputSerializer()
        user_message = MessageOutputSerializer()
        replies = MessageOutputSerializer(many=True)

    @extend_schema(request=ArenaInputSerializer, responses={202: ArenaOutputSerializer},
                   summary="A blind turn to N models picked at random from the ones you may use.")
    def post(self, request):
        data = self.ArenaInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        conversation_id = fields.pop("conversation_id", None)
        conversation = get_conversation(request, conversation_id) if conversation_id is not None else None
        try:
            result = services.arena_send(user=request.user, conversation=conversation, **fields)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(sent_body(result), status=status.HTTP_202_ACCEPTED)
