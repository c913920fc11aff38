"""Importing a webox, ChatGPT or Open WebUI export into one's account."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import archives, imports, limits
from ..errors import ChatError, ChatInputError
from ..serializers import ConversationOutputSerializer
from .common import ChatApiError


class NotImportedSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(help_text="The conversation's place in the file, from 1.")
    title = serializers.CharField()
    message = serializers.CharField(help_text="The file's id of the message.")
    role = serializers.CharField(help_text="Its role in the file: user, assistant, system, tool…")
    what = serializers.CharField(help_text='What was left out, e.g. "image", "a call to python", "system message".')


class ImportApi(APIView):
    """Import a file into one's own account, as the multipart form field `file` (or the body): a webox
    export (JSON or zip), a ChatGPT `conversations.json` or an Open WebUI chat export, told apart by
    their shape. All of it, or with a 400 nothing; what a peer's file holds that webox cannot is listed
    in `not_imported`.
    """

    name = "Import conversations"
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT,
                 "multipart/form-data": inline_serializer("ImportUpload", {"file": serializers.FileField()})},
        responses={201: inline_serializer("ImportOutput", {
            "format": serializers.ChoiceField(choices=["webox", "chatgpt", "openwebui"]),
            "conversations": ConversationOutputSerializer(many=True),
            "not_imported": NotImportedSerializer(many=True),
            "not_imported_count": serializers.IntegerField(help_text="All left out (the list stops at 1000)."),
        })},
        summary="Import a webox, ChatGPT or Open WebUI export: all of it or, with a 400, nothing.",
    )
    def post(self, request):
        try:
            limits.check_import_rate(request.user)
            if request.content_type.startswith("multipart/"):
                upload = request.FILES.get("file")
                if upload is None:
                    raise imports.ExportFileError('Send the export as the form field "file".')
                if archives.is_zip(upload.read(4)):  # bounded by WEBOX_MAX_UPLOAD_BYTES (webox/middleware.py)
                    upload.seek(0)
                    result = archives.conversations_import_zip(owner=request.user, file=upload)
                    return self._created(result)
                upload.seek(0)
                if upload.size > imports.MAX_IMPORT_BYTES:
                    raise imports.ExportFileError(
                        f"The file is larger than {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
                raw = upload.read()
            else:
                raw = request.body
            result = imports.conversations_import(owner=request.user, raw=raw)
        except RequestDataTooBig:
            raise ChatApiError(ChatInputError(
                'The body is too large: upload the file as multipart form field "file".')) from None
        except imports.ExportFileError as exc:
            raise ChatApiError(ChatInputError(exc.detail)) from exc
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return self._created(result)

    def _created(self, result: imports.Imported) -> Response:
        return Response({"format": result.format,
                         "conversations": ConversationOutputSerializer(result.conversations, many=True).data,
                         "not_imported": result.not_imported_data(),
                         "not_imported_count": len(result.not_imported)},
                        status=status.HTTP_201_CREATED)
