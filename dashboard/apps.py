from django.apps import AppConfig
from django.db.models.signals import post_migrate

ROLLUP_MIGRATION = ("dashboard", "0001_daily_usage")


def _ensure_rollup(sender, *, using, **kwargs) -> None:
    """Put the rollup's triggers back (and rebuild it) if a later migration dropped them: rebuilding
    a SQLite table, as a migration of chat_message may, drops its triggers."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .rollup import ensure_rollup

    connection = connections[using]
    if ROLLUP_MIGRATION in MigrationRecorder(connection).applied_migrations():
        ensure_rollup(connection)


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        post_migrate.connect(_ensure_rollup, sender=self, dispatch_uid="dashboard-rollup")
