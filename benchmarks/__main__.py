"""Run the benchmarks: ``python -m benchmarks [--quick] [SCENARIO ...] [--only streams,interval,snapshot,worker]``.

``python -m benchmarks e2e`` runs webox end to end (its own processes and database, see benchmarks/e2e.py),
``python -m benchmarks stages`` splits one reply's time and CPU by stage (benchmarks/e2e_stages.py),
``python -m benchmarks markdown`` the CPU of rendering Markdown while streaming (in process),
``python -m benchmarks scaleout`` one daphne against two behind nginx (benchmarks/scaleout.py);
``python -m benchmarks estimate`` the cost estimate of a turn while the user types (benchmarks/estimate.py);
``python -m benchmarks parse`` the CPU per provider chunk, the SDK's parse against webox's (in process);
``python -m benchmarks chunks`` the CPU per spaced chunk and per waiting reply, adapter and publisher (in process);
``python -m benchmarks layer`` the CPU per layer message: delivered by daphne, and per flush of the publisher;
``python -m benchmarks requests`` daphne's CPU per request, by kind (benchmarks/requests.py);
none is in the default set.

Loopback only, bounded, stops by itself. Needs Redis (WEBOX_BENCH_REDIS_URL, default db 5 on
127.0.0.1) and PostgreSQL (WEBOX_BENCH_POSTGRES_URL, default user postgres on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from . import (
    chunks,
    dashboard,
    e2e,
    e2e_stages,
    estimate,
    interval,
    layer,
    load,
    markdown,
    parse,
    reads,
    requests,
    scaleout,
    search,
    snapshot,
    streams_table,
    worker,
)
from .common import RUN_ID, base_env, bench_database, delete_redis_keys, migrate, setup_django

SCENARIOS = {
    "streams": streams_table.main,
    "interval": interval.main,
    "snapshot": snapshot.main,
    "worker": worker.main,
    "e2e": e2e.main,
    "stages": e2e_stages.main,
    "load": load.main,
    "reads": reads.main,
    "dashboard": dashboard.main,
    "search": search.main,
    "markdown": markdown.main,
    "estimate": estimate.main,
    "parse": parse.main,
    "chunks": chunks.main,
    "layer": layer.main,
    "scaleout": scaleout.main,
    "requests": requests.main,
}
DEFAULT = ["streams", "interval", "snapshot", "worker"]
# e2e, stages and requests start webox's own processes on their own database; markdown, parse and chunks need
# no shared database and no Django here (parse and chunks set up Django themselves, without a database).
STANDALONE = {"e2e", "stages", "markdown", "parse", "requests", "chunks"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs (about a minute)")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"scenarios to run among {', '.join(SCENARIOS)} (default: {' '.join(DEFAULT)})")
    parser.add_argument("--only", default="", help="the same, comma-separated")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] + args.scenarios
    chosen = list(dict.fromkeys(chosen)) or DEFAULT
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    print(f"# webox benchmarks ({'quick' if args.quick else 'full'} run)\n")
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}.")
    print("The machine may be shared and noisy: compare rows of the same run, not runs of different days.")
    began = time.monotonic()
    shared = [name for name in chosen if name not in STANDALONE]
    try:
        if shared:
            with bench_database() as database_url:
                setup_django(base_env(database_url=database_url, prefix=f"{RUN_ID}-main"))
                migrate()
                for name in shared:
                    SCENARIOS[name](database_url=database_url, quick=args.quick)
        for name in chosen:
            if name in STANDALONE:
                SCENARIOS[name](quick=args.quick)
    finally:
        delete_redis_keys(RUN_ID)
    print(f"\nDone in {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
