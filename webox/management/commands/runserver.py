"""``manage.py runserver`` serves the ASGI application on daphne, so the chat's WebSockets work.

It is daphne's command, which daphne's app would add; the app is not installed (webox/settings.py),
so daphne and twisted are imported only by the processes that serve HTTP. One addition: a port
that another program already listens on stops the command at once with a message that says so
(daphne would log its listen failure and, under the autoreloader, wait for file changes forever).
"""

from __future__ import annotations

import errno
import socket

from daphne.management.commands.runserver import Command as DaphneRunserver
from django.core.management.base import CommandError


class Command(DaphneRunserver):
    def run(self, **options) -> None:
        port_in_use = address_in_use(self.addr, int(self.port))
        if port_in_use:
            raise CommandError(
                f"Port {self.port} on {self.addr} is already in use: another program (perhaps another webox) "
                f"listens there. Stop it, or choose another port, e.g. `make run PORT={int(self.port) + 1}` "
                f"or `manage.py runserver {self.addr}:{int(self.port) + 1}`.")
        super().run(**options)


def address_in_use(host: str, port: int) -> bool:
    """Whether binding ``host:port`` fails because something listens there (as twisted would bind it)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False
