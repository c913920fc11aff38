"""Celery tasks: thin, by id, one service or engine call each.

Named explicitly with the names they had before this module moved here, so tasks already queued
by a running deployment (and its beat schedule) still find them.
"""

from celery import shared_task

from chat.attachments.services import attachments_sweep
from chat.services import replies_sweep_orphans
from webox.loops import run_in_background

from .engine import generate_reply as generate


@shared_task(name="chat.tasks.generate_reply", ignore_result=True)
def generate_reply(reply_id: int) -> None:
    # The pool thread waits here; the stream itself runs on the process's one event loop.
    run_in_background(generate(reply_id))


@shared_task(name="chat.tasks.sweep_orphaned_replies", ignore_result=True)
def sweep_orphaned_replies() -> int:
    return len(replies_sweep_orphans())


@shared_task(name="chat.tasks.sweep_attachments", ignore_result=True)
def sweep_attachments() -> int:
    return attachments_sweep()
