"""The conversation admin: a list with providers, active replies and cost; a readable thread; operator actions.

Every write goes through ``chat.services`` (archive, cancel, delete), so the conversation's open
pages are told and streaming replies are stopped, exactly as when the user does it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from .. import services
from ..errors import ChatError
from ..exports import conversations_export_json, conversations_export_markdown
from ..models import ACTIVE_STATUSES, Conversation, Message, ReplyStatus, Role
from .display import ADMIN_CSS, EMPTY, FILTER_CHOICES_LIMIT, LIST_TEXT_CHARS, admin_link, cost_summary, parameters_text
from .threads import thread_view


class ReplyValueFilter(admin.SimpleListFilter):
    """Conversations with at least one reply whose ``field`` has the chosen value."""

    field = ""

    def lookups(self, request, model_admin):
        values = (Message.objects.filter(role=Role.ASSISTANT).exclude(**{self.field: ""})
                  .order_by(self.field).values_list(self.field, flat=True).distinct())
        return [(value, value) for value in values[:FILTER_CHOICES_LIMIT]]

    def replies(self):
        return Message.objects.filter(conversation=OuterRef("pk"), role=Role.ASSISTANT, **{self.field: self.value()})

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        # Exists, not a join: one row per conversation however many replies match.
        return queryset.filter(Exists(self.replies()))


class ProviderFilter(ReplyValueFilter):
    title = "provider"
    parameter_name = "provider"
    field = "provider"


class ModelFilter(ReplyValueFilter):
    title = "model"
    parameter_name = "model"
    field = "model"


class ReplyStatusFilter(ReplyValueFilter):
    title = "reply status"
    parameter_name = "reply_status"
    field = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active (pending or streaming)"), *ReplyStatus.choices]

    def replies(self):
        statuses = ACTIVE_STATUSES if self.value() == "active" else [self.value()]
        return Message.objects.filter(conversation=OuterRef("pk"), role=Role.ASSISTANT, status__in=statuses)


class LastActivityFilter(admin.DateFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "last activity"


class ConversationChangeList(ChangeList):
    """Attaches the providers used and the active replies of the page's conversations (one query)."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        providers: dict[int, set[str]] = defaultdict(set)
        active: dict[int, dict[str, int]] = defaultdict(dict)
        costs: dict[int, dict[str, Decimal]] = defaultdict(dict)
        unpriced: dict[int, int] = defaultdict(int)
        rows = (Message.objects.filter(conversation__in=[c.pk for c in self.result_list], role=Role.ASSISTANT)
                .values("conversation_id", "provider", "status", "cost_currency")
                .annotate(count=Count("id"), cost_sum=Sum("cost"), unknown=Count("id", filter=Q(cost__isnull=True)))
                .order_by())
        for row in rows:
            conversation_id = row["conversation_id"]
            providers[conversation_id].add(row["provider"])
            if row["status"] in ACTIVE_STATUSES:
                counts = active[conversation_id]
                counts[row["status"]] = counts.get(row["status"], 0) + row["count"]
                continue
            if row["cost_sum"] is not None:
                currency = row["cost_currency"] or "USD"
                costs[conversation_id][currency] = costs[conversation_id].get(currency, Decimal(0)) + row["cost_sum"]
            unpriced[conversation_id] += row["unknown"]
        for conversation in self.result_list:
            conversation.providers_used = sorted(providers[conversation.pk])
            conversation.active_counts = active[conversation.pk]
            conversation.cost_totals = costs[conversation.pk]
            conversation.unpriced_replies = unpriced[conversation.pk]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title_display", "owner", "folder", "turns", "providers_display", "last_activity",
                    "active_replies", "total_cost", "archived")
    list_display_links = ("title_display",)
    list_filter = (("owner", admin.RelatedOnlyFieldListFilter), ("folder", admin.RelatedOnlyFieldListFilter),
                   ProviderFilter, ModelFilter, ReplyStatusFilter, "archived", "context_mode",
                   ("updated_at", LastActivityFilter), "created_at")
    search_fields = ("title", "messages__content")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "folder")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("title", "owner_link", "folder", "pinned_at", "archived", "created_at", "updated_at")}),
        ("Settings", {"fields": ("context_mode", "system_prompt", "settings_display", "metadata_display")}),
    )
    # A conversation's folder and pin are its owner's arrangement: shown here, changed in the chat.
    readonly_fields = ("owner_link", "folder", "pinned_at", "created_at", "updated_at", "settings_display",
                       "metadata_display")
    change_form_template = "admin/chat/conversation/change_form.html"
    save_on_top = True
    actions = ["export_json", "export_markdown", "archive", "unarchive", "cancel_replies", "delete_selected"]

    class Media:
        css = ADMIN_CSS

    def get_queryset(self, request):
        turns = (Message.objects.filter(conversation=OuterRef("pk"), role=Role.USER).order_by()
                 .values("conversation").annotate(count=Count("pk")).values("count"))
        return super().get_queryset(request).annotate(
            turn_count=Coalesce(Subquery(turns, output_field=IntegerField()), Value(0)),
        )

    def get_changelist(self, request, **kwargs):
        return ConversationChangeList

    def has_add_permission(self, request) -> bool:
        # Conversations begin with a user's message; the admin manages them, it does not write them.
        return False

    # columns

    @admin.display(description="title", ordering="title")
    def title_display(self, conversation: Conversation) -> str:
        return Truncator(str(conversation)).chars(LIST_TEXT_CHARS)

    @admin.display(description="turns", ordering="turn_count")
    def turns(self, conversation: Conversation) -> int:
        return conversation.turn_count

    @admin.display(description="last activity", ordering="updated_at")
    def last_activity(self, conversation: Conversation):
        return conversation.updated_at

    @admin.display(description="providers used")
    def providers_display(self, conversation: Conversation) -> str:
        return ", ".join(getattr(conversation, "providers_used", [])) or EMPTY

    @admin.display(description="active replies")
    def active_replies(self, conversation: Conversation) -> str:
        counts = getattr(conversation, "active_counts", {})
        return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or EMPTY

    @admin.display(description="total cost")
    def total_cost(self, conversation: Conversation) -> str:
        return cost_summary(getattr(conversation, "cost_totals", {}), getattr(conversation, "unpriced_replies", 0))

    # change page

    @admin.display(description="owner")
    def owner_link(self, conversation: Conversation) -> str:
        return admin_link(conversation.owner, conversation.owner.get_username())

    @admin.display(description="defaults for new messages")
    def settings_display(self, conversation: Conversation) -> str:
        params = conversation.default_params or {}
        per_provider = params.get("provider_params") or {}
        models = conversation.default_models or {}
        rows = [
            ("Providers", ", ".join(conversation.default_providers or []) or "none picked"),
            ("Models", ", ".join(f"{name}: {model}" for name, model in sorted(models.items()))
             or "each provider's default"),
            ("Parameters", parameters_text(params)),
            *((f"Parameters for {name}", parameters_text(values)) for name, values in sorted(per_provider.items())),
        ]
        return format_html('<dl class="webox-settings">{}</dl>',
                           format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description="metadata")
    def metadata_display(self, conversation: Conversation) -> str:
        if not conversation.metadata:
            return EMPTY
        return format_html('<dl class="webox-settings">{}</dl>', format_html_join(
            "", "<dt>{}</dt><dd>{}</dd>", sorted((str(k), str(v)) for k, v in conversation.metadata.items())))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "thread": thread_view(conversation) if conversation else []}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj: Conversation, form, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if fields:
            services.conversation_update(conversation=obj, **fields)

    def delete_model(self, request, obj: Conversation) -> None:
        services.conversation_delete(conversation=obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Messages cannot be deleted one by one (see MessageAdmin), but they go with their conversation.
        perms_needed.discard(str(Message._meta.verbose_name))
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request, queryset) -> None:
        for conversation in queryset:
            services.conversation_delete(conversation=conversation)

    # actions

    def _download(self, body: str, content_type: str, extension: str) -> HttpResponse:
        response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="webox-conversations-{stamp}.{extension}"'
        return response

    @admin.action(description="Export selected conversations as JSON", permissions=["view"])
    def export_json(self, request, queryset):
        return self._download(conversations_export_json(queryset.order_by("created_at", "id")), "application/json",
                              "json")

    @admin.action(description="Export selected conversations as Markdown", permissions=["view"])
    def export_markdown(self, request, queryset):
        return self._download(conversations_export_markdown(queryset.order_by("created_at", "id")), "text/markdown",
                              "md")

    def _set_archived(self, request, queryset, archived: bool) -> None:
        changed = [c for c in queryset if c.archived != archived]
        for conversation in changed:
            services.conversation_archive(conversation=conversation, archived=archived)
        verb = "Archived" if archived else "Unarchived"
        self.message_user(request, f"{verb} {len(changed)} conversation(s).", messages.SUCCESS)

    @admin.action(description="Archive selected conversations", permissions=["change"])
    def archive(self, request, queryset) -> None:
        self._set_archived(request, queryset, True)

    @admin.action(description="Unarchive selected conversations", permissions=["change"])
    def unarchive(self, request, queryset) -> None:
        self._set_archived(request, queryset, False)

    @admin.action(description="Cancel the active replies of selected conversations", permissions=["change"])
    def cancel_replies(self, request, queryset) -> None:
        stopped = 0
        for conversation in queryset:
            try:
                stopped += len(services.conversation_cancel_replies(conversation=conversation))
            except ChatError as exc:
                self.message_user(request, f"{conversation}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"Asked {stopped} active reply(ies) to stop.",
                          messages.SUCCESS if stopped else messages.INFO)
