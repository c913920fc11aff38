"""The rollup's triggers again (dashboard/rollup.py): imported replies no longer count, and every sum
is held at its column's maximum instead of overflowing. The timings index leaves imported replies out
(PostgreSQL), and the rollup is rebuilt from the replies, without the imported ones.

Reversing it puts back nothing older: the triggers and the index are those of the code that runs.
"""

from django.db import migrations


def recreate_rollup(apps, schema_editor):
    from dashboard.rollup import PG_TIMINGS_INDEX, ensure_rollup, trigger_sql

    connection = schema_editor.connection
    # The version counter stays: remembered percentiles rely on versions never coming back.
    with connection.cursor() as cursor:
        for statement in trigger_sql(connection):
            if statement.startswith("DROP TRIGGER"):
                cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_TIMINGS_INDEX}")
    ensure_rollup(connection)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0008_message_imported"),
        ("dashboard", "0002_operate_permission"),
    ]

    operations = [
        migrations.RunPython(recreate_rollup, migrations.RunPython.noop, elidable=False),
    ]
