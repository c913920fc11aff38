"""PostgreSQL: ``chat_message.search_vector`` is set by a trigger, NULL while a reply streams (chat/search.py).

The once-a-second checkpoint of every streaming reply no longer recomputes and re-indexes its
vector; the write that ends the reply computes it once. The generated column of 0004 becomes a
plain column in place (``DROP EXPRESSION``: its vectors are kept, the table is not rewritten) and
the vectors of replies streaming at that moment are set to NULL. Nothing to do on SQLite.

Backwards, the trigger is kept: the code of before matches the column as it is, and only misses
the text so far of replies streaming at that moment.
"""

from django.db import migrations


def search_vector_by_trigger(apps, schema_editor):
    from chat.search import ensure_search_index

    ensure_search_index(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0005_plain_automatic_titles"),
    ]

    operations = [
        migrations.RunPython(search_vector_by_trigger, migrations.RunPython.noop, elidable=False),
    ]
