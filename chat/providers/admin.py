"""The admin of provider records: keys write-only and masked."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .base import ProviderError
from .crypto import SecretDecryptError, decrypt_secret, mask_secret
from .models import Provider
from .services import provider_refresh_models, provider_save, validate_base_url


class ProviderAdminForm(forms.ModelForm):
    """The API key is write-only: typed in, stored encrypted, never shown again."""

    base_url = forms.CharField(
        required=False, max_length=200,
        help_text="Empty for the kind's default endpoint, e.g. http://ollama:11434/v1 or https://api.groq.com/openai/v1",
    )
    api_key = forms.CharField(
        required=False, strip=True, label="New API key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave blank to keep the stored key.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    model_names = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line (or comma-separated). Any model the endpoint serves can still be asked for; "
                  "the action “Refresh model list” fills this from the endpoint.",
    )

    class Meta:
        model = Provider
        fields = ("name", "kind", "base_url", "enabled", "model_names", "default_model", "context_tokens")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["model_names"] = "\n".join(self.instance.model_names or [])

    def clean_base_url(self) -> str:
        try:
            return validate_base_url(self.cleaned_data.get("base_url", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["base_url"]) from None

    def clean_model_names(self) -> list[str]:
        raw = self.cleaned_data.get("model_names") or ""
        return [name.strip() for line in raw.splitlines() for name in line.split(",") if name.strip()]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("api_key") and cleaned.get("clear_api_key"):
            raise forms.ValidationError("Either type a new key or remove the stored one, not both.")
        return cleaned


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderAdminForm
    list_display = ("name", "kind", "enabled", "base_url", "default_model", "model_count", "api_key_display",
                    "updated_at")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "base_url", "default_model")
    readonly_fields = ("api_key_display",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "base_url", "enabled")}),
        ("API key", {"fields": ("api_key_display", "api_key", "clear_api_key")}),
        ("Models", {"fields": ("model_names", "default_model", "context_tokens")}),
    )
    actions = ["refresh_models"]

    @admin.display(description="API key")
    def api_key_display(self, obj: Provider) -> str:
        if not obj.api_key_encrypted:
            return "not set"
        try:
            return mask_secret(decrypt_secret(obj.api_key_encrypted))
        except SecretDecryptError:
            return "stored, but no configured encryption key can read it"

    @admin.display(description="Models")
    def model_count(self, obj: Provider) -> int:
        return len(obj.model_names or [])

    def save_model(self, request, obj: Provider, form: ProviderAdminForm, change: bool) -> None:
        if form.cleaned_data.get("clear_api_key"):
            api_key: str | None = ""
        else:
            api_key = form.cleaned_data.get("api_key") or None
        provider_save(provider=obj, api_key=api_key)

    @admin.action(description="Refresh model list")
    def refresh_models(self, request, queryset) -> None:
        for provider in queryset:
            try:
                models = provider_refresh_models(provider=provider)
            except ProviderError as exc:
                self.message_user(request, f"{provider.name}: {exc.code}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{provider.name}: {len(models)} models.", messages.SUCCESS)
