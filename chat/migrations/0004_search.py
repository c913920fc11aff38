"""Full-text search on chat_message (chat/search.py): a tsvector column and GIN index on PostgreSQL, FTS5 on SQLite.

Outside the model state on purpose: neither kind of index exists on the other database.
"""

from django.db import migrations, models


def create_index(apps, schema_editor):
    from chat.search import ensure_search_index

    ensure_search_index(schema_editor.connection)


def drop_index(apps, schema_editor):
    from chat.search import drop_search_index

    drop_search_index(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0003_usage_cost"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["-created_at", "-id"], name="msg_created_desc"),
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
