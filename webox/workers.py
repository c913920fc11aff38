"""N Celery workers that share one copy of their imported code: ``python -m webox.workers N <celery worker options>``.

``N`` is a number, or ``auto``: one worker per core this process may run on (``os.sched_getaffinity``),
what deploy/Procfile starts.

Each worker runs its streams on one event loop, so a machine runs one worker per core
(docs/operations.md). A worker imports Django, webox, the provider SDKs and the price table before
its first task (``webox/celery.py``): some 150 MB, the same bytes in every worker. Started one by one,
N workers hold N copies. Here one process imports all of it, puts it out of the garbage collector's
reach (``gc.freeze``: a collection writes into every object it visits, which would copy each page of
a forked process back into its own memory) and forks N − 1 children; it then runs the Nth worker
itself. Each process has its own Celery consumer, thread pool and event loop, as if started alone;
what they share is read-only code and data, copied page by page only where one of them writes.

A TERM to the first process is passed on to the others, and it exits once they have (each finishes
its replies first, as a worker alone does). Ctrl-C reaches all of them from the terminal. A child
whose parent dies is sent a TERM. The worker names get the process number: ``-n w@%h`` gives
``w1@%h`` ... ``wN@%h`` (``worker1@%h`` ... without ``-n``).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys

from webox.collector import freeze_long_lived

PR_SET_PDEATHSIG = 1


def _named(argv: list[str], number: int) -> list[str]:
    """``argv`` with the worker's node name numbered (``-n name@host`` -> ``-n name<number>@host``)."""
    argv = list(argv)
    for flag in ("-n", "--hostname"):
        if flag in argv and argv.index(flag) + 1 < len(argv):
            i = argv.index(flag) + 1
            name, at, host = argv[i].partition("@")
            argv[i] = f"{name}{number}{at}{host}"
            return argv
    return [*argv, "-n", f"worker{number}@%h"]


# What a Celery worker imports as it starts, besides Django and webox: imported once, shared too.
WORKER_MODULES = ("celery.bin.worker", "celery.apps.worker", "celery.app.control", "celery.events",
                  "celery.worker.components", "celery.worker.consumer", "celery.concurrency.thread",
                  "kombu.transport.redis")


def preload() -> None:
    """Import before the fork what every worker imports at start, and leave no connection or thread
    behind for a child to inherit."""
    import django

    django.setup()
    from django.db import connections

    from webox.celery import _load_provider_sdks, app

    app.loader.import_default_modules()
    for name in WORKER_MODULES:
        importlib.import_module(name)
    _load_provider_sdks()  # the SDKs, their first call and the price table, as each worker's start hook does
    for connection in connections.all(initialized_only=True):
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def worker_count(given: str) -> int | None:
    """How many workers ``N`` asks for: a positive number, or ``auto`` for one per usable core."""
    if given == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return int(given) if given.isdigit() and int(given) >= 1 else None


def main(argv: list[str]) -> None:
    count = worker_count(argv[0]) if argv else None
    if count is None:
        sys.exit("usage: python -m webox.workers N|auto [celery worker options]")
    options = argv[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webox.settings")
    preload()
    _check(options)
    freeze_long_lived()
    children = []
    for number in range(2, count + 1):
        pid = os.fork()
        if pid == 0:
            if sys.platform.startswith("linux"):  # a TERM if the parent dies, however it dies
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
            _run(_named(options, number))
            os._exit(0)
        children.append(pid)
    _pass_term_on(children)
    try:
        _run(_named(options, 1))
    finally:
        for pid in children:
            os.waitpid(pid, 0)


PROG = "python -m webox.workers N"


def _worker_command():
    """Celery's ``worker`` command and the context the ``celery`` command would give it. The worker command
    alone: ``app.worker_main`` goes through the whole ``celery`` command, whose other subcommands import
    what no worker runs (``celery amqp``'s shell: click-repl and prompt-toolkit, 7 MB of two workers)."""
    from celery.bin.base import CLIContext
    from celery.bin.worker import worker

    from webox.celery import app

    return worker, CLIContext(app=app, no_color=None, workdir=None, quiet=False)


def _check(options: list[str]) -> None:
    """Parse the worker options once, before the fork, so that an unknown option or a bad value is said
    once (as Celery's command line says it, exit status 2), not by every worker; ``--help`` likewise."""
    import click

    command, obj = _worker_command()
    try:
        command.make_context(PROG, list(options), obj=obj)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


def _run(options: list[str]) -> None:
    """``celery worker <options>`` in this process."""
    command, obj = _worker_command()
    try:
        command.main(args=options, prog_name=PROG, standalone_mode=False, obj=obj)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise


def _pass_term_on(children: list[int]) -> None:
    """Celery's warm shutdown on a TERM, in every child too. Not a Ctrl-C: the terminal sends that to
    all of them, and a second SIGINT is Celery's cold shutdown."""
    from celery.signals import worker_shutting_down

    def pass_on(sig=None, **_) -> None:
        if sig == "SIGTERM":
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    worker_shutting_down.connect(pass_on, weak=False)


if __name__ == "__main__":
    main(sys.argv[1:])
