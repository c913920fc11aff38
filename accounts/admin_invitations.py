"""Invitations in the Django admin: staff make sign-up links for ``WEBOX_SIGNUP=invite``."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from .models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "created_by", "created_at", "expires_at", "used_by", "used_at")
    list_filter = (("used_at", admin.EmptyFieldListFilter),)
    search_fields = ("email", "note")
    fields = ("email", "note", "expires_at", "link", "created_by", "used_by", "used_at")
    readonly_fields = ("link", "created_by", "used_by", "used_at")

    @admin.display(description="Sign-up link")
    def link(self, invitation: Invitation) -> str:
        if not invitation.pk:
            return "Shown once saved."
        path = f"{reverse('accounts:register')}?invite={invitation.token}"
        return format_html('<a href="{}">{}</a>', path, path)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
