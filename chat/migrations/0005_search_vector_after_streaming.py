"""PostgreSQL: ``chat_message.search_vector`` is NULL while a reply streams (chat/search.py).

The once-a-second checkpoint of every streaming reply no longer recomputes and re-indexes its
vector; the vector is computed once, by the write that ends the reply. The column is dropped and
added again, which rewrites ``chat_message`` under an exclusive lock (a stored generated column
cannot change its expression before PostgreSQL 17). Nothing to do on SQLite.

Backwards, the new column is kept: the code of before matches it too, and only misses the text so
far of replies streaming at that moment.
"""

from django.db import migrations


def rebuild_search_column(apps, schema_editor):
    from chat.search import ensure_search_index

    ensure_search_index(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0004_search"),
    ]

    operations = [
        migrations.RunPython(rebuild_search_column, migrations.RunPython.noop, elidable=False),
    ]
