from django.contrib import admin

from .models import Conversation, Message
from .providers import admin as provider_admin  # noqa: F401 - registers the Provider admin
from .usage import admin as usage_admin  # noqa: F401 - registers the ModelPrice admin


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "provider", "model", "status", "content", "completion_tokens", "duration_ms", "created_at")
    readonly_fields = ("created_at",)
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "archived", "context_mode", "created_at", "updated_at")
    list_filter = ("archived", "context_mode", ("owner", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("title", "messages__content")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    inlines = [MessageInline]

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        # Searching message text joins many rows per conversation: show each once.
        return queryset.distinct(), False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "role", "provider", "model", "status", "created_at")
    list_filter = ("role", "status", "provider", "created_at")
    search_fields = ("content", "conversation__title")
    raw_id_fields = ("conversation", "reply_to")
