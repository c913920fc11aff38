"""Searching the text of one's messages and replies."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import APIView

from .. import blinding, search
from ..errors import ChatInputError
from .common import ChatApiError


class SearchResultSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    conversation_title = serializers.CharField(source="conversation.title")
    conversation_archived = serializers.BooleanField(source="conversation.archived")
    message_id = serializers.IntegerField(source="id")
    role = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    created_at = serializers.DateTimeField()
    turn = serializers.SerializerMethodField(
        help_text="The user message (turn) the hit belongs to, on whichever branch; POST it to the conversation's "
                  "branch endpoint to show that branch. null: a message of no turn.")
    snippet = serializers.SerializerMethodField(
        help_text="Plain text around the match, HTML-escaped; only the matched words are in <mark>.")

    @staticmethod
    def get_turn(message) -> int | None:
        if message.reply_to_id is not None:
            return message.reply_to_id
        return message.pk if message.role == "user" else None

    def get_snippet(self, message) -> str:
        text = message.content
        if blinding.hidden(message):
            text = blinding.mask_names(text, provider=message.provider, model=message.model)
        return search.snippet(text, self.context["query"])

    def to_representation(self, message) -> dict:
        data = super().to_representation(message)
        if blinding.hidden(message):
            data["provider"] = data["model"] = ""
        return data


class SearchPagination(PageNumberPagination):
    """Over search.Matches: counted with len() (at most search.MAX_COUNT), a page in one query."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 50


class SearchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Matches, counted up to 1000.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SearchResultSerializer(many=True)


class SearchApi(APIView):
    """Search the text of one's messages and replies, newest first, 20 a page: `q` holds the words."""

    name = "Search"

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="Words; each matches words starting with it."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 50; default 20."),
        ],
        responses={200: SearchPageSerializer},
        summary="Search the text of one's messages and replies, newest first.",
    )
    def get(self, request):
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ChatApiError(ChatInputError("Write something to search for.", field="q"))
        if len(query) > search.MAX_QUERY_CHARS:
            raise ChatApiError(ChatInputError(
                f"A search holds at most {search.MAX_QUERY_CHARS} characters.", field="q"))
        paginator = self.paginator = SearchPagination()  # the browsable API shows its page links
        page = paginator.paginate_queryset(search.message_search_for_user(user=request.user, query=query),
                                           request, view=self)
        data = SearchResultSerializer(page, many=True, context={"query": query}).data
        return paginator.get_paginated_response(data)
