"""Scenario ``load``: the load scenario of ``testing/load.py`` at size: users × conversations × sockets,
turns back to back for a fixed time, every reply checked token for token (``--quick``: one smaller size)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from testing.fake_provider import FakeProviderServer
from testing.load import PROVIDERS, report, run_stack

from .common import RUN_ID


def main(*, database_url: str, quick: bool) -> None:
    sizes = [(20, 1, 2, 10.0)] if quick else [(20, 1, 2, 20.0), (60, 2, 2, 30.0)]
    print("\n## Load: users × conversations × sockets, turns back to back to two providers "
          "(20 pieces, 20 ms apart), real daphne + Celery worker + fake provider")
    env = {"WEBOX_CELERY_QUEUE": f"{RUN_ID}-load", "WEBOX_LOG_LEVEL": "WARNING"}
    summaries = []
    with FakeProviderServer() as fake, tempfile.TemporaryDirectory(prefix="webox-load-") as tmp:
        for users, per_user, sockets, duration in sizes:
            concurrency = max(50, users * per_user * len(PROVIDERS) + 10)
            summaries.append(run_stack(Path(tmp), fake=fake, users=users, conversations_per_user=per_user,
                                       sockets_per_conversation=sockets, duration=duration, tokens=20,
                                       delay_ms=20, concurrency=concurrency, env=env, stuck_after=60.0))
            print(f"  {users} users x {per_user} conversations x {sockets} sockets: done", flush=True)
    report(summaries)
