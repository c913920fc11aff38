"""The share links' REST API: thin views over chat/sharing/services.py and selectors.py."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from ..api.common import ChatApiError, get_conversation
from ..errors import ChatError
from ..models import Share
from .selectors import ShareNotFound, share_get_for_user, share_list_for_user
from .services import share_create, share_revoke


class ShareOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The public page: no login needed.")
    conversation_id = serializers.IntegerField()
    conversation_title = serializers.CharField(source="conversation.title")
    turn = serializers.IntegerField(source="leaf_id", help_text="The last turn shared: the branch ends there.")

    class Meta:
        model = Share
        fields = ["token", "url", "conversation_id", "conversation_title", "turn", "show_details", "created_at"]
        read_only_fields = fields

    def get_url(self, share: Share) -> str:
        return self.context["request"].build_absolute_uri(reverse("chat:shared", args=[share.token]))


class SharePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class ConversationShareApi(APIView):
    """Share the branch on screen (or the branch ending at `turn`) as a read-only link, as it is now:
    later turns, replies and regenerated versions never show on it. 403 when sharing is off."""

    name = "Share a conversation"

    class ShareInputSerializer(serializers.Serializer):
        show_details = serializers.BooleanField(required=False, default=False,
                                                help_text="Show models, usage and costs (blind turns stay blind).")
        turn = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="A user message: share the branch ending there. "
                                                  "Default: the branch on screen.")

    @extend_schema(request=ShareInputSerializer, responses={201: ShareOutputSerializer})
    def post(self, request, conversation_id):
        conversation = get_conversation(request, conversation_id)
        data = self.ShareInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            share = share_create(user=request.user, conversation=conversation, **data.validated_data)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response(ShareOutputSerializer(share, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class ShareListApi(APIView):
    """One's share links, newest first, 50 a page."""

    name = "Share links"

    @extend_schema(responses={200: ShareOutputSerializer(many=True)})
    def get(self, request):
        paginator = self.paginator = SharePagination()
        page = paginator.paginate_queryset(share_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(
            ShareOutputSerializer(page, many=True, context={"request": request}).data)


class ShareDetailApi(APIView):
    """DELETE revokes a link: its URL answers 404 from then on."""

    name = "Share link"

    @extend_schema(responses={200: ShareOutputSerializer})
    def get(self, request, token):
        return Response(ShareOutputSerializer(self.share(request, token), context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, token):
        share_revoke(share=self.share(request, token))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def share(request, token) -> Share:
        try:
            return share_get_for_user(user=request.user, token=token)
        except ShareNotFound:
            raise Http404("No such share link.") from None
