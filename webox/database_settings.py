"""The ``DATABASES`` setting: PostgreSQL through a bounded pool when a URL is given, else a SQLite file."""

import os
from pathlib import Path

import dj_database_url


def database_config(url: str, *, pool_min: int, pool_max: int, pool_timeout: float, var_dir: Path,
                    sqlite_timeout: float) -> dict:
    if url:
        # CONN_MAX_AGE must be 0 with a pool: "closing" a connection hands it back to the pool.
        databases = {"default": dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)}
        if databases["default"]["ENGINE"] == "django.db.backends.postgresql":
            # Django's, with a checkout that skips the check's round trip while the server said nothing.
            databases["default"]["ENGINE"] = "webox.postgresql"
        if pool_max > 0:  # 0: no pool (behind PgBouncer, say); connections close after each use
            databases["default"].setdefault("OPTIONS", {})["pool"] = {
                "min_size": min(pool_min, pool_max),
                "max_size": pool_max,
                "timeout": pool_timeout,
            }
    else:
        var_dir.mkdir(parents=True, exist_ok=True)
        databases = {
            "default": {
                # Django's, without DEBUG's log of every statement (webox/sqlite/base.py).
                "ENGINE": "webox.sqlite",
                "NAME": var_dir / "webox.sqlite3",
                # Kept by each thread (the kept request threads, the database threads): opening one
                # (its file, its PRAGMAs, Django's functions) was about a tenth of the embedded server's
                # CPU under a burst of sends, once per request. A file has nothing to go stale.
                "CONN_MAX_AGE": None,
                "OPTIONS": {
                    # WAL and IMMEDIATE transactions let concurrent streams checkpoint without
                    # "database is locked" errors on the embedded default.
                    "transaction_mode": "IMMEDIATE",
                    # Seconds a write waits for SQLite's one write lock; past it the request gets a
                    # 503 (webox/database.py) and a reply's own writes try again.
                    "timeout": sqlite_timeout,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                },
                # A file, not the in-memory default: concurrent streams write from several threads,
                # and SQLite's shared-cache memory databases fail such writers instead of waiting.
                "TEST": {"NAME": str(var_dir / f"test_webox_{os.getpid()}.sqlite3")},
            }
        }
    return databases
