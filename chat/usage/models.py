"""The operator's price table (app label ``chat``: defined here, loaded by ``chat.models``)."""

from django.core.exceptions import ValidationError
from django.db import models


class ModelPrice(models.Model):
    """A price set by the operator; it wins over the bundled price table (genai-prices).

    ``model`` empty means every model of the provider (for example a self-hosted Ollama, free).
    """

    provider = models.CharField(max_length=100, help_text="The webox provider name, e.g. openai or ollama.")
    model = models.CharField(max_length=200, blank=True, help_text="Empty: every model of this provider.")
    free = models.BooleanField(default=False, help_text="Costs nothing (self-hosted); the prices are ignored.")
    input_price_per_mtok = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="Price of one million prompt tokens."
    )
    output_price_per_mtok = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="Price of one million completion tokens."
    )
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code, e.g. USD or EUR.")
    note = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "model"]
        constraints = [models.UniqueConstraint(fields=["provider", "model"], name="modelprice_provider_model")]

    def __str__(self) -> str:
        return f"{self.provider} / {self.model or '*'}"

    def clean(self):
        if not self.free and (self.input_price_per_mtok is None or self.output_price_per_mtok is None):
            raise ValidationError("Set both prices, or tick “free”.")
        self.currency = (self.currency or "").upper()
