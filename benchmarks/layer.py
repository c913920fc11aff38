"""Scenario ``layer``: the CPU of one layer message, where it is delivered (daphne) and where it is made (a flush).

1. *daphne, per delivered layer message*: a real daphne (production settings, Redis pub/sub layer) on the
   run's database; a driver process opens sockets on conversations of one user, then publishes
   ``chat.events`` layer messages of deltas to their groups at a steady rate, as a worker's publisher does,
   and reads every frame back (seq checked). daphne's CPU over the window (from /proc) ÷ layer messages
   delivered (one per socket in the group) and ÷ socket frames sent. Nothing else runs in daphne meanwhile.
2. *the publisher, per flush*: the delta path of scenario 1 (``benchmarks/streams.py``, mode ``publisher``) for
   N streams at 40 tokens/s; the producer's CPU ÷ flushes (``record_flush`` calls) and ÷ layer messages
   published, beside mode ``tokens`` (the synthetic provider alone) to subtract.

CPU figures are process CPU time, so a busy shared machine changes them less than wall-clock ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from testing.figures import percentile, print_table
from testing.processes import start_daphne

from .common import RUN_ID, base_env, cpu_seconds, delete_redis_keys, pipe, setup_django, spawn
from .e2e_procs import TempDir, shape_env
from .streams import make_plan, run
from .streams_table import RATE

TEXT = "tok "
MESSAGE_ID_BASE = 900_000_000  # reply ids no real reply has: the consumer only checks their seq


# --- 1. daphne ------------------------------------------------------------------------------------------------
def driver_main(env: dict, port: int, config: dict, conn) -> None:
    setup_django(env)
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    from chat.models import Conversation

    name = f"layer{time.time_ns()}"
    user = get_user_model().objects.create_user(username=name, email=f"{name}@bench.invalid", password="x" * 20)
    conversations = [Conversation.objects.create(owner=user, title=f"layer {i}").pk
                     for i in range(config["conversations"])]
    token = str(AccessToken.for_user(user))
    conn.send(asyncio.run(_drive(port, token, conversations, config, conn)))


async def _drive(port: int, token: str, conversations: list[int], config: dict, conn) -> dict:
    import orjson
    import websockets
    from channels.layers import get_channel_layer

    from chat import events

    per_conversation, deltas, rounds, rate = (config["sockets"], config["deltas"], config["rounds"],
                                              config["rounds_per_s"])
    sockets = []
    for cid in conversations:
        for _ in range(per_conversation):
            ws = await websockets.connect(f"ws://127.0.0.1:{port}/api/chat/ws/{cid}", origin=f"http://127.0.0.1:{port}",
                                          subprotocols=["webox.bearer", token], max_size=None, ping_interval=None)
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 60))
            assert first["type"] == "snapshot", first
            sockets.append(ws)
    frames = [0]
    lags: list[float] = []
    wrong = [0]
    seen: list[dict[int, int]] = [{} for _ in sockets]

    async def read(index: int, ws) -> None:
        known = seen[index]
        async for raw in ws:
            event = orjson.loads(raw)
            if event["type"] != "message.delta":
                continue
            frames[0] += 1
            message_id, seq = event["message_id"], event["seq"]
            wrong[0] += seq != known.get(message_id, 0) + 1
            known[message_id] = seq
            lags.append(time.monotonic() - sent_at[seq])

    readers = [asyncio.get_running_loop().create_task(read(i, ws)) for i, ws in enumerate(sockets)]
    layer = get_channel_layer()
    sent_at: dict[int, float] = {}
    await layer.group_send("warmup", {"type": "warmup"})
    conn.send("ready")
    while not conn.poll():
        await asyncio.sleep(0.02)
    conn.recv()
    began = time.monotonic()
    for seq in range(1, rounds + 1):
        await asyncio.sleep(max(0.0, began + seq / rate - time.monotonic()))
        sent_at[seq] = time.monotonic()
        await asyncio.gather(*(
            events.publish(cid, [events.delta(message_id=MESSAGE_ID_BASE + cid * 10 + d, seq=seq, text=TEXT)
                                 for d in range(deltas)])
            for cid in conversations))
    expected = rounds * len(sockets) * deltas
    deadline = time.monotonic() + 30
    while frames[0] < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    wall = time.monotonic() - began
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return {"frames": frames[0], "expected": expected, "layer messages": rounds * len(sockets),
            "wrong": wrong[0], "wall": wall, "lag p50 ms": 1000 * percentile(lags, 50),
            "lag p99 ms": 1000 * percentile(lags, 99)}


def daphne_costs(database_url: str, configs: list[dict]) -> list[list]:
    from django.conf import settings

    prefix = f"{RUN_ID}-layer"
    rows = []
    with contextlib.ExitStack() as stack:
        stack.callback(delete_redis_keys, prefix)
        log_dir = stack.enter_context(TempDir())
        env = shape_env(shape="production", fake_origin="http://127.0.0.1:9", var_dir=log_dir,
                        database_url=database_url, prefix=prefix)
        env["DJANGO_SECRET_KEY"] = settings.SECRET_KEY  # the driver mints the socket's token
        daphne, port = start_daphne(log_dir, env)
        stack.callback(daphne.stop)
        for config in configs:
            driver_env = {**base_env(database_url=database_url, prefix=prefix),
                          "DJANGO_SECRET_KEY": settings.SECRET_KEY}
            conn, child = pipe()
            driver = spawn(driver_main, driver_env, port, config, child)
            try:
                if not conn.poll(120) or conn.recv() != "ready":
                    raise RuntimeError("the layer driver did not start")
                time.sleep(0.5)  # the snapshots' work done
                cpu0 = cpu_seconds(daphne.pid)
                conn.send("go")
                if not conn.poll(config["rounds"] / config["rounds_per_s"] + 90):
                    raise RuntimeError("the layer driver did not finish")
                result = conn.recv()
                cpu = cpu_seconds(daphne.pid) - cpu0
            finally:
                driver.join(10)
                if driver.is_alive():
                    driver.kill()
            rows.append([config["conversations"], config["sockets"], config["deltas"],
                         config["rounds_per_s"] * config["conversations"], result["layer messages"],
                         f"{result['frames']} / {result['expected']}", result["wrong"],
                         100 * cpu / result["wall"], 1e6 * cpu / max(result["layer messages"], 1),
                         1e6 * cpu / max(result["frames"], 1), result["lag p50 ms"], result["lag p99 ms"]])
            print(f"  daphne {config}: done", flush=True)
    return rows


# --- 2. the publisher -----------------------------------------------------------------------------------------
def publisher_costs(database_url: str, counts: tuple[int, ...], window: float) -> list[list]:
    rows = []
    for count in counts:
        plan = make_plan(count, 1, RATE, window)
        figures = {}
        for mode in ("tokens", "publisher"):
            figures[mode] = run(database_url=database_url, prefix=f"{RUN_ID}-layer-{mode}-{count}", layer="pubsub",
                                mode=mode, plan=plan)
        produced, alone = figures["publisher"]["producer"], figures["tokens"]["producer"]
        received = figures["publisher"]["receiver"]
        cpu = produced["cpu_percent"] / 100  # CPU seconds per second
        net = max(cpu - alone["cpu_percent"] / 100, 0.0)
        flushes, sends = produced["flushes_per_s"], produced["sends_per_s"]
        rows.append([count, produced["interval_ms"], flushes, sends, produced["cpu_percent"], alone["cpu_percent"],
                     1e6 * net / flushes if flushes else float("nan"), 1e6 * net / sends if sends else float("nan"),
                     received["p50_ms"], received["p99_ms"], received["gaps"] + received["duplicates"]])
        print(f"  publisher {count} streams: done", flush=True)
    return rows


def main(*, database_url: str, quick: bool) -> None:
    seconds = 5 if quick else 15
    print("\n## Layer messages: daphne's CPU per delivered layer message and socket frame; the publisher's per flush")
    configs = [
        {"conversations": 100, "sockets": 1, "deltas": 1, "rounds_per_s": 10},
        {"conversations": 100, "sockets": 1, "deltas": 3, "rounds_per_s": 10},
        {"conversations": 25, "sockets": 4, "deltas": 1, "rounds_per_s": 10},
    ]
    for config in configs:
        config["rounds"] = seconds * config["rounds_per_s"]
    print_table("daphne: layer messages of deltas to sockets (one user, bearer sockets)",
                ["conversations", "sockets / conversation", "deltas / layer message", "layer msg/s published",
                 "layer messages delivered", "frames received / expected", "out of order", "daphne CPU %",
                 "daphne µs / layer message delivered", "daphne µs / frame", "lag p50 ms", "lag p99 ms"],
                daphne_costs(database_url, configs))
    print_table(f"Publisher: {RATE:.0f} tokens/s per stream, 1 reply per conversation (CPU net of the token "
                "generator alone)",
                ["streams", "interval ms", "flushes/s", "layer msg/s", "producer CPU %", "generator alone CPU %",
                 "µs / flush", "µs / layer message", "latency p50 ms", "latency p99 ms", "gaps + doubles"],
                publisher_costs(database_url, (100, 500) if quick else (100, 300, 500, 1000), seconds))
