"""``manage.py runserver`` serves the ASGI application on daphne, so the chat's WebSockets work.

It is daphne's command, which daphne's app would add; the app is not installed (webox/settings.py),
so daphne and twisted are imported only by the processes that serve HTTP.
"""

from daphne.management.commands.runserver import Command

__all__ = ["Command"]
