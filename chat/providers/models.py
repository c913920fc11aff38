"""Provider endpoints managed in the admin (app label ``chat``: defined here, loaded by ``chat.models``)."""

from django.db import models


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible"
    ANTHROPIC = "anthropic", "Anthropic"
    DEMO = "demo", "Demo (offline)"


class Provider(models.Model):
    """A provider endpoint managed in the admin; environment-configured ones live beside these."""

    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=ProviderKind.choices)
    base_url = models.URLField(blank=True)
    api_key_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    model_names = models.JSONField(default=list, blank=True, help_text="Models this endpoint serves.")
    default_model = models.CharField(max_length=200, blank=True)
    allowed_models = models.JSONField(
        default=list, blank=True,
        help_text="The models users may ask for: names or patterns such as gpt-4o*. Empty: any model.")
    context_tokens = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
