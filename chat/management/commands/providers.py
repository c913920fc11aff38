"""``manage.py providers``: the command lives with the providers (``chat.providers.cli``)."""

from chat.providers.cli import Command  # noqa: F401
