"""``GET /api/chat/providers``: what the chat page's picker and API clients can choose from."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .catalog import provider_catalog
from .registry import PROVIDER_CLASSES


class ProvidersApi(APIView):
    """The providers one can pick: their names, kinds, models and default model (never a key)."""

    name = "Providers"

    # Deliberately no base URL and no key: only what a user needs to pick.
    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        kind = serializers.CharField()
        models = serializers.ListField(child=serializers.CharField())
        default_model = serializers.CharField(allow_blank=True)
        accepts = serializers.SerializerMethodField(
            help_text="Settings this provider's kind sends: temperature, max_tokens, system_prompt.")

        def get_accepts(self, config) -> list[str]:
            return list(PROVIDER_CLASSES[config.kind].accepted_parameters)

    @extend_schema(responses={200: OutputSerializer(many=True)}, operation_id="providers_list",
                   summary="The enabled providers, their models and default model.")
    def get(self, request):
        return Response(self.OutputSerializer(provider_catalog(), many=True).data)
