"""Celery tasks: thin, by id, one service or engine call each."""

from celery import shared_task

from .background import run_in_background


@shared_task(ignore_result=True)
def generate_reply(reply_id: int) -> None:
    from .engine import generate_reply as generate

    # The pool thread waits here; the stream itself runs on the process's one event loop.
    run_in_background(generate(reply_id))


@shared_task(ignore_result=True)
def sweep_orphaned_replies() -> int:
    from .services import replies_sweep_orphans

    return len(replies_sweep_orphans())
