"""The operator's price table in the admin (registered from the chat.admin package)."""

from django.contrib import admin

from .models import ModelPrice


@admin.register(ModelPrice)
class ModelPriceAdmin(admin.ModelAdmin):
    list_display = ("provider", "model", "free", "input_price_per_mtok", "output_price_per_mtok", "currency",
                    "updated_at")
    list_filter = ("free", "currency", "provider")
    search_fields = ("provider", "model", "note")
    fields = ("provider", "model", "free", "input_price_per_mtok", "output_price_per_mtok", "currency", "note")
