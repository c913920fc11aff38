from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save, pre_delete

SEARCH_MIGRATION = ("chat", "0004_search")


def _ensure_search_index(sender, *, using, **kwargs) -> None:
    """Put the search index back if a later migration dropped it (a SQLite table rebuild drops triggers)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .search import ensure_search_index

    connection = connections[using]
    if SEARCH_MIGRATION in MigrationRecorder(connection).applied_migrations():
        ensure_search_index(connection)


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from .attachments.models import Attachment
        from .attachments.services import attachment_file_release
        from .signals import user_deleting, user_saved

        post_migrate.connect(_ensure_search_index, sender=self, dispatch_uid="chat-search-index")
        # A deactivated or deleted account's replies still generating are stopped (chat/signals.py).
        post_save.connect(user_saved, sender=get_user_model(), dispatch_uid="chat.user_saved")
        pre_delete.connect(user_deleting, sender=get_user_model(), dispatch_uid="chat.user_deleting")
        # A file is deleted with the last attachment that refers to it (chat/attachments/services.py).
        post_delete.connect(attachment_file_release, sender=Attachment, dispatch_uid="chat.attachment_file_release")
