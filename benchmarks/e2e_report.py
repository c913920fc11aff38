"""Scenario ``e2e``'s tables: a wave's row of figures, and the report printed at the end of a run."""

from __future__ import annotations

from testing.figures import print_table

from .e2e_stats import nominal_s
from .e2e_workload import FANOUT, MODEL, SLOW_MODEL, SLOWEST, TOKENS

TTFT_COLUMNS = ["shape", "streams", "webox TTFT p50", "p95", "p99", "direct TTFT p50", "p95", "p99",
                "overhead p50", "p95", "p99", "send→provider p50", "p99", "POST /send p50", "p99",
                "finish/nominal p99", "lag p50", "lag p99", "ok / replies", "not opened", "not ended", "wrong",
                "doubled", "gaps",
                "daphne CPU %", "worker CPU %", "fake CPU %", "client CPU %",
                "daphne µs / token", "worker µs / token", "webox µs / token", "daphne RSS MB", "worker RSS MB",
                "PG connections", "HTTP 5xx"]


def cpu_per_token(costs: dict, tokens: int) -> list[float]:
    """CPU µs per delivered token over the whole wave (sockets, sends, streams, ends) of daphne, the worker
    and both: the issue's "process CPU ÷ tokens delivered"."""
    nan = float("nan")
    if not tokens:
        return [nan, nan, nan]
    daphne, worker = costs["cpu s"].get("daphne", 0.0), costs["cpu s"].get("worker")
    per = [1e6 * daphne / tokens, nan if worker is None else 1e6 * worker / tokens]
    return [*per, 1e6 * (daphne + (worker or 0.0)) / tokens]


def ttft_row(shape: str, label: str, figures: dict, costs: dict, *, tokens_per_reply: int = TOKENS) -> list:
    c, cpu, rss = figures["counts"], costs["cpu"], costs["rss"]
    return [shape, label, *figures["ttft"], *figures["direct ttft"], *figures["overhead"], *figures["to provider"],
            *figures["post"], figures["finish/nominal p99"], *figures["lag"], f"{c['ok']} / {c['replies expected']}",
            c["not opened"], c["not ended"],
            c["wrong"], c["doubled"], c["gaps"], cpu.get("daphne", 0.0), cpu.get("worker", float("nan")),
            cpu["fake"], cpu["client"], *cpu_per_token(costs, c["ok"] * tokens_per_reply),
            rss["daphne"], rss.get("worker", float("nan")), costs["db connections"] or "–",
            sum(v for k, v in figures["statuses"].items() if int(k.rsplit(" ", 1)[1]) >= 500)]


def print_threads(waves: list) -> None:
    """Which thread of which process spends a wave's CPU, in ms per reply delivered."""
    rows = []
    for name, streams, ok, split in waves:
        per = {proc: {part: 1000 * seconds / ok if ok else float("nan") for part, seconds in parts.items()}
               for proc, parts in split.items()}
        daphne, worker = per.get("daphne", {}), per.get("worker", {})
        nan = float("nan")
        rows.append([name, streams, daphne.get("main", nan), daphne.get("busiest other", nan) + daphne.get("rest", nan),
                     worker.get("main", nan), worker.get("busiest other", nan), worker.get("rest", nan),
                     sum(sum(parts.values()) for proc, parts in per.items() if proc in ("daphne", "worker"))])
    print_table("CPU ms per reply by thread, waves at once (daphne's event loop and its other threads: requests, "
                "the database; each worker's main thread: Celery's consumer; its busiest other thread: the "
                "streaming loop; the rest: the pool and database threads; added up over the worker processes)",
                ["shape", "streams", "daphne loop", "daphne other threads", "workers: Celery consumer",
                 "workers: streaming loop", "workers: other threads", "all"], rows)


def print_parts(waves: list) -> None:
    """A wave's CPU in its two parts: opening each stream's conversation and socket, then the turns (the
    sends, the streams, the sockets' closes) from the moment every socket is open."""
    rows = []
    nan = float("nan")
    for name, streams, ok, costs in waves:
        whole, turn = costs["cpu s"], costs["turn cpu s"] or {}
        webox = [proc for proc in ("daphne", "worker") if proc in whole]
        tokens = ok * TOKENS
        per_token = {proc: 1e6 * turn[proc] / tokens if tokens and proc in turn else nan for proc in webox}
        opening = sum(whole[proc] - turn.get(proc, nan) for proc in webox)
        rows.append([name, streams, 1000 * opening / streams, per_token.get("daphne", nan),
                     per_token.get("worker", nan), sum(per_token.values()), *cpu_per_token(costs, tokens)[2:]])
    print_table("CPU of a wave in two parts: opening the streams (a new conversation and a socket join each), "
                "then the turns (the sends, the streams and the sockets' closes, from when every socket is open); "
                "the whole wave is the TTFT table's µs per token",
                ["shape", "streams", "opening: webox ms per stream", "turns: daphne µs / token",
                 "turns: worker µs / token", "turns: webox µs / token", "whole wave: webox µs / token"], rows)


def print_report(report: dict) -> None:
    print_table("TTFT overhead (ms): webox (send → first delta on the socket) vs direct SDK call (request → first "
                f"chunk), model `{MODEL}` (nominal {nominal_s(MODEL):.1f} s)", TTFT_COLUMNS, report["ttft rows"])
    rows = []
    for name, (ceiling, tried) in report["ceiling"].items():
        rows.append([name, ceiling, ", ".join(f"{n} {'ok' if ok else 'fail'}" for n, ok in tried if n > 1)])
    print_table("Ceiling: most concurrent streams (sent at once) all correct and finished within 2× nominal",
                ["shape", "ceiling", "waves tried"], rows)
    print_threads(report["threads"])
    print_parts(report["parts"])
    rows = []
    nan = float("nan")
    for name, idle in report["idle"].items():
        over_idle, between = {}, {}
        for proc in ("daphne", "worker"):
            points = [(n, rss.get(proc)) for n, rss in report["rss by streams"].get(name, []) if rss.get(proc)]
            if points and proc in idle["rss"]:
                n, mb = points[-1]
                over_idle[proc] = 1024 * (mb - idle["rss"][proc]) / n
            if len(points) >= 2:
                # Between the smallest and the largest wave: what one more stream costs once the process
                # has served some (its pool connections, lazily built caches and first imports excluded).
                (n0, mb0), (n1, mb1) = points[0], points[-1]
                between[proc] = 1024 * (mb1 - mb0) / (n1 - n0)
        shared = idle.get("shared", {})
        rows.append([name, idle["cpu"].get("daphne", 0.0), idle["cpu"].get("worker", nan),
                     idle["rss"]["daphne"], idle["rss"].get("worker", nan),
                     idle["rss"]["daphne"] + idle["rss"].get("worker", 0.0),
                     *(shared.get(proc, {}).get(kind, nan) for kind in ("pss", "uss") for proc in ("daphne", "worker")),
                     between.get("daphne", nan), between.get("worker", nan),
                     over_idle.get("daphne", nan), over_idle.get("worker", nan)])
    print_table("Idle processes and memory per extra stream (RSS peaks of the TTFT waves: between the smallest "
                "and the largest wave, / the streams added; and the largest wave − idle, / its streams). Idle "
                "RSS counts a page shared by the forked workers in each; PSS divides it among them; USS is "
                "what each holds alone (all worker processes together)",
                ["shape", "daphne CPU % idle", "worker CPU % idle", "daphne RSS MB idle", "worker RSS MB idle",
                 "daphne + worker RSS MB idle", "daphne PSS MB idle", "worker PSS MB idle", "daphne USS MB idle",
                 "worker USS MB idle",
                 "daphne kB / extra stream", "worker kB / extra stream",
                 "daphne kB / stream over idle", "worker kB / stream over idle"], rows)
    if report.get("db"):
        rows = [[label, *(report["db"][key][k] for k in ("xact_commit", "xact_rollback", "tup_inserted",
                                                          "tup_updated", "tup_deleted", "tup_fetched"))]
                for key, label in (("join", "create a conversation + join its socket"),
                                   ("reply", "one send, one reply (the difference)"))]
        print_table("Database per turn, production shape (pg_stat_database deltas over 20 turns, / 20)",
                    ["what", "transactions (≈ statements, autocommit)", "rollbacks", "rows inserted", "rows updated",
                     "rows deleted", "rows fetched"], rows)
    rows = []
    for name, turns, (fan, _), (alone, _) in report["fanout"]:
        for label, figures in (("4 providers", fan), (f"{SLOWEST} alone", alone)):
            c = figures["counts"]
            rows.append([name, label, turns, *figures["ttft"][::2], *figures["turn"],
                         f"{c['ok']} / {c['replies expected']}", c["replies expected"] - c["ok"]])
    nominals = ", ".join(f"{p} {nominal_s(m):.1f} s" for p, m in FANOUT.items())
    print_table(f"Fan-out: N turns at once, each to 4 providers (nominal {nominals}), vs {SLOWEST} alone",
                ["shape", "turn", "turns", "TTFT p50 ms", "TTFT p99 ms", "turn p50 ms", "turn p99 ms", "ok / replies",
                 "not right (any reason)"], rows)
    rows = []
    for name, n, figures, costs in report["big"]:
        c = figures["counts"]
        rows.append([name, n, *figures["lag"], figures["delivered %"], *figures["ttft"][::2], *figures["turn"],
                     f"{c['ok']} / {c['replies expected']}", c["not ended"], c["wrong"], c["doubled"], c["gaps"],
                     costs["cpu"].get("daphne", 0.0), costs["cpu"].get("worker", float("nan")),
                     costs["rss"]["daphne"], costs["rss"].get("worker", float("nan"))])
    print_table(f"Many streams at once, `{SLOW_MODEL}` (20 tokens/s, nominal {nominal_s(SLOW_MODEL):.1f} s); "
                f"lag = fake wrote the token → client received it", [
                    "shape", "streams", "lag p50 ms", "lag p99 ms", "tokens delivered %", "TTFT p50 ms",
                    "TTFT p99 ms", "turn p50 ms", "turn p99 ms", "ok / replies", "not ended", "wrong", "doubled",
                    "gaps", "daphne CPU %", "worker CPU %", "daphne RSS MB", "worker RSS MB"], rows)
    statuses: dict[str, int] = {}
    errors = []
    for name, shape in report["shapes"].items():
        for _, figures, _ in shape.waves:
            for key, count in figures["statuses"].items():
                statuses[f"{name} {key}"] = statuses.get(f"{name} {key}", 0) + count
            errors += figures["http errors"]
    print_table("HTTP status codes seen by the clients", ["shape, request, status", "count"],
                sorted([k, v] for k, v in statuses.items()))
    # A 503 is webox refusing a send past capacity (the database was busy; nothing stored), which the
    # issue allows; any other 5xx is a server error.
    refused = {k: v for k, v in statuses.items() if k.endswith(" 503")}
    server_errors = {k: v for k, v in statuses.items() if int(k.rsplit(" ", 1)[1]) >= 500 and k not in refused}
    if refused:
        print(f"\nRefused past capacity (503 with Retry-After, nothing stored): {refused}")
    if server_errors:
        print(f"\n**SERVER ERRORS: {server_errors}**")
    if refused or server_errors:
        for error in dict.fromkeys(" ".join(e.split()) for e in errors[:10]):
            print(f"    {error[:200]}")
