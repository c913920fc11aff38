"""The output shape of an attachment (upload answers, messages' ``attachments``)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Attachment


class AttachmentOutputSerializer(serializers.ModelSerializer):
    message_id = serializers.IntegerField(allow_null=True, help_text="null: uploaded, not sent yet.")
    url = serializers.SerializerMethodField(help_text="Where its owner downloads it.")

    class Meta:
        model = Attachment
        fields = ["id", "name", "kind", "media_type", "size", "width", "height", "message_id", "created_at", "url"]
        read_only_fields = fields

    @staticmethod
    def get_url(attachment: Attachment) -> str:
        return f"/api/chat/attachments/{attachment.pk}/content"
