"""Automatic titles made before issue 13 kept the first message's Markdown ("hello **world**"): make them plain.

A title is taken as automatic when it is exactly what the old rule made of the conversation's
first user message; any other title was typed by someone and is left exactly as it is. Only
titles holding a character that Markdown may use as a mark are looked at. Not reversible (the
old titles are not kept): going back leaves the plain titles.
"""

from django.db import migrations
from django.db.models import OuterRef, Q, Subquery

TITLE_CHARS = 60
MARK_CHARACTERS = "*_`#|[]!<>~\\&"


def _shorten(words: str) -> str:
    if len(words) <= TITLE_CHARS:
        return words
    cut = words[:TITLE_CHARS].rsplit(" ", 1)[0] or words[:TITLE_CHARS]
    return cut + "…"


def old_title(text: str) -> str:
    """title_from_message before issue 13: the raw words."""
    return _shorten(" ".join(text.split()))


def plain_title(text: str) -> str:
    """title_from_message since issue 13 (frozen here, apart from markdown_to_plain itself)."""
    from chat.rendering import markdown_to_plain

    return _shorten(markdown_to_plain(text) or " ".join(text.split()))


def make_automatic_titles_plain(apps, schema_editor):
    Conversation = apps.get_model("chat", "Conversation")
    Message = apps.get_model("chat", "Message")
    may_hold_marks = Q()
    for character in MARK_CHARACTERS:
        may_hold_marks |= Q(title__contains=character)
    first_message = (
        Message.objects.filter(conversation=OuterRef("pk"), role="user").order_by("created_at", "id").values("content")[:1]
    )
    candidates = (
        Conversation.objects.filter(may_hold_marks)
        .annotate(first_message=Subquery(first_message))
        .values_list("pk", "title", "first_message")
    )
    # Read first, then write: SQLite does not isolate a write from a read of the same table in progress.
    renames = []
    for pk, title, first in candidates.iterator(chunk_size=500):
        if first is not None and title == old_title(first) and plain_title(first) != title:
            renames.append((pk, plain_title(first)))
    for pk, plain in renames:
        # update(): the conversation's updated_at (the sidebar's order) stays as it was.
        Conversation.objects.filter(pk=pk).update(title=plain)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0004_search"),
    ]

    operations = [
        migrations.RunPython(make_automatic_titles_plain, migrations.RunPython.noop, elidable=True),
    ]
