"""Conversations: the list (and creating one), one conversation's page of turns, changing and deleting it."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..errors import ChatError, ChatInputError
from ..models import ContextMode
from ..selectors import NO_FOLDER, conversation_list_for_user, conversation_message_get, conversation_messages_page
from ..serializers import (
    ConversationDetailSerializer,
    ConversationListItemSerializer,
    ConversationOutputSerializer,
    conversation_data,
    message_data,
)
from ..services import inputs
from .common import ChatApiError, folder_for_input, get_conversation


class ConversationInputSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    system_prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                          max_length=inputs.MAX_SYSTEM_PROMPT_CHARS)
    archived = serializers.BooleanField(required=False)
    default_providers = serializers.ListField(
        child=serializers.CharField(max_length=inputs.MAX_PROVIDER_NAME_CHARS), required=False)
    default_models = serializers.DictField(child=serializers.CharField(max_length=inputs.MAX_MODEL_CHARS),
                                           required=False)
    default_params = serializers.DictField(required=False)
    default_columns = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=inputs.MAX_COLUMNS_PER_TURN,
        help_text="[{key?, provider, model?, temperature?, max_tokens?, system_prompt?}], like a send's columns. "
                  "Setting it rewrites the short-form default_* fields, and the other way round.")
    context_mode = serializers.ChoiceField(choices=ContextMode.choices, required=False)
    blind = serializers.BooleanField(required=False, help_text="A blind arena: replies are Model A, B, … until "
                                                               "their turn is voted on or revealed.")


class ConversationChangeSerializer(ConversationInputSerializer):
    folder = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="The id of one of your folders to put it in; null: out of any.")
    pinned = serializers.BooleanField(required=False, help_text="Pin it to the top of the list, or unpin it.")


class ConversationPagination(PageNumberPagination):
    page_size = 30
    page_size_query_param = "page_size"
    max_page_size = 100


ARCHIVED_FILTERS = {"false": False, "0": False, "true": True, "1": True, "all": None}


class ConversationPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ConversationListItemSerializer(many=True)


class ConversationListApi(APIView):
    """One's conversations, most recently active first after the pinned ones (most recently pinned
    first), 30 a page (`page`, `page_size`), without the archived ones unless `archived=true`
    or `all`; `q` keeps the titles that contain it; `folder` keeps one folder's (`none`: those in
    no folder). POST creates an empty conversation.
    """

    name = "Conversations"

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Only titles containing this text."),
            OpenApiParameter("archived", str, enum=["false", "true", "all"], description="Default: false."),
            OpenApiParameter("folder", str, description="A folder's id: only its conversations; `none`: those "
                                                        "in no folder; left out: all."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 100; default 30."),
        ],
        responses={200: ConversationPageSerializer},
        operation_id="chat_conversations_list",
    )
    def get(self, request):
        archived_param = request.query_params.get("archived", "false").lower()
        if archived_param not in ARCHIVED_FILTERS:
            raise ChatApiError(ChatInputError("archived must be true, false or all.", field="archived"))
        archived = ARCHIVED_FILTERS[archived_param]
        query = request.query_params.get("q", "").strip()
        try:
            services.clean_text(query, field="q")
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        folder = request.query_params.get("folder", "").strip()
        if folder:
            folder = NO_FOLDER if folder.lower() == NO_FOLDER else folder_for_input(request, folder)
        conversations = conversation_list_for_user(user=request.user, query=query, archived=archived,
                                                   folder=folder or None)
        paginator = self.paginator = ConversationPagination()  # the browsable API shows its page links
        page = paginator.paginate_queryset(conversations, request, view=self)
        return paginator.get_paginated_response(ConversationListItemSerializer(page, many=True).data)

    @extend_schema(request=ConversationInputSerializer, responses={201: ConversationOutputSerializer})
    def post(self, request):
        data = ConversationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            conversation = services.conversation_create(owner=request.user, **data.validated_data)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(conversation_data(conversation), status=status.HTTP_201_CREATED)


class ConversationDetailApi(APIView):
    """One conversation with its newest turns (`before` pages back). PUT or PATCH changes its title,
    system prompt, archived flag or defaults, its `folder` (an id, or null) and `pinned` (fields
    left out are kept); DELETE deletes it.
    """

    name = "Conversation"

    class RenameFormSerializer(serializers.Serializer):
        """The browsable API's form: a new title (the other fields go in the JSON body)."""

        title = serializers.CharField(allow_blank=True, max_length=200)

    def get_serializer(self, *args, **kwargs):
        """The browsable API's rename form, holding the current title."""
        conversation = get_conversation(self.request, self.kwargs["conversation_id"])
        return self.RenameFormSerializer(instance={"title": conversation.title})

    @extend_schema(
        parameters=[OpenApiParameter(
            "before", int, description="A message id (the `before` of a page): the turns older than it.")],
        responses={200: ConversationDetailSerializer},
        summary="A conversation with its newest turns (each with all its replies); `before` pages back.",
    )
    def get(self, request, conversation_id):
        conversation = get_conversation(request, conversation_id)
        before = None
        if "before" in request.query_params:
            before = conversation_message_get(conversation=conversation, message_id=request.query_params["before"])
            if before is None:
                raise ChatApiError(ChatInputError("before must be the id of a message of this conversation.",
                                                  field="before"))
        return Response(conversation_detail_data(request, conversation, before=before))

    @extend_schema(request=ConversationChangeSerializer, responses={200: ConversationOutputSerializer})
    def put(self, request, conversation_id):
        return self._update(request, conversation_id)

    @extend_schema(request=ConversationChangeSerializer, responses={200: ConversationOutputSerializer})
    def patch(self, request, conversation_id):
        return self._update(request, conversation_id)

    def _update(self, request, conversation_id):
        conversation = get_conversation(request, conversation_id)
        data = ConversationChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        arrange = {}
        if "folder" in fields:
            folder_id = fields.pop("folder")
            arrange["folder"] = None if folder_id is None else folder_for_input(request, folder_id)
        pinned = fields.pop("pinned", None)
        try:
            with transaction.atomic():  # all the changes, or none
                if fields:
                    services.conversation_update(conversation=conversation, **fields)
                if "folder" in arrange:
                    services.conversation_move(conversation=conversation, folder=arrange["folder"])
                if pinned is not None:
                    services.conversation_pin(conversation=conversation, pinned=pinned)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(conversation_data(conversation))

    @extend_schema(responses={204: None})
    def delete(self, request, conversation_id):
        services.conversation_delete(conversation=get_conversation(request, conversation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def conversation_detail_data(request, conversation, *, before=None) -> dict:
    """A conversation with a page of the turns of its branch on screen (``before``: the older ones)."""
    page = conversation_messages_page(conversation=conversation, before=before)
    data = conversation_data(conversation)
    data["active_leaf"] = page.active_leaf
    data["messages"] = [message_data(m) for m in page.messages]
    data["before"] = page.before
    path = reverse("api-conversation", args=[conversation.pk])
    data["next"] = (request.build_absolute_uri(f"{path}?before={page.before}") if page.before is not None else None)
    return data
