"""``manage.py export_conversations --user NAME [--conversation ID] [--format json|md] [--output FILE]``."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.exports import conversations_export_json, conversations_export_markdown
from chat.selectors import ConversationNotFound, conversation_get_for_user, conversation_list_for_user


class Command(BaseCommand):
    help = "Export one user's conversations (all, or one) as lossless JSON or readable Markdown."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username whose conversations to export.")
        parser.add_argument("--conversation", type=int, help="Only this conversation id.")
        parser.add_argument("--format", choices=["json", "md"], default="json")
        parser.add_argument("--output", help="File to write; default: standard output.")

    def handle(self, *args, user, conversation, format, output, **options):
        try:
            owner = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {user!r}.") from None
        if conversation is not None:
            try:
                conversations = [conversation_get_for_user(user=owner, conversation_id=conversation)]
            except ConversationNotFound:
                raise CommandError(f"{user} has no conversation {conversation}.") from None
        else:
            conversations = conversation_list_for_user(user=owner, archived=None).order_by("created_at", "id")
        render = conversations_export_json if format == "json" else conversations_export_markdown
        text = render(conversations)
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
