"""The daily rollup the dashboard reads (dashboard/models.py), its triggers on chat_message, built from the
replies already stored; and, on PostgreSQL, the index the dashboard's percentiles read (dashboard/rollup.py).

The triggers and the index are outside the model state: they are written per database.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def create_rollup(apps, schema_editor):
    from dashboard.rollup import ensure_rollup

    ensure_rollup(schema_editor.connection)


def drop_rollup(apps, schema_editor):
    from dashboard.rollup import drop_rollup

    drop_rollup(schema_editor.connection)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("chat", "0004_search"),
    ]

    operations = [
        migrations.CreateModel(
            name='DailyUsage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(help_text='The day the replies were asked (UTC).')),
                ('provider', models.CharField(max_length=100)),
                ('model', models.CharField(max_length=200)),
                ('cost_currency', models.CharField(blank=True, help_text='Empty: replies with no known price.', max_length=3)),
                ('error_code', models.CharField(blank=True, help_text='The code of the errors; empty otherwise.', max_length=40)),
                ('replies', models.IntegerField(default=0)),
                ('errors', models.IntegerField(default=0)),
                ('cancelled', models.IntegerField(default=0)),
                ('estimated', models.IntegerField(default=0, help_text='Replies whose token counts webox estimated.')),
                ('priced', models.IntegerField(default=0, help_text='Replies with a known cost.')),
                ('prompt_tokens', models.BigIntegerField(default=0)),
                ('completion_tokens', models.BigIntegerField(default=0)),
                ('cost_units', models.BigIntegerField(default=0)),
                ('version', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('day', 'provider', 'model', 'cost_currency', 'error_code'), name='dailyusage_key')],
            },
        ),
        migrations.CreateModel(
            name='UserDailyUsage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(help_text='The day the replies were asked (UTC).')),
                ('provider', models.CharField(max_length=100)),
                ('model', models.CharField(max_length=200)),
                ('cost_currency', models.CharField(blank=True, help_text='Empty: replies with no known price.', max_length=3)),
                ('error_code', models.CharField(blank=True, help_text='The code of the errors; empty otherwise.', max_length=40)),
                ('replies', models.IntegerField(default=0)),
                ('errors', models.IntegerField(default=0)),
                ('cancelled', models.IntegerField(default=0)),
                ('estimated', models.IntegerField(default=0, help_text='Replies whose token counts webox estimated.')),
                ('priced', models.IntegerField(default=0, help_text='Replies with a known cost.')),
                ('prompt_tokens', models.BigIntegerField(default=0)),
                ('completion_tokens', models.BigIntegerField(default=0)),
                ('cost_units', models.BigIntegerField(default=0)),
                ('version', models.BigIntegerField(default=0)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['day'], name='userdailyusage_day')],
                'constraints': [models.UniqueConstraint(fields=('owner', 'day', 'provider', 'model', 'cost_currency', 'error_code'), name='userdailyusage_key')],
            },
        ),
        migrations.RunPython(create_rollup, drop_rollup, elidable=False),
    ]
