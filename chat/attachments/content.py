"""What the models are sent for a user message's attachments.

Text files and PDF text join the message's text, each between clearly marked lines, so they are
counted by every token estimate like the message itself. Images go as ``ChatImage`` to a model
that can see them; a model that cannot gets a line saying an image was left out.
"""

from __future__ import annotations

from chat.providers import ChatImage

from . import storage
from .models import Attachment, AttachmentKind


def attachment_text_block(attachment: Attachment) -> str:
    label = "PDF, its text" if attachment.kind == AttachmentKind.PDF else attachment.media_type
    return (f'<<<attachment "{attachment.name}" ({label})\n{attachment.text}\n'
            f'>>> end of attachment "{attachment.name}"')


def message_with_attachments(content: str, attachments: list[Attachment], *,
                             sees_images: bool) -> tuple[str, tuple[ChatImage, ...]]:
    """The text and the images a model is sent for a message with these attachments."""
    blocks = [content]
    images: list[ChatImage] = []
    for attachment in attachments:
        if attachment.kind != AttachmentKind.IMAGE:
            blocks.append(attachment_text_block(attachment))
        elif sees_images:
            images.append(ChatImage(attachment.media_type, storage.file_read(attachment.sha256), attachment.name))
        else:
            blocks.append(f'[An image, "{attachment.name}", was attached here; this model cannot see images.]')
    return "\n\n".join(blocks), tuple(images)
