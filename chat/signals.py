"""A deactivated or deleted account spends nothing more: its replies still generating are stopped.

Its sockets are closed by accounts.signals; without this its replies went on streaming from the
provider, billed, to nobody.
"""

from __future__ import annotations

import logging

from django.db import transaction

from .errors import ChatError
from .services import user_replies_cancel, user_streaming_replies_stop

logger = logging.getLogger(__name__)


def user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created or instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    user_id = instance.pk
    transaction.on_commit(lambda: _stop_replies(user_id))


def _stop_replies(user_id: int) -> None:
    try:
        stopped = user_replies_cancel(user_id=user_id)
    except ChatError:
        # Pending ones are stopped; streaming ones end by themselves or by the orphan sweep.
        logger.warning("could not ask the streaming replies of deactivated user %s to stop", user_id)
        return
    if stopped:
        logger.info("stopped %d replies of deactivated user %s", len(stopped), user_id)


def user_deleting(sender, instance, **kwargs) -> None:
    user_streaming_replies_stop(user_id=instance.pk)
