"""Users' folders in the admin, to look at and delete."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from ..models import Folder


@admin.register(Folder)
class FolderAdmin(admin.ModelAdmin):
    """Users' folders, to look at: they are made and renamed in the chat. Deleting one here, as there,
    moves its conversations out of it."""

    list_display = ("name", "owner", "conversation_count", "created_at")
    list_filter = (("owner", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name",)
    list_select_related = ("owner",)
    readonly_fields = ("name", "owner", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(conversation_total=Count("conversations"))

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="conversations", ordering="conversation_total")
    def conversation_count(self, folder: Folder) -> int:
        return folder.conversation_total
