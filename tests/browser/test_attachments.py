"""Attachments in the page: drop an image and a PDF, remove a chip, send to three columns, one blind."""

import base64
import io
import uuid

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from testing.fake_provider import sent_images, sent_text

from .conftest import FAST, MEDIUM, column, pick, send

pytestmark = pytest.mark.browser

PDF_TEXT = "Invoice total forty two euros"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 4), (250, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def pdf() -> bytes:
    stream = f"BT /F1 12 Tf 20 100 Td ({PDF_TEXT}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO(b"%PDF-1.4\n")
    out.seek(0, 2)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def drop(page: Page, files: list[tuple[str, str, bytes]]) -> None:
    """Drops files on the composer as a user dragging them from the desktop does."""
    transfer = page.evaluate_handle("""(files) => {
        const transfer = new DataTransfer();
        for (const [name, type, data] of files) {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], name, { type }));
        }
        return transfer;
    }""", [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files])
    page.dispatch_event("#composer", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#composer", "drop", {"dataTransfer": transfer})


def test_an_image_and_a_pdf_reach_each_column_as_its_model_can_take_them(chat: Page, fake_provider, fake_ollama):
    page = chat
    seeing = f"fake-echo;delay_ms=20;id=vision-{uuid.uuid4().hex[:8]}"
    claude = f"fake-echo;delay_ms=20;id=vision-{uuid.uuid4().hex[:8]}"
    pick(page, {"openai": seeing, "anthropic": claude, "ollama": FAST})
    image = png()
    drop(page, [("red.png", "image/png", image), ("invoice.pdf", "application/pdf", pdf())])
    page.set_input_files("#attachment-input", files=[{"name": "extra.txt", "mimeType": "text/plain",
                                                      "buffer": b"not this one"}])

    chips = page.locator(".attachment-chip:not(.uploading)")
    expect(chips).to_have_count(3)
    expect(page.locator('.attachment-chip[data-name="red.png"] img.chip-preview')).to_be_visible()
    expect(page.locator('.attachment-chip[data-name="invoice.pdf"] .chip-size')).to_contain_text("B")
    expect(page.locator(".attachment-vision-note")).to_have_text("ollama cannot see images: it gets the text only.")
    page.get_by_role("button", name="Remove extra.txt").click()
    expect(chips).to_have_count(2)

    send(page, "What do these say?")

    for name in ("openai", "anthropic", "ollama"):
        expect(column(page, name)).to_have_attribute("data-status", "complete")
    expect(page.locator(".attachment-chip")).to_have_count(0)
    files = page.locator("article.turn").last.locator(".message-attachments li")
    expect(files).to_have_count(2)
    expect(files.and_(page.locator("[data-kind=image]")).locator("img")).to_be_visible()
    turn = page.locator("article.turn").last
    expect(turn.locator('.column[data-provider="ollama"] .column-vision-note')).to_have_text(
        f"{FAST} cannot see images: it got the text without them.")
    expect(turn.locator('.column[data-provider="openai"] .column-vision-note')).to_have_count(0)
    expect(turn.locator('.column[data-provider="anthropic"] .column-vision-note')).to_have_count(0)

    by_model = {r["json"]["model"]: r["json"] for r in fake_provider.chat_requests() if r["json"]}
    for model in (seeing, claude):
        question = by_model[model]["messages"][-1]
        assert sent_images(question) == [("image/png", image)]
        assert PDF_TEXT in sent_text(question) and "not this one" not in sent_text(question)
    [blind] = [r["json"] for r in fake_ollama.chat_requests() if "What do these say?" in str(r["json"])]
    question = blind["messages"][-1]
    assert sent_images(question) == [] and PDF_TEXT in question["content"]
    assert '"red.png", was attached here; this model cannot see images' in question["content"]

    # After a reload the turn still shows its files and the blind column's note.
    page.reload()
    expect(page.locator("article.turn").last.locator(".message-attachments li")).to_have_count(2)
    expect(page.locator('article.turn .column[data-provider="ollama"] .column-vision-note')).to_be_visible()


def test_two_columns_of_one_provider_are_told_apart_on_images(chat: Page, fake_provider):
    """The note is per column: one provider's two models, one that sees images and one that does not."""
    page = chat
    pick(page, {"openai": f"fake-echo;delay_ms=20;id=vision-{uuid.uuid4().hex[:8]}"})
    page.get_by_role("button", name="+ Column").click()
    search = page.get_by_role("combobox", name="Search a model for a new column")
    search.fill("openai tokens=60")
    expect(page.get_by_role("listbox", name="Models").get_by_role("option")).to_have_count(1)
    search.press("Enter")
    drop(page, [("red.png", "image/png", png())])
    expect(page.locator(".attachment-chip:not(.uploading)")).to_have_count(1)
    expect(page.locator(".attachment-vision-note")).to_have_text(
        f"openai · {MEDIUM} cannot see images: it gets the text only.")

    send(page, "Which of you sees it?")
    turn = page.locator("article.turn").last
    for key in ("openai", "openai#2"):
        expect(turn.locator(f'.column[data-column="{key}"] .reply')).to_have_attribute("data-status", "complete",
                                                                                      timeout=60_000)
    expect(turn.locator('.column[data-column="openai#2"] .column-vision-note')).to_have_text(
        f"{MEDIUM} cannot see images: it got the text without them.")
    expect(turn.locator('.column[data-column="openai"] .column-vision-note')).to_have_count(0)
