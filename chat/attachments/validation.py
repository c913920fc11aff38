"""What an uploaded file is, decided from its bytes, and what of it is kept.

The client's name and ``Content-Type`` decide nothing: ``filetype`` reads the magic numbers,
Pillow must then read an image whole (and it is re-encoded, which drops EXIF, GPS and every other
metadata chunk), pypdf must read a PDF's text, and anything else must be UTF-8 text. A name that
claims another type than the content's is refused: such a file is a mistake or a trick.
Every refusal is a ``ChatInputError`` (400) with a message for the user.
"""

from __future__ import annotations

import io
import mimetypes
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import filetype
from django.conf import settings

from chat.errors import ChatInputError

from .models import AttachmentKind

if TYPE_CHECKING:
    from PIL import Image

# Content types detected by filetype that webox takes, with Pillow's format name for images.
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
PDF_TYPE = "application/pdf"
TEXT_TYPE = "text/plain"
MAX_PDF_PAGES = 2000


@dataclass(frozen=True)
class Inspected:
    """An accepted file: what to store (``data``) and what the models get."""

    kind: str
    media_type: str
    data: bytes
    text: str = ""
    width: int | None = None
    height: int | None = None


def inspect_upload(*, name: str, data: bytes) -> Inspected:
    """The accepted form of a file, or ``ChatInputError`` saying why it is refused."""
    if not data:
        raise ChatInputError("The file is empty.", field="file")
    detected = filetype.guess_mime(data)
    if detected in IMAGE_FORMATS:
        inspected = _image(data, IMAGE_FORMATS[detected])
    elif detected == PDF_TYPE:
        inspected = _pdf(data)
    elif detected is not None:
        raise ChatInputError(f"Files of type {detected} are not accepted: send images (PNG, JPEG, WebP, GIF), "
                             "PDFs or text files.", field="file")
    else:
        inspected = _text(data)
    _check_name_agrees(name, inspected)
    return inspected


def _check_name_agrees(name: str, inspected: Inspected) -> None:
    claimed, _ = mimetypes.guess_type(name or "", strict=False)
    if claimed is None:
        return
    claimed_kind = ("image" if claimed.startswith("image/") else "pdf" if claimed == PDF_TYPE
                    else "text" if claimed.startswith("text/") or claimed in ("application/json",) else None)
    if claimed_kind in ("image", "pdf") and claimed_kind != inspected.kind:
        raise ChatInputError(f"{name!r} is named as {claimed} but its content is {inspected.media_type}.",
                             field="file")
    if inspected.kind in ("image", "pdf") and claimed_kind == "text":
        raise ChatInputError(f"{name!r} is named as text but its content is {inspected.media_type}.", field="file")


def _image(data: bytes, expected_format: str) -> Inspected:
    # Pillow and pypdf are imported by the first upload of their kind, not by every server and worker.
    from PIL import Image, UnidentifiedImageError

    max_pixels = settings.WEBOX_ATTACHMENT_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            # Checked before decoding: a bomb's header alone tells its size.
            if width * height > max_pixels:
                raise ChatInputError(f"The image is {width}×{height} pixels; at most {max_pixels} pixels are "
                                     "accepted.", field="file")
            if image.format != expected_format:
                raise ChatInputError("The image's content does not match its format.", field="file")
            frames = getattr(image, "n_frames", 1)
            if width * height * frames > max_pixels * 4:
                raise ChatInputError("The animation holds too many pixels in all.", field="file")
            image.load()
            clean = _reencoded(image, expected_format)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ChatInputError(f"The image decompresses to more than {max_pixels} pixels.", field="file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ChatInputError("The image cannot be read: it is damaged or not what it claims to be.",
                             field="file") from None
    media_type = next(t for t, f in IMAGE_FORMATS.items() if f == expected_format)
    return Inspected(AttachmentKind.IMAGE, media_type, clean, width=width, height=height)


def _reencoded(image: Image.Image, fmt: str) -> bytes:
    """The pixels alone, in the same format: no EXIF, GPS, comments or other chunks."""
    out = io.BytesIO()
    if fmt in ("GIF", "WEBP") and getattr(image, "n_frames", 1) > 1:
        image.save(out, format=fmt, save_all=True)
    elif fmt == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=90)
    else:
        image.save(out, format=fmt)
    return out.getvalue()


def _pdf(data: bytes) -> Inspected:
    from pypdf import PdfReader  # some 20 MB, imported by the first PDF (see _image)
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ChatInputError("The PDF is encrypted: send one without a password.", field="file")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ChatInputError(f"The PDF has more than {MAX_PDF_PAGES} pages.", field="file")
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
    except ChatInputError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError):
        raise ChatInputError("The PDF cannot be read: it is damaged or malformed.", field="file") from None
    return Inspected(AttachmentKind.PDF, PDF_TYPE, data, text=_bounded_text(text.replace("\x00", "")))


def _text(data: bytes) -> Inspected:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ChatInputError("The file is neither an accepted image, a PDF nor UTF-8 text.", field="file") from None
    if "\x00" in text:
        raise ChatInputError("The file is binary, not text.", field="file")
    return Inspected(AttachmentKind.TEXT, TEXT_TYPE, data, text=_bounded_text(text))


def _bounded_text(text: str) -> str:
    limit = settings.WEBOX_ATTACHMENT_MAX_TEXT_CHARS
    if len(text) > limit:
        raise ChatInputError(f"The file holds {len(text)} characters of text; at most {limit} are accepted.",
                             field="file")
    return text
