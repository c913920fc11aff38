"""The chat REST API: thin views over chat.services (writes) and chat/selectors.py (reads)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import archives, blinding, exports, limits, search, services
from .attachments.selectors import pending_attachments_get
from .errors import ChatError, ChatInputError
from .models import ContextMode
from .providers import provider_catalog
from .selectors import (
    ConversationNotFound,
    conversation_get_for_user,
    conversation_list_for_user,
    conversation_message_get,
    conversation_messages_page,
    message_get_for_user,
)
from .serializers import (
    ConversationDetailSerializer,
    ConversationListItemSerializer,
    ConversationOutputSerializer,
    MessageOutputSerializer,
    conversation_data,
    message_data,
    represent,
)
from .services import inputs
from .usage.estimate import columns_estimate, turn_totals


class ChatApiError(APIException):
    """A ``chat.errors.ChatError`` as DRF answers it: its status, a JSON ``detail``, the field at fault."""

    status_code = 400

    def __init__(self, exc: ChatError):
        self.status_code = exc.status
        self.wait = exc.retry_after  # DRF's handler turns it into Retry-After
        detail = {"detail": exc.detail}
        if exc.field:
            detail["errors"] = {exc.field: [exc.detail]}
        super().__init__(detail=detail)


def get_conversation(request, conversation_id):
    try:
        return conversation_get_for_user(user=request.user, conversation_id=conversation_id)
    except ConversationNotFound:
        raise Http404("No such conversation.") from None


def get_message(request, message_id):
    try:
        return message_get_for_user(user=request.user, message_id=message_id)
    except ConversationNotFound:
        raise Http404("No such message.") from None


def temperature_field() -> serializers.FloatField:
    return serializers.FloatField(required=False, allow_null=True, min_value=inputs.TEMPERATURE_MIN,
                                  max_value=inputs.TEMPERATURE_MAX)


def max_tokens_field() -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, min_value=inputs.MAX_TOKENS_MIN,
                                    max_value=inputs.MAX_TOKENS_MAX)


class ParametersSerializer(serializers.Serializer):
    temperature = temperature_field()
    max_tokens = max_tokens_field()
    system_prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                          max_length=inputs.MAX_SYSTEM_PROMPT_CHARS,
                                          help_text="This column's own system prompt, instead of the conversation's.")


class ColumnInputSerializer(ParametersSerializer):
    key = serializers.CharField(required=False, max_length=inputs.MAX_COLUMN_KEY_CHARS,
                                help_text="Names the column's thread across turns; default: the provider's name, "
                                          "then name#2, name#3… for its further columns in the list.")
    provider = serializers.CharField(max_length=inputs.MAX_PROVIDER_NAME_CHARS)
    model = serializers.CharField(required=False, max_length=inputs.MAX_MODEL_CHARS,
                                  help_text="Default: the provider's default model.")
    history = serializers.ChoiceField(
        choices=inputs.HISTORIES, required=False,
        help_text="A column with no reply yet on this branch: chosen (default) starts its thread from the earlier "
                  "turns with their chosen replies; empty starts it with no earlier turns.")


class SendInputSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField(required=False, allow_null=True)
    message = serializers.CharField(trim_whitespace=False, max_length=inputs.MAX_MESSAGE_CHARS)
    columns = serializers.ListField(
        child=ColumnInputSerializer(), required=False, min_length=1, max_length=inputs.MAX_COLUMNS_PER_TURN,
        help_text="The turn's columns (1 to 8); a provider may appear in several. Or use the short form.")
    selected_providers = serializers.ListField(
        child=serializers.CharField(max_length=inputs.MAX_PROVIDER_NAME_CHARS), allow_empty=False, required=False,
        help_text="The short form: one column per provider (instead of columns).")
    selected_models = serializers.DictField(child=serializers.CharField(max_length=inputs.MAX_MODEL_CHARS),
                                            required=False, help_text="The short form: {provider: model}.")
    temperature = temperature_field()
    max_tokens = max_tokens_field()
    system_prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                          max_length=inputs.MAX_SYSTEM_PROMPT_CHARS)
    provider_params = serializers.DictField(child=ParametersSerializer(), required=False,
                                            help_text="The short form: {provider: its own settings}.")
    attachments = serializers.ListField(child=serializers.IntegerField(), required=False,
                                        help_text="Ids of your uploads (POST /api/chat/attachments) to send.")


def send_fields(request, serializer_class=SendInputSerializer):
    """The send's body, checked: its conversation (None: a new one) and the fields for send_input_clean."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    conversation_id = fields.pop("conversation_id", None)
    conversation = get_conversation(request, conversation_id) if conversation_id is not None else None
    if "columns" in fields:
        fields["columns"] = [dict(column) for column in fields["columns"]]
    return conversation, fields


class SendApi(APIView):
    """Send one message to 1 to 8 columns: answers 202 with the stored message and one `pending`
    reply per column; the replies then stream over the conversation's WebSocket.

    Leave `conversation_id` empty to start a new conversation. The JSON body takes `columns`
    (provider, model and settings of each; a provider may appear in several) or the short form
    `selected_providers` (one column per provider, its default model unless `selected_models`
    names another). The form below is the short form.
    """

    name = "Send a message"

    class SendOutputSerializer(serializers.Serializer):
        conversation = ConversationOutputSerializer()
        user_message = MessageOutputSerializer()
        replies = MessageOutputSerializer(many=True)

    class SendFormSerializer(serializers.Serializer):
        """The browsable API's form: the fields a person fills in (the JSON body takes them all)."""

        conversation_id = serializers.IntegerField(required=False, allow_null=True,
                                                   help_text="Empty: a new conversation.")
        message = serializers.CharField(style={"base_template": "textarea.html", "rows": 4})
        selected_providers = serializers.MultipleChoiceField(choices=[])
        temperature = temperature_field()
        max_tokens = max_tokens_field()

    def get_serializer(self, *args, **kwargs):
        """The browsable API's form, offering the providers this user can pick."""
        form = self.SendFormSerializer(*args, **kwargs)
        form.fields["selected_providers"].choices = [(c.name, c.name) for c in provider_catalog()]
        return form

    @extend_schema(request=SendInputSerializer, responses={202: SendOutputSerializer},
                   summary="Send one message to 1–8 columns; the replies stream over the WebSocket.")
    def post(self, request):
        conversation, fields = send_fields(request)
        try:
            send = services.send_input_clean(**fields)
            result = services.message_send(user=request.user, conversation=conversation, send=send)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        body = {"conversation": result.conversation, "user_message": result.user_message, "replies": result.replies}
        return Response(represent(self.SendOutputSerializer, body), status=status.HTTP_202_ACCEPTED)


class EstimateInputSerializer(SendInputSerializer):
    message = serializers.CharField(trim_whitespace=False, max_length=inputs.MAX_MESSAGE_CHARS, allow_blank=True,
                                    required=False, default="")


class ColumnEstimateSerializer(serializers.Serializer):
    key = serializers.CharField()
    provider = serializers.CharField()
    model = serializers.CharField()
    input_tokens = serializers.IntegerField(help_text="Its own thread, system prompt and the new message.")
    tokenizer = serializers.CharField(help_text="The table counted with; chars/4 before one has loaded.")
    exact = serializers.BooleanField(help_text="false: an approximation (not the model's own tokenizer).")
    max_output_tokens = serializers.IntegerField(help_text="The reply's ceiling in the range.")
    max_output_assumed = serializers.BooleanField(help_text="No max tokens set and no fixed provider default.")
    price_known = serializers.BooleanField()
    cost_low = serializers.DecimalField(max_digits=24, decimal_places=10, allow_null=True,
                                        help_text="The input alone; null: unknown price.")
    cost_high = serializers.DecimalField(max_digits=24, decimal_places=10, allow_null=True,
                                         help_text="The input plus the ceiling's output.")
    currency = serializers.CharField(allow_blank=True)


class TurnEstimateSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField()
    exact = serializers.BooleanField()
    price_unknown = serializers.ListField(child=serializers.CharField(), help_text="Keys of columns without price.")
    cost_low = serializers.DecimalField(max_digits=24, decimal_places=10, allow_null=True,
                                        help_text="Over the columns with a price; null: mixed currencies.")
    cost_high = serializers.DecimalField(max_digits=24, decimal_places=10, allow_null=True)
    currency = serializers.CharField(allow_blank=True)


class EstimateApi(APIView):
    """What a send would cost before it is sent: the tokens each column would be sent (its own
    thread, system prompt, the new message and its `attachments`, your uploads not sent yet) and a
    cost range from its input price and its max-tokens ceiling. Takes the same body as a send; the
    message may still be empty.
    """

    name = "Estimate a send"

    @extend_schema(request=EstimateInputSerializer,
                   responses={200: inline_serializer("EstimateOutput", {
                       "columns": ColumnEstimateSerializer(many=True), "turn": TurnEstimateSerializer()})},
                   summary="What a send would cost, per column and for the turn, before it is sent.")
    def post(self, request):
        conversation, fields = send_fields(request, EstimateInputSerializer)
        try:
            send = services.send_input_clean(**fields, message_required=False)
            attachments = pending_attachments_get(owner=request.user, attachment_ids=send.attachments)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        columns = columns_estimate(conversation=conversation, columns=send.columns, message=send.message,
                                   system_prompt=send.system_prompt, attachments=attachments)
        return Response({"columns": [column.as_dict() for column in columns], "turn": turn_totals(columns)})


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
    """One's conversations, most recently active first, 30 a page (`page`, `page_size`), without the
    archived ones unless `archived=true` or `all`; `q` keeps the titles that contain it.
    POST creates an empty conversation.
    """

    name = "Conversations"

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Only titles containing this text."),
            OpenApiParameter("archived", str, enum=["false", "true", "all"], description="Default: false."),
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
        conversations = conversation_list_for_user(user=request.user, query=query, archived=archived)
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
    system prompt, archived flag or defaults (fields left out are kept); DELETE deletes it.
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

    @extend_schema(request=ConversationInputSerializer, responses={200: ConversationOutputSerializer})
    def put(self, request, conversation_id):
        return self._update(request, conversation_id)

    @extend_schema(request=ConversationInputSerializer, responses={200: ConversationOutputSerializer})
    def patch(self, request, conversation_id):
        return self._update(request, conversation_id)

    def _update(self, request, conversation_id):
        conversation = get_conversation(request, conversation_id)
        data = ConversationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.conversation_update(conversation=conversation, **data.validated_data)
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


class ImportApi(APIView):
    """Import an export file (JSON) into one's own account, as the multipart form field `file`:
    all of it, or with a 400 nothing.
    """

    name = "Import conversations"
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT,
                 "multipart/form-data": inline_serializer("ImportUpload", {"file": serializers.FileField()})},
        responses={201: inline_serializer("ImportOutput", {"conversations": ConversationOutputSerializer(many=True)})},
        summary="Import an export file into one's own account: all of it or, with a 400, nothing.",
    )
    def post(self, request):
        try:
            limits.check_import_rate(request.user)
            if request.content_type.startswith("multipart/"):
                upload = request.FILES.get("file")
                if upload is None:
                    raise exports.ExportFileError('Send the export as the form field "file".')
                if archives.is_zip(upload.read(4)):  # bounded by WEBOX_MAX_UPLOAD_BYTES (webox/middleware.py)
                    upload.seek(0)
                    created = archives.conversations_import_zip(owner=request.user, file=upload)
                    return Response({"conversations": ConversationOutputSerializer(created, many=True).data},
                                    status=status.HTTP_201_CREATED)
                upload.seek(0)
                if upload.size > exports.MAX_IMPORT_BYTES:
                    raise exports.ExportFileError(
                        f"The file is larger than {exports.MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
                raw = upload.read()
            else:
                raw = request.body
            created = exports.conversations_import(owner=request.user, raw=raw)
        except RequestDataTooBig:
            raise ChatApiError(ChatInputError(
                'The body is too large: upload the file as multipart form field "file".')) from None
        except exports.ExportFileError as exc:
            raise ChatApiError(ChatInputError(exc.detail)) from exc
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        return Response({"conversations": ConversationOutputSerializer(created, many=True).data},
                        status=status.HTTP_201_CREATED)


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
