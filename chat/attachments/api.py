"""The attachments REST API: upload, read, delete a pending upload, download, and which models see images."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.errors import ChatError, ChatInputError

from . import services, storage
from .models import AttachmentKind
from .selectors import attachment_get_for_user
from .serializers import AttachmentOutputSerializer
from .vision import sees_images


class AttachmentApiError(APIException):
    def __init__(self, exc: ChatError):
        self.status_code = exc.status
        detail = {"detail": exc.detail}
        if exc.field:
            detail["errors"] = {exc.field: [exc.detail]}
        super().__init__(detail=detail)


def _get(request, attachment_id):
    try:
        return attachment_get_for_user(user=request.user, attachment_id=attachment_id)
    except ChatError as exc:
        raise AttachmentApiError(exc) from None


class AttachmentUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": inline_serializer("AttachmentUpload", {"file": serializers.FileField()})},
        responses={201: AttachmentOutputSerializer},
        summary="Upload one file (image, PDF or text) to send with a message; unused uploads go after a day.",
    )
    def post(self, request):
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ChatInputError("Send the file as the multipart field 'file'.", field="file")
            # Read one byte past the limit: enough to refuse, never the whole of a larger file.
            data = upload.read(services.upload_read_limit())
            attachment = services.attachment_upload(owner=request.user, name=upload.name or "", data=data)
        except ChatError as exc:
            raise AttachmentApiError(exc) from None
        return Response(AttachmentOutputSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDetailApi(APIView):
    @extend_schema(responses={200: AttachmentOutputSerializer})
    def get(self, request, attachment_id):
        return Response(AttachmentOutputSerializer(_get(request, attachment_id)).data)

    @extend_schema(responses={204: None}, summary="Delete an upload not sent yet.")
    def delete(self, request, attachment_id):
        try:
            services.attachment_delete(attachment=_get(request, attachment_id))
        except ChatError as exc:
            raise AttachmentApiError(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# Types a browser shows but never runs; text is served as plain text, whatever it holds.
SERVED_TYPES = {AttachmentKind.TEXT: "text/plain; charset=utf-8", AttachmentKind.PDF: "application/pdf"}


class AttachmentContentApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes},
                   summary="The file, to its owner only: images inline, other files as a download.")
    def get(self, request, attachment_id):
        attachment = _get(request, attachment_id)
        stored = storage.attachment_storage().open(storage.file_name(attachment.sha256), "rb")
        response = FileResponse(
            stored, as_attachment=attachment.kind != AttachmentKind.IMAGE, filename=attachment.name,
            content_type=SERVED_TYPES.get(attachment.kind, attachment.media_type),
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Opened on its own, the file runs nothing and reaches nothing.
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
        response["Cache-Control"] = "private, max-age=3600"
        return response


class VisionApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("provider", str, required=True), OpenApiParameter("model", str, required=True)],
        responses={200: inline_serializer("Vision", {"sees_images": serializers.BooleanField()})},
        summary="Whether a provider's model is sent images (otherwise it gets the text alone).",
    )
    def get(self, request):
        provider = request.query_params.get("provider", "")[:100]
        model = request.query_params.get("model", "")[:200]
        return Response({"sees_images": sees_images(provider, model)})
