"""Run the benchmarks: ``python -m benchmarks [--quick] [--only streams,interval,snapshot,worker,search]``.

Loopback only, bounded, stops by itself. Needs Redis (WEBOX_BENCH_REDIS_URL, default db 5 on
127.0.0.1) and PostgreSQL (WEBOX_BENCH_POSTGRES_URL, default user postgres on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from . import interval, search, snapshot, streams_table, worker
from .common import RUN_ID, base_env, bench_database, delete_redis_keys, migrate, setup_django

SCENARIOS = {
    "streams": streams_table.main,
    "interval": interval.main,
    "snapshot": snapshot.main,
    "worker": worker.main,
    "search": search.main,
}
DEFAULT = ["streams", "interval", "snapshot", "worker"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter runs (about a minute)")
    parser.add_argument("--only", default=",".join(DEFAULT),
                        help=f"comma-separated scenarios among {', '.join(SCENARIOS)} (default: {','.join(DEFAULT)})")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    print(f"# webox benchmarks ({'quick' if args.quick else 'full'} run)\n")
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}.")
    print("The machine may be shared and noisy: compare rows of the same run, not runs of different days.")
    began = time.monotonic()
    try:
        with bench_database() as database_url:
            setup_django(base_env(database_url=database_url, prefix=f"{RUN_ID}-main"))
            migrate()
            for name in chosen:
                SCENARIOS[name](database_url=database_url, quick=args.quick)
    finally:
        delete_redis_keys(RUN_ID)
    print(f"\nDone in {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
