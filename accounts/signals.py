"""Tell a user's open sockets when the account changes, so a revoked user is cut off at once.

Any save (deactivated, password changed) or delete of a user sends one ``user.changed``
message to the group ``user.<id>`` after the change commits; each socket then re-checks the
user (accounts.selectors.user_still_valid) and closes if it no longer may. A log-out sends
``user.logged_out`` with the session's key to the same group: the sockets opened with that
session close. With the Redis channel layer this reaches sockets on every server process.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .selectors import user_group

logger = logging.getLogger(__name__)


def _send(user_id: int, message: dict | None = None) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), message or {"type": "user.changed"})
    except Exception:
        # The sockets still re-check the user on their next frame, and their session every minute.
        logger.exception("could not tell the sockets of user %s about a change", user_id)


def user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no sockets; a log-in changes nothing a socket relies on
    user_id = instance.pk
    transaction.on_commit(lambda: _send(user_id))


def user_deleted(sender, instance, **kwargs) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: _send(user_id))


def user_logged_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is None or not session_key:
        return  # nobody was logged in, or the session was never stored: no socket was opened with it
    user_id = user.pk
    transaction.on_commit(lambda: _send(user_id, {"type": "user.logged_out", "session_key": session_key}))
