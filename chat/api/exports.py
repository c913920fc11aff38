"""Downloads: one conversation or all of them, as JSON, Markdown or a zip with the files, streamed as read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from .. import archives, exports
from ..errors import ChatInputError
from ..selectors import conversation_list_for_user
from .common import ChatApiError, get_conversation

EXPORT_FORMATS = {
    "json": (exports.conversations_export_json_chunks, "application/json", "json"),
    "md": (exports.conversations_export_markdown_chunks, "text/markdown; charset=utf-8", "md"),
}
EXPORT_PARAMETERS = [OpenApiParameter("format", str, enum=[*EXPORT_FORMATS, "zip"],
                                      description="Default: json. zip: the JSON and the attachments' files.")]
# An export is sent in pieces of about this size: few thread hops, little memory.
EXPORT_PIECE_BYTES = 64 * 1024


def _pieces(chunks: Iterator[str]) -> Iterator[bytes]:
    buffer: list[bytes] = []
    size = 0
    for chunk in chunks:
        data = chunk.encode()
        buffer.append(data)
        size += len(data)
        if size >= EXPORT_PIECE_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


async def _pieces_async(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Each piece is read in the request's own thread, where its queries ran (ThreadSensitiveContext).
    step = sync_to_async(next, thread_sensitive=True)
    while (piece := await step(pieces, None)) is not None:
        yield piece


def export_response(request, conversations, filename: str) -> StreamingHttpResponse:
    """The export as a download sent while it is read from the database, one conversation at a time.

    Under ASGI (daphne) Django would read a plain iterator whole before sending a byte, so there
    the pieces are handed over as an async iterator.
    """
    name = request.query_params.get("format", "json")
    if name == "zip":  # the JSON with the attachments' files (chat/archives.py)
        return FileResponse(archives.conversations_export_zip(conversations), as_attachment=True,
                            filename=f"{filename}.zip", content_type="application/zip")
    if name not in EXPORT_FORMATS:
        raise ChatApiError(ChatInputError("format must be json, md or zip.", field="format"))
    render, content_type, extension = EXPORT_FORMATS[name]
    pieces = _pieces(render(conversations))
    asgi = isinstance(request._request, ASGIRequest)
    response = StreamingHttpResponse(_pieces_async(pieces) if asgi else pieces, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response


class ExportView(APIView):
    """``?format=`` names the file format here, not one of DRF's renderers."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


class ConversationExportApi(ExportView):
    """Download one conversation: `format=json` (lossless, importable) or `format=md` (Markdown)."""

    name = "Export a conversation"

    @extend_schema(parameters=EXPORT_PARAMETERS, responses={(200, "application/json"): OpenApiTypes.OBJECT,
                                                            (200, "text/markdown"): OpenApiTypes.STR},
                   summary="One conversation as a lossless JSON file or as Markdown.")
    def get(self, request, conversation_id):
        conversation = get_conversation(request, conversation_id)
        return export_response(request, [conversation], f"webox-conversation-{conversation.pk}")


class ExportApi(ExportView):
    """Download all of one's conversations, archived ones too: `format=json` or `format=md`."""

    name = "Export all conversations"

    @extend_schema(parameters=EXPORT_PARAMETERS, responses={(200, "application/json"): OpenApiTypes.OBJECT,
                                                            (200, "text/markdown"): OpenApiTypes.STR},
                   summary="All of one's conversations, archived ones too.", operation_id="chat_export_all")
    def get(self, request):
        conversations = conversation_list_for_user(user=request.user, archived=None).order_by("created_at", "id")
        return export_response(request, conversations, "webox-conversations")
