"""The read-only message admin: every message and reply, with filters, and a cancel action for active replies."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from .. import services
from ..errors import ChatConflict, ChatError
from ..models import ACTIVE_STATUSES, Message, Role
from ..rendering import render_markdown
from .display import (
    ADMIN_CSS,
    EMPTY,
    FILTER_CHOICES_LIMIT,
    LIST_TEXT_CHARS,
    admin_link,
    figures_text,
    parameters_text,
    timings_text,
    usage_text,
)


class MessageValueFilter(admin.SimpleListFilter):
    """The distinct non-empty values of one field, as filter choices."""

    field = ""

    def lookups(self, request, model_admin):
        values = Message.objects.exclude(**{self.field: ""}).order_by(self.field).values_list(self.field, flat=True)
        return [(value, value) for value in values.distinct()[:FILTER_CHOICES_LIMIT]]

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(**{self.field: self.value()})


class MessageProviderFilter(MessageValueFilter):
    title = parameter_name = field = "provider"


class MessageModelFilter(MessageValueFilter):
    title = parameter_name = field = "model"


class ErrorCodeFilter(MessageValueFilter):
    title = "error code"
    parameter_name = field = "error_code"


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only: messages change through the chat (send, cancel, regenerate), never by hand."""

    list_display = ("id", "conversation_link", "author", "model_display", "status_display", "content_preview",
                    "figures", "created")
    list_filter = ("status", "role", MessageProviderFilter, MessageModelFilter, ErrorCodeFilter, "chosen",
                   "created_at")
    search_fields = ("content", "conversation__title")
    list_select_related = ("conversation",)
    list_per_page = 100
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("conversation_link", "reply_to_link", "role", "provider", "model", "status", "chosen")}),
        ("Text", {"fields": ("content_display",)}),
        ("Usage", {"fields": ("usage_display", "finish_reason", "parameters_display", "seq")}),
        ("Timings", {"fields": ("timings_display", "created_at", "started_at", "completed_at")}),
        ("Error", {"fields": ("error_code", "error_detail")}),
    )
    readonly_fields = ("conversation_link", "reply_to_link", "content_display", "usage_display",
                       "parameters_display", "timings_display")
    actions = ["cancel_replies"]

    class Media:
        css = ADMIN_CSS

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A reply is removed with its conversation, which also stops it if it is still streaming.
        return False

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("chat.change_message")

    @admin.display(description="conversation", ordering="conversation")
    def conversation_link(self, message: Message) -> str:
        return admin_link(message.conversation, Truncator(str(message.conversation)).chars(24))

    @admin.display(description="answers")
    def reply_to_link(self, message: Message) -> str:
        if message.reply_to_id is None:
            return EMPTY
        return admin_link(message.reply_to, Truncator(message.reply_to.content).chars(LIST_TEXT_CHARS))

    @admin.display(description="from", ordering="provider")
    def author(self, message: Message) -> str:
        return message.provider if message.role == Role.ASSISTANT else message.get_role_display()

    @admin.display(description="status", ordering="status")
    def status_display(self, message: Message) -> str:
        status = message.get_status_display()
        return f"{status}: {message.error_code}" if message.error_code else status

    @admin.display(description="usage", ordering="duration_ms")
    def figures(self, message: Message) -> str:
        return figures_text(("", message.completion_tokens, " tok"), ("", message.duration_ms, " ms"))

    @admin.display(description="created", ordering="created_at")
    def created(self, message: Message) -> str:
        return timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="model", ordering="model")
    def model_display(self, message: Message) -> str:
        return Truncator(message.model).chars(40)

    @admin.display(description="text")
    def content_preview(self, message: Message) -> str:
        return Truncator(" ".join(message.content.split())).chars(LIST_TEXT_CHARS)

    @admin.display(description="text")
    def content_display(self, message: Message) -> str:
        if message.role != Role.ASSISTANT or message.is_active:
            return format_html('<div class="webox-plain">{}</div>', message.content)
        return format_html('<div class="md webox-md">{}</div>', mark_safe(render_markdown(message.content)))  # noqa: S308

    @admin.display(description="tokens")
    def usage_display(self, message: Message) -> str:
        return usage_text(message)

    @admin.display(description="parameters")
    def parameters_display(self, message: Message) -> str:
        return parameters_text(message.parameters) if message.role == Role.ASSISTANT else EMPTY

    @admin.display(description="time taken")
    def timings_display(self, message: Message) -> str:
        return timings_text(message)

    @admin.action(description="Cancel selected replies that are still generating", permissions=["cancel"])
    def cancel_replies(self, request, queryset) -> None:
        stopped = 0
        for reply in queryset.filter(role=Role.ASSISTANT, status__in=ACTIVE_STATUSES):
            try:
                services.reply_cancel(reply=reply)
                stopped += 1
            except ChatConflict:
                continue  # ended meanwhile
            except ChatError as exc:
                self.message_user(request, f"Reply {reply.pk}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"Asked {stopped} reply(ies) to stop.",
                          messages.SUCCESS if stopped else messages.INFO)
