"""Sending a turn and estimating one: ``POST /api/chat/send`` and ``POST /api/chat/estimate``.

Thin views: the body is checked by the serializers here and ``send_input_clean``, the turn is stored and
started by ``chat.services.message_send`` (chat/services/turns.py)."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..attachments.selectors import pending_attachments_get
from ..errors import ChatError, ChatInputError
from ..providers import provider_catalog
from ..serializers import ConversationOutputSerializer, MessageOutputSerializer
from ..services import inputs
from ..usage.estimate import columns_estimate, turn_totals
from .common import ChatApiError, get_conversation, max_tokens_field, temperature_field


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


def send_fields(request, serializer_class=SendInputSerializer, *, message_default=None):
    """The send's body: its conversation (None: a new one) and the fields for send_input_clean.

    A JSON body goes to ``send_input_clean`` as a socket's send frame does, which checks every field:
    the serializer would check the same fields first, and building its fields (DRF deep-copies them
    for each request) was most of a send's validation. A form (the browsable API's) is read by the
    serializer, which turns its strings into the fields' types. ``message_default``: a JSON body's
    message when it has none.
    """
    if isinstance(request.data, dict) and not isinstance(request.data, QueryDict):
        fields = {"message": message_default,
                  **{name: request.data[name] for name in inputs.SEND_FIELDS if name in request.data}}
        conversation_id = _conversation_id(request.data.get("conversation_id"))
        return (get_conversation(request, conversation_id) if conversation_id is not None else None), fields
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    conversation_id = fields.pop("conversation_id", None)
    conversation = get_conversation(request, conversation_id) if conversation_id is not None else None
    if "columns" in fields:
        fields["columns"] = [dict(column) for column in fields["columns"]]
    return conversation, fields


def _conversation_id(value) -> int | None:
    """A JSON body's ``conversation_id``: an id, or null or absent for a new conversation."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise ChatApiError(ChatInputError("conversation_id must be a conversation's id or null.", field="conversation_id"))


def sent_body(result: services.SendResult) -> dict:
    """A send's 202 body: its conversation and its messages, as the send's events showed them."""
    return result.shown


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
        return Response(sent_body(result), status=status.HTTP_202_ACCEPTED)


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
        conversation, fields = send_fields(request, EstimateInputSerializer, message_default="")
        try:
            send = services.send_input_clean(**fields, message_required=False)
            attachments = pending_attachments_get(owner=request.user, attachment_ids=send.attachments)
        except ChatError as exc:
            raise ChatApiError(exc) from exc
        columns = columns_estimate(conversation=conversation, columns=send.columns, message=send.message,
                                   system_prompt=send.system_prompt, attachments=attachments)
        return Response({"columns": [column.as_dict() for column in columns], "turn": turn_totals(columns)})
