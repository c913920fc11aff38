"""The vision table (editable) and the uploads (read only) in the admin."""

from __future__ import annotations

from django.contrib import admin

from .models import Attachment, VisionModel


@admin.register(VisionModel)
class VisionModelAdmin(admin.ModelAdmin):
    list_display = ["provider", "model_pattern", "sees_images"]
    list_editable = ["sees_images"]
    search_fields = ["provider", "model_pattern"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "size", "owner", "message", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "sha256", "owner__email"]
    readonly_fields = ["owner", "message", "name", "kind", "media_type", "size", "sha256", "width", "height",
                       "created_at"]
    exclude = ["text"]
    raw_id_fields = ["owner", "message"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
