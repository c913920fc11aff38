"""``manage.py usage_backfill``: the command lives with usage (``chat.usage.cli``)."""

from chat.usage.cli import Command  # noqa: F401
