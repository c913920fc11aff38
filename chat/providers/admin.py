"""The admin of provider records: keys write-only and masked.

Providers configured from the environment (and the built-in demo) are listed read-only on the
same page, with the same "check connection" and "refresh models" operations as the records.
"""

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from .base import ProviderConfig, ProviderError
from .crypto import SecretDecryptError, decrypt_secret, mask_secret
from .models import Provider
from .registry import build_provider, builtin_provider_configs, db_provider_config, env_provider_configs
from .services import CheckResult, provider_check, provider_refresh_models, provider_save, validate_base_url

SOURCE_LABELS = {"env": "environment", "builtin": "built in"}
MODELS_SHOWN = 8


def _names(raw: str | None) -> list[str]:
    """One name per line, or several on a line separated by commas."""
    return [name.strip() for line in (raw or "").splitlines() for name in line.split(",") if name.strip()]


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
        help_text="The models the picker offers, one per line (or comma-separated); others can still be asked "
                  "for unless Allowed models says otherwise. The action “Refresh model list” fills this.",
    )

    allowed_models = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The only models users may ask for, one per line (or comma-separated); a pattern such as "
                  "gpt-4o* or claude-*-haiku-* matches several. Empty: any model the endpoint serves.",
    )

    class Meta:
        model = Provider
        fields = ("name", "kind", "base_url", "enabled", "model_names", "default_model", "allowed_models",
                  "context_tokens")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["model_names"] = "\n".join(self.instance.model_names or [])
            self.initial["allowed_models"] = "\n".join(self.instance.allowed_models or [])

    def clean_base_url(self) -> str:
        try:
            return validate_base_url(self.cleaned_data.get("base_url", ""))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["base_url"]) from None

    def clean_model_names(self) -> list[str]:
        return _names(self.cleaned_data.get("model_names"))

    def clean_allowed_models(self) -> list[str]:
        return _names(self.cleaned_data.get("allowed_models"))

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
        ("Models", {"fields": ("model_names", "default_model", "allowed_models", "context_tokens")}),
    )
    actions = ["check_connection", "refresh_models"]
    change_list_template = "admin/chat/provider/change_list.html"

    class Media:
        css = {"all": ("chat/admin/admin.css",)}

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

    @admin.action(description="Refresh model list", permissions=["change"])
    def refresh_models(self, request, queryset) -> None:
        for provider in queryset:
            try:
                models = provider_refresh_models(provider=provider)
            except ProviderError as exc:
                self.message_user(request, f"{provider.name}: {exc.code}: {exc.detail}", messages.ERROR)
            else:
                self.message_user(request, f"{provider.name}: {len(models)} models.", messages.SUCCESS)

    @admin.action(description="Check connection", permissions=["view"])
    def check_connection(self, request, queryset) -> None:
        for provider in queryset:
            self._report_check(request, async_to_sync(provider_check)(db_provider_config(provider)))

    def _report_check(self, request, result: CheckResult) -> None:
        if result.ok:
            self.message_user(request, f"{result.name}: ok, {result.model} answered in {result.duration_ms} ms.",
                              messages.SUCCESS)
        else:
            detail = f" ({result.detail})" if result.detail else ""
            self.message_user(request, f"{result.name}: {result.outcome}{detail}", messages.ERROR)

    # Providers from the environment and the built-in demo: not records, so not in the changelist's
    # queryset; listed beside it and operated on through their own small POST views.

    def configured_elsewhere(self) -> list[dict]:
        records = set(Provider.objects.values_list("name", flat=True))
        rows = []
        for config in builtin_provider_configs() + env_provider_configs():
            rows.append({
                "config": config,
                "source": SOURCE_LABELS.get(config.source, config.source),
                "key": mask_secret(config.api_key) if config.api_key else "not set",
                "models": ", ".join(config.models[:MODELS_SHOWN]) + (" …" if len(config.models) > MODELS_SHOWN else ""),
                "model_count": len(config.models),
                "overridden": config.name in records,
            })
        return rows

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "configured_elsewhere": self.configured_elsewhere()}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("configured/<slug:name>/check/", view(require_POST(self.configured_check_view)),
                 name="chat_provider_configured_check"),
            path("configured/<slug:name>/models/", view(require_POST(self.configured_models_view)),
                 name="chat_provider_configured_models"),
            *super().get_urls(),
        ]

    def _configured(self, request, name: str) -> ProviderConfig:
        if not self.has_view_permission(request):
            raise PermissionDenied
        config = next((c for c in builtin_provider_configs() + env_provider_configs() if c.name == name), None)
        if config is None:
            raise Http404("No provider of that name is configured outside the database.")
        return config

    def _back(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:chat_provider_changelist"))

    def configured_check_view(self, request, name: str):
        self._report_check(request, async_to_sync(provider_check)(self._configured(request, name)))
        return self._back()

    def configured_models_view(self, request, name: str):
        """The endpoint's models listing, reported; the list itself is set by the environment."""
        config = self._configured(request, name)
        try:
            models = async_to_sync(build_provider(config).list_models)()
        except ProviderError as exc:
            self.message_user(request, f"{name}: {exc.code}: {exc.detail}", messages.ERROR)
        else:
            shown = ", ".join(models[:MODELS_SHOWN]) + (" …" if len(models) > MODELS_SHOWN else "")
            self.message_user(request, f"{name}: the endpoint lists {len(models)} models: {shown}", messages.SUCCESS)
        return self._back()
