"""Output shapes shared by the REST API and the socket events."""

from __future__ import annotations

import copy
from functools import cache, lru_cache

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import blinding
from .attachments.serializers import AttachmentOutputSerializer
from .models import ACTIVE_STATUSES, Conversation, Message, Vote
from .rendering import markdown_to_plain, render_markdown
from .selectors import PREVIEW_CHARS
from .streamed_markdown import rendered_prefix


class UsageSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField(allow_null=True)
    completion_tokens = serializers.IntegerField(allow_null=True)
    estimated = serializers.BooleanField(help_text="Token counts estimated by webox, not sent by the provider.")
    cost = serializers.DecimalField(max_digits=16, decimal_places=8, allow_null=True,
                                    help_text="null: unknown price (never 0 for unknown).")
    cost_currency = serializers.CharField(allow_blank=True)
    cost_estimated = serializers.BooleanField()
    tokens_per_second = serializers.FloatField(allow_null=True)


class BranchSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="1-based, among the siblings oldest first.")
    count = serializers.IntegerField(help_text="1: no branch at this point.")
    siblings = serializers.ListField(child=serializers.IntegerField(), help_text="Their ids, oldest first.")


def branch_data(message_id: int, siblings: list[int]) -> dict:
    """A user message's place among the branches at its point of the tree (chat/tree.py)."""
    siblings = siblings if message_id in siblings else sorted([*siblings, message_id])
    return {"index": siblings.index(message_id) + 1, "count": len(siblings), "siblings": list(siblings)}


class MessageOutputSerializer(serializers.ModelSerializer):
    conversation_id = serializers.IntegerField()
    reply_to = serializers.IntegerField(source="reply_to_id", allow_null=True)
    parent = serializers.IntegerField(source="parent_id", allow_null=True,
                                      help_text="A user message: the turn it follows (null: a first turn).")
    branch = serializers.SerializerMethodField(
        help_text="A user message: its place among its siblings (the branches at that point); null otherwise.")
    content_html = serializers.SerializerMethodField()
    rendered_html = serializers.SerializerMethodField(
        help_text="While a reply is active: the HTML of its finished Markdown blocks; otherwise empty.")
    rendered_upto = serializers.SerializerMethodField(
        help_text="While a reply is active: the characters of content that rendered_html covers; otherwise 0.")
    usage = serializers.SerializerMethodField()
    attachments = AttachmentOutputSerializer(many=True, read_only=True,
                                             help_text="A user message's files (chat/attachments); [] otherwise.")
    vote = serializers.SerializerMethodField()
    blind_label = serializers.CharField(
        help_text='A blind turn\'s reply: its letter ("A" is "Model A"); empty otherwise.')
    hidden = serializers.SerializerMethodField(
        help_text="A blind reply not yet revealed: provider, model, parameters, usage and timings are empty, "
                  "names of models and providers in its text are masked.")

    class Meta:
        model = Message
        fields = [
            "id", "conversation_id", "role", "content", "content_html", "rendered_html", "rendered_upto",
            "provider", "model", "column", "reply_to", "parent", "branch",
            "status", "error_code", "error_detail", "usage", "ttft_ms", "duration_ms", "finish_reason",
            "parameters", "chosen", "seq", "created_at", "completed_at", "imported", "estimate", "attachments",
            "blind_label", "hidden", "vote", "fuse",
        ]
        read_only_fields = fields

    def to_representation(self, message: Message) -> dict:
        if not blinding.hidden(message):
            return super().to_representation(message)
        # A copy: the caller's row keeps its real text.
        masked = copy.copy(message)
        masked.content = blinding.mask_names(message.content, provider=message.provider, model=message.model)
        # A provider's error often names the model ("The model `x` does not exist").
        masked.error_detail = blinding.mask_names(message.error_detail, provider=message.provider,
                                                  model=message.model)
        return blinding.hide_message_data(super().to_representation(masked), message)

    @staticmethod
    def get_hidden(message: Message) -> bool:
        return blinding.hidden(message)

    @staticmethod
    @extend_schema_field(serializers.DictField(allow_null=True, help_text="A user message's vote on its turn."))
    def get_vote(message: Message) -> dict | None:
        if message.role != "user" or message.pk is None:
            return None
        try:
            return vote_data(message.vote)
        except Vote.DoesNotExist:
            return None

    @staticmethod
    @extend_schema_field(BranchSerializer(allow_null=True))
    def get_branch(message: Message) -> dict | None:
        if message.role != "user" or message.reply_to_id is not None or message.pk is None:
            return None
        siblings = getattr(message, "tree_siblings", None)
        if siblings is None:
            # One message on its own (an event): its siblings in one query. Pages set them from the tree.
            siblings = list(Message.objects.filter(
                conversation_id=message.conversation_id, role="user", reply_to__isnull=True,
                parent_id=message.parent_id).order_by("id").values_list("id", flat=True))
        return branch_data(message.pk, siblings)

    def get_content_html(self, message: Message) -> str:
        # An active reply has only its finished blocks rendered (rendered_html); the whole text once it ends.
        return "" if message.status in ACTIVE_STATUSES else render_markdown(message.content)

    @staticmethod
    def get_rendered_html(message: Message) -> str:
        # What the publisher has sent as message.blocks up to this text (chat.streamed_markdown).
        return rendered_prefix(message.content)[0] if message.status in ACTIVE_STATUSES else ""

    @staticmethod
    def get_rendered_upto(message: Message) -> int:
        return rendered_prefix(message.content)[1] if message.status in ACTIVE_STATUSES else 0

    @staticmethod
    @extend_schema_field(UsageSerializer)
    def get_usage(message: Message) -> dict:
        return represent(UsageSerializer, {
            "prompt_tokens": message.prompt_tokens, "completion_tokens": message.completion_tokens,
            "estimated": message.usage_estimated, "cost": message.cost, "cost_currency": message.cost_currency,
            "cost_estimated": message.cost_estimated, "tokens_per_second": message.tokens_per_second,
        })


class ConversationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = [
            "id", "title", "system_prompt", "default_columns", "default_providers", "default_models",
            "default_params", "context_mode", "blind", "archived", "created_at", "updated_at", "active_leaf",
        ]
        read_only_fields = fields


class VoteOutputSerializer(serializers.ModelSerializer):
    message_id = serializers.IntegerField(source="turn_id", help_text="The user message of the judged turn.")
    replies = serializers.SerializerMethodField(
        help_text="The replies judged: id, provider and model (empty while a blind turn is hidden).")

    class Meta:
        model = Vote
        fields = ["message_id", "outcome", "winners", "replies", "blind", "revealed_before", "created_at",
                  "updated_at"]
        read_only_fields = fields

    @staticmethod
    def get_replies(vote: Vote) -> list[dict]:
        return [dict(item) for item in vote.replies]


@lru_cache(maxsize=4096)
def plain_preview(markdown: str) -> str:
    """The start of a message's Markdown as plain text; cached, as every page load lists the same latest ones."""
    return markdown_to_plain(markdown)[:PREVIEW_CHARS]


class PlainPreviewField(serializers.CharField):
    """Computed when read: the stored text keeps its Markdown."""

    def to_representation(self, value) -> str:
        return plain_preview(value)


class ConversationListItemSerializer(serializers.ModelSerializer):
    preview = PlainPreviewField(read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = ["id", "title", "created_at", "updated_at", "archived", "context_mode", "preview"]
        read_only_fields = fields


class ConversationDetailSerializer(ConversationOutputSerializer):
    messages = MessageOutputSerializer(many=True, read_only=True, help_text="A page of turns, oldest first.")
    before = serializers.IntegerField(allow_null=True, read_only=True,
                                      help_text="Pass as ?before= for the older turns; null: none are left.")
    next = serializers.URLField(allow_null=True, read_only=True, help_text="The URL of the older turns, or null.")

    class Meta(ConversationOutputSerializer.Meta):
        fields = [*ConversationOutputSerializer.Meta.fields, "messages", "before", "next"]
        read_only_fields = fields


@cache
def _shared(serializer_class: type[serializers.BaseSerializer]) -> serializers.BaseSerializer:
    return serializer_class()


def represent(serializer_class: type[serializers.BaseSerializer], instance) -> dict:
    """``serializer_class(instance).data`` from one shared instance of the class.

    DRF builds every field of a serializer anew for each instance: that was a third of the time of
    ``POST /api/chat/send``. ``to_representation`` keeps no state, so one instance serves every
    thread (only for output without a request context).
    """
    return _shared(serializer_class).to_representation(instance)


def message_data(message: Message) -> dict:
    return represent(MessageOutputSerializer, message)


def vote_data(vote: Vote | None) -> dict | None:
    return None if vote is None else represent(VoteOutputSerializer, vote)


def conversation_data(conversation: Conversation) -> dict:
    return represent(ConversationOutputSerializer, conversation)
