"""One's default picks for a new chat."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..errors import ChatError
from ..models import ContextMode
from ..services import inputs
from .common import ChatApiError


class PreferencesSerializer(serializers.Serializer):
    providers = serializers.ListField(child=serializers.CharField(max_length=inputs.MAX_PROVIDER_NAME_CHARS),
                                      required=False)
    models = serializers.DictField(child=serializers.CharField(max_length=inputs.MAX_MODEL_CHARS, allow_blank=True),
                                   required=False)
    params = serializers.DictField(required=False, help_text="Like a conversation's default_params.")
    columns = serializers.ListField(child=serializers.DictField(), required=False,
                                    max_length=inputs.MAX_COLUMNS_PER_TURN,
                                    help_text="Like a conversation's default_columns.")
    context_mode = serializers.ChoiceField(choices=ContextMode.choices, required=False)


class PreferencesApi(APIView):
    """One's default picks for a new chat: providers, their models, settings and what follow-ups see.
    PATCH changes them (fields left out are kept).
    """

    name = "Preferences"

    def get_serializer(self, *args, **kwargs):
        """The browsable API's PATCH body, filled with the current preferences."""
        return PreferencesSerializer(instance=(self.request.user.preferences or {}).get("chat") or {})

    @extend_schema(responses={200: PreferencesSerializer}, summary="One's default picks for a new chat.")
    def get(self, request):
        return Response((request.user.preferences or {}).get("chat") or {})

    @extend_schema(request=PreferencesSerializer, responses={200: PreferencesSerializer},
                   summary="Change one's default picks; fields left out are kept.")
    def patch(self, request):
        data = PreferencesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            return Response(services.user_chat_preferences_update(user=request.user, **data.validated_data))
        except ChatError as exc:
            raise ChatApiError(exc) from exc
