"""An upload and the operator's vision table; registered under the ``chat`` app by ``chat.models``."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AttachmentKind(models.TextChoices):
    IMAGE = "image", "Image"
    TEXT = "text", "Text"
    PDF = "pdf", "PDF"


class Attachment(models.Model):
    """One file one user uploaded. Pending (``message`` empty) until a send uses it.

    The bytes live in the attachments storage under their SHA-256 (``storage.file_name``): the
    same file uploaded twice is stored once, and deleted when no row refers to it any more.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="attachments", help_text="The user message it was sent with.")
    name = models.CharField(max_length=255, help_text="The file's name as uploaded (shown, never used as a path).")
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    media_type = models.CharField(max_length=100, help_text="Decided from the content, not the client.")
    size = models.PositiveBigIntegerField(help_text="Bytes stored (images after re-encoding).")
    sha256 = models.CharField(max_length=64, db_index=True)
    # The text the models are sent: a text file's content, a PDF's extracted text; empty for images.
    text = models.TextField(blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["message", "created_at"], name="attachment_pending")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}, {self.size} bytes)"


class VisionModel(models.Model):
    """The operator's word on whether a provider's models can see images, over the built-in table."""

    provider = models.CharField(max_length=100, default="*", help_text="Provider name, or a glob (* for any).")
    model_pattern = models.CharField(max_length=200, help_text="Model name or glob, e.g. llava* or gpt-4o*.")
    sees_images = models.BooleanField(default=True, help_text="Off: these models get the text without images.")

    class Meta:
        ordering = ["provider", "model_pattern"]
        constraints = [models.UniqueConstraint(fields=["provider", "model_pattern"], name="vision_model_unique")]

    def __str__(self) -> str:
        return f"{self.provider}: {self.model_pattern} ({'sees' if self.sees_images else 'no'} images)"
