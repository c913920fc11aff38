"""Tell a user's open sockets when the account changes, so a revoked user is cut off at once.

Any save (deactivated, password changed) or delete of a user sends one ``user.changed``
message to the group ``user.<id>`` after the change commits; each socket then re-checks the
user (accounts.selectors.user_still_valid) and closes if it no longer may. With the Redis
channel layer this reaches sockets on every server process.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .selectors import user_group

logger = logging.getLogger(__name__)


def _send(user_id: int) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(user_group(user_id), {"type": "user.changed"})
    except Exception:
        # The sockets still re-check the user on their next frame.
        logger.exception("could not tell the sockets of user %s about a change", user_id)


def user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no sockets; a log-in changes nothing a socket relies on
    user_id = instance.pk
    transaction.on_commit(lambda: _send(user_id))


def user_deleted(sender, instance, **kwargs) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: _send(user_id))
