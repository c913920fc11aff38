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

from django.db import transaction
from django.dispatch import Signal

# Sent after commit with ``reply_ids``: pending replies ready to be generated.
replies_stored = Signal()


def announce_replies_stored(reply_ids: list[int]) -> None:
    """Announce ``reply_ids`` once the current transaction commits."""
    transaction.on_commit(lambda: replies_stored.send(sender=None, reply_ids=reply_ids))
