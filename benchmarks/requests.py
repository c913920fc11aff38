"""daphne's CPU per request, by kind: ``python -m benchmarks requests``.

One client, one request at a time, against webox's own daphne (production shape: PostgreSQL,
Redis and a Celery worker; then the embedded default). For each kind of request it reads daphne's
CPU time (user + system, from /proc) before and after a row of them and prints the CPU per request:

- ``POST conversations``: a new, empty conversation (JWT bearer);
- ``GET conversations``: the first item of the list;
- ``WS join + snapshot``: a socket joins a conversation (``webox.bearer``) until its snapshot frame;
- ``send + 20-token reply``: ``POST /api/chat/send`` and its short reply read on that socket;
- ``WS close``: the client closes those sockets.

These are the fixed costs of every stream in ``python -m benchmarks e2e`` (a new conversation, a
socket, a send). The clock of /proc ticks every 10 ms: rows of at least 200 requests.
``WEBOX_BENCH_REQUESTS_N`` sets the row (default 300, quick 200), ``WEBOX_BENCH_REQUESTS_SHAPES`` the
shapes (default ``production,embedded``); ``WEBOX_BENCH_PYSPY=<py-spy path>``
also records daphne with py-spy (raw, one file per kind, in the temporary directory) to see where it goes.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import tempfile
import uuid

from .e2e_stages import PASSWORD, cpu_seconds, one_shape

MODEL = "fake-echo;ttft_ms=0;delay_ms=0;tokens=20"
PYSPY = os.environ.get("WEBOX_BENCH_PYSPY", "")


class Row:
    """daphne's CPU over one row of requests (and, with WEBOX_BENCH_PYSPY, its profile)."""

    def __init__(self, label: str, pid: int, count: int, shape: str, results: dict):
        self.label, self.pid, self.count, self.shape, self.results = label, pid, count, shape, results

    def __enter__(self):
        self.spy = None
        if PYSPY:
            kind = "-".join(self.label.split()[:2]).lower()
            name = os.path.join(tempfile.gettempdir(), f"webox-pyspy-{self.shape}-{kind}.txt")
            self.spy = subprocess.Popen([PYSPY, "record", "--gil", "-r", "250", "-f", "raw", "-o", name,
                                         "--pid", str(self.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.began = cpu_seconds(self.pid)
        return self

    def __exit__(self, *exc):
        used = cpu_seconds(self.pid) - self.began
        if self.spy is not None:
            self.spy.send_signal(2)
            self.spy.wait(timeout=30)
        if exc[0] is None:
            self.results[self.label] = used * 1000 / self.count
            print(f"  {self.label:24s} {self.results[self.label]:6.2f} ms of daphne CPU per request", flush=True)


async def send_and_read(http, headers: dict, socket, conversation: int) -> None:
    response = await http.post("/api/chat/send", headers=headers, json={
        "message": "hi there", "selected_providers": ["openai"], "selected_models": {"openai": MODEL},
        "conversation_id": conversation})
    assert response.status_code == 202, response.text
    while json.loads(await socket.recv())["type"] not in ("message.completed", "message.error"):
        pass


async def client(port: int, pid: int, count: int, shape: str) -> dict:
    import httpx2
    import websockets

    results: dict[str, float] = {}
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        name = "req" + uuid.uuid4().hex[:8]
        (await http.post("/api/auth/register", json={"username": name, "email": f"{name}@bench.invalid",
                                                     "password": PASSWORD})).raise_for_status()
        token = (await http.post("/api/auth/token", json={"username": name, "password": PASSWORD})).json()["access"]
        headers = {"Authorization": f"Bearer {token}"}

        async def join(conversation: int):
            socket = await websockets.connect(f"ws://127.0.0.1:{port}/api/chat/ws/{conversation}",
                                              origin=str(http.base_url), subprotocols=["webox.bearer", token],
                                              max_size=None, ping_interval=None)
            assert json.loads(await socket.recv())["type"] == "snapshot"
            return socket

        # Warm up every path once (imports, caches, the pool's connections).
        warm = (await http.post("/api/chat/conversations", headers=headers, json={})).json()["id"]
        await (await join(warm)).close()
        await http.get("/api/chat/conversations?limit=1", headers=headers)
        await send_and_read(http, headers, await join(warm), warm)

        with Row("POST conversations", pid, count, shape, results):
            conversations = []
            for _ in range(count):
                response = await http.post("/api/chat/conversations", headers=headers, json={})
                assert response.status_code == 201, response.text
                conversations.append(response.json()["id"])
        with Row("GET conversations", pid, count, shape, results):
            for _ in range(count):
                assert (await http.get("/api/chat/conversations?limit=1", headers=headers)).status_code == 200
        with Row("WS join + snapshot", pid, count, shape, results):
            sockets = [await join(conversation) for conversation in conversations]
        with Row("send + 20-token reply", pid, count, shape, results):
            for conversation, socket in zip(conversations, sockets, strict=True):
                await send_and_read(http, headers, socket, conversation)
        with Row("WS close", pid, count, shape, results):
            for socket in sockets:
                await socket.close()
            await asyncio.sleep(1)
    return results


def run_shape(shape: str, count: int) -> dict:
    with one_shape(shape, "requests", concurrency=50) as (_, port, pids, _env):
        print(f"\n### {shape} ({count} requests a row, one at a time)")
        return asyncio.run(client(port, pids["daphne"], count, shape))


def main(*, quick: bool, **_) -> None:
    count = int(os.environ.get("WEBOX_BENCH_REQUESTS_N") or (200 if quick else 300))
    print("\n## REQUESTS. daphne's CPU per request, by kind")
    for shape in os.environ.get("WEBOX_BENCH_REQUESTS_SHAPES", "production,embedded").split(","):
        run_shape(shape.strip(), count)
