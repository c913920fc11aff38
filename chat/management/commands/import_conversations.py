"""``manage.py import_conversations --user NAME FILE``: a webox, ChatGPT or Open WebUI JSON export, for that user."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.errors import ChatError
from chat.imports import ExportFileError, conversations_import


class Command(BaseCommand):
    help = "Import a webox, ChatGPT or Open WebUI JSON export into one user's account: all of it, or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The JSON export file.")
        parser.add_argument("--user", required=True, help="Username who will own the imported conversations.")

    def handle(self, *args, file, user, **options):
        try:
            owner = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {user!r}.") from None
        try:
            result = conversations_import(owner=owner, raw=Path(file).read_bytes())
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        except (ExportFileError, ChatError) as exc:
            raise CommandError(f"Nothing imported: {exc.detail}") from None
        self.stdout.write(f"Imported {len(result.conversations)} conversation(s) for {user}.")
        for entry in result.not_imported:
            self.stdout.write(f"Not imported: conversation {entry.conversation} ({entry.title}), "
                              f"message {entry.message}: {entry.what}")
