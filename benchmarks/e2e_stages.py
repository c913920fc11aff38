"""Where one reply's time and CPU go, end to end: ``python -m benchmarks stages``.

One client sends one message at a time to webox (production shape, then the embedded default),
each in a new conversation whose socket it has joined, and reads the reply on the socket; after
each one it makes the same call to the same fake provider directly with the OpenAI SDK. For each
send it splits the client's time to first token into stages, from the client's clock and the fake
provider's request log:

- ``POST /send``: the client sends until the 202 is read;
- ``202 → provider``: the 202 until the request reaches the provider (Celery intake, claim, context);
- ``send → provider``: the two together; the direct call's is the baseline;
- ``provider → socket``: the provider writes its first piece until the client's socket has it;
- ``TTFT overhead``: webox's time to first token minus the direct call's;
- and, read from the reply's row after the sends, ``202 → provider`` split where the reply was claimed:
  ``stored → claimed`` (its ``created_at`` as the send stored it, to its ``started_at``, when a runner
  began its claim: the commit, the Celery task's way and intake, the hops to the engine) and
  ``claimed → provider`` (the claim's statements, the context, the SDK's request).

It also reads each webox process's CPU time before and after the sends: CPU per reply (the
conversation, the socket, the send, the stream and its end), the cost that bounds how many
replies a process can carry at once. Bounded, loopback only, stops everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator

from testing.figures import percentile
from testing.processes import start_daphne, start_worker

from .common import RUN_ID, delete_redis_keys
from .e2e import throwaway_database
from .e2e_procs import FAKE_KEY, FakeProvider, TempDir, manage, shape_env

# WEBOX_BENCH_STAGES_MODEL=...: another reply shape, e.g. more tokens, to split CPU per token from CPU per second.
MODEL = os.environ.get("WEBOX_BENCH_STAGES_MODEL", "fake-echo;ttft_ms=200;delay_ms=20;tokens=20")
PASSWORD = "stages-Pass-8d1f"
STAGES = ("POST /send", "202 → provider", "send → provider", "provider → socket", "TTFT overhead")
CLAIM_STAGES = ("stored → claimed", "claimed → provider")
# Prints {reply id: [created_at, started_at]} (Unix times) of the replies whose ids are in WEBOX_BENCH_REPLY_IDS.
READ_CLAIMS = ("import json, os; from chat.models import Message; print(json.dumps({m.pk: [m.created_at.timestamp(), "
               "m.started_at.timestamp()] for m in Message.objects.filter(pk__in=json.loads("
               "os.environ['WEBOX_BENCH_REPLY_IDS'])).exclude(started_at=None)}))")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_send(http, sdk, fake: FakeProvider, port: int, headers: dict, token: str, text: str) -> dict:
    import websockets

    conversation = (await http.post("/api/chat/conversations", headers=headers, json={})).json()["id"]
    async with websockets.connect(f"ws://127.0.0.1:{port}/api/chat/ws/{conversation}", origin=str(http.base_url),
                                  subprotocols=["webox.bearer", token], max_size=None, ping_interval=None) as ws:
        json.loads(await ws.recv())  # the snapshot
        fake.take()
        sent = time.time()
        response = await http.post("/api/chat/send", headers=headers, json={
            "message": text, "selected_providers": ["openai"], "selected_models": {"openai": MODEL},
            "conversation_id": conversation})
        answered = time.time()
        if response.status_code != 202:
            raise RuntimeError(f"send answered {response.status_code}: {response.text[:300]}")
        [reply] = response.json()["replies"]
        first = None
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if event["type"] == "message.delta" and first is None:
                first = time.time()
            if event["type"] in ("message.completed", "message.error", "message.cancelled"):
                break
    [asked] = [r for r in fake.take() if r["text"] == text]
    direct_sent = time.time()
    direct_first = None
    stream = await sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": text}], stream=True)
    async for chunk in stream:
        if direct_first is None and chunk.choices and chunk.choices[0].delta.content:
            direct_first = time.time()
    [direct] = [r for r in fake.take() if r["text"] == text]
    ms = 1000
    return {
        "POST /send": (answered - sent) * ms,
        "202 → provider": (asked["received_at"] - answered) * ms,
        "send → provider": (asked["received_at"] - sent) * ms,
        "provider → socket": (first - asked["piece_times"][0]) * ms,
        "TTFT overhead": ((first - sent) - (direct_first - direct_sent)) * ms,
        "direct send → provider": (direct["received_at"] - direct_sent) * ms,
        "reply": reply["id"], "asked": asked["received_at"],
    }


def add_claim_stages(rows: list[dict], env: dict) -> None:
    """Split each row's ``202 → provider`` at its reply's claim, as stored in the reply's row."""
    ids = json.dumps([row["reply"] for row in rows])
    printed = manage({**env, "WEBOX_BENCH_REPLY_IDS": ids}, "shell", "-c", READ_CLAIMS)
    claims = json.loads(printed.strip().splitlines()[-1])  # after what the shell says of its own imports
    for row in rows:
        created, started = claims[str(row["reply"])]
        row["stored → claimed"] = (started - created) * 1000
        row["claimed → provider"] = (row["asked"] - started) * 1000


async def run_client(port: int, fake: FakeProvider, pids: dict[str, int], sends: int) -> dict:
    import httpx2
    import openai

    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        sdk = openai.AsyncOpenAI(base_url=f"{fake.origin}/v1", api_key=FAKE_KEY, max_retries=0)
        name = "stages" + uuid.uuid4().hex[:8]
        (await http.post("/api/auth/register", json={"username": name, "email": f"{name}@bench.invalid",
                                                     "password": PASSWORD})).raise_for_status()
        token = (await http.post("/api/auth/token", json={"username": name, "password": PASSWORD})).json()["access"]
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(3):  # warm-up: first imports, first connections
            await one_send(http, sdk, fake, port, headers, token, f"warm {i}")
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        rows = [await one_send(http, sdk, fake, port, headers, token, f"stage {i} of {RUN_ID}") for i in range(sends)]
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        await sdk.close()
    return {"rows": rows, "cpu": {name: (after[name] - before[name]) * 1000 / sends for name in pids}}


def report(shape: str, result: dict, sends: int) -> None:
    print(f"\n### {shape}: {sends} sends one at a time (load average {os.getloadavg()[0]:.1f})")
    print("| stage (ms) | p50 | p90 | max |\n|---|---|---|---|")
    for stage in (*STAGES, "direct send → provider", *CLAIM_STAGES):
        values = sorted(row[stage] for row in result["rows"])
        print(f"| {stage} | {percentile(values, 50):.1f} | {percentile(values, 90):.1f} | {values[-1]:.1f} |")
    print("CPU per reply: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in result["cpu"].items()))


@contextlib.contextmanager
def one_shape(shape: str, name: str, *, concurrency: int
              ) -> Iterator[tuple[FakeProvider, int, dict[str, int], dict[str, str]]]:
    """webox in ``shape`` with one daphne (and in production shape one Celery worker of ``concurrency``
    threads, on a throwaway database and Redis keys under a prefix of ``name``), beside a fake provider:
    ``(fake, daphne's port, {"daphne": pid[, "worker": pid]}, its environment)``. Stops all of it on the
    way out."""
    with contextlib.ExitStack() as stack:
        log_dir = stack.enter_context(TempDir())
        fake = stack.enter_context(FakeProvider())
        if shape == "production":
            prefix = f"{RUN_ID}-{name}"
            stack.callback(delete_redis_keys, prefix)
            database_url = stack.enter_context(throwaway_database())
            env = shape_env(shape=shape, fake_origin=fake.origin, var_dir=log_dir, database_url=database_url,
                            prefix=prefix)
        else:
            env = shape_env(shape=shape, fake_origin=fake.origin, var_dir=log_dir)
        manage(env, "migrate", "--noinput")
        daphne, port = start_daphne(log_dir, env)
        stack.callback(daphne.stop)
        pids = {"daphne": daphne.pid}
        if shape == "production":
            worker = start_worker(log_dir, env, concurrency=concurrency)
            stack.callback(worker.stop)
            pids["worker"] = worker.pid
        yield fake, port, pids, env


def run_shape(shape: str, sends: int) -> None:
    with one_shape(shape, "stages", concurrency=200) as (fake, port, pids, env):
        result = asyncio.run(run_client(port, fake, pids, sends))
        add_claim_stages(result["rows"], env)
        report(shape, result, sends)


def main(*, quick: bool, **_) -> None:
    sends = 20 if quick else 100
    print(f"\n## STAGES. One reply's time and CPU, stage by stage ({sends} sends per shape, model {MODEL!r})")
    for shape in ("production", "embedded"):
        run_shape(shape, sends)
