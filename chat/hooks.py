"""What the write path announces for streaming to act on: the one hook between the two.

Services store data and never import ``chat.streaming`` (which imports services for its own
writes). After a send or a regenerate commits, they announce the replies they stored here;
the streaming app connects its receiver when it is ready (``chat/streaming/apps.py``) and starts
generating them: a Celery task each, or a task on the server's loop in the embedded default.
Without that receiver nothing would start them: system check ``webox.E004`` says so.

Stopping a reply needs no hook: services raise its cancel flag in the stream store
(``chat.stream_store``), which every worker's publisher reads on each flush, whichever process
runs the reply.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent after commit with ``reply_ids``: pending replies ready to be generated.
replies_stored = Signal()


def announce_replies_stored(reply_ids: list[int]) -> None:
    """Announce ``reply_ids`` once the current transaction commits.

    Robust: the turn is stored already, so a receiver that fails (the Celery broker down) must not
    turn it into a 500 that a client's retry would store twice. The failure is logged; the replies
    stay ``pending`` and the orphan sweep ends them (``orphaned``) once they are
    ``WEBOX_REPLY_STALE_SECONDS`` old.
    """
    transaction.on_commit(lambda: _send(reply_ids))


def _send(reply_ids: list[int]) -> None:
    for receiver, result in replies_stored.send_robust(sender=None, reply_ids=reply_ids):
        if isinstance(result, Exception):
            logger.error("replies %s could not be started (%s); the orphan sweep will end them", reply_ids,
                         getattr(receiver, "__qualname__", receiver), exc_info=result)
