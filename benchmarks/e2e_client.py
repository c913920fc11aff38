"""The client side of the end-to-end benchmark, in its own process: what a user's browser and an SDK see.

One asyncio loop. A *wave* opens N conversation sockets (``/api/chat/ws/<id>``, JWT subprotocol),
then at one instant sends one message into each (``POST /api/chat/send``) and, at the same instant,
makes some direct SDK calls (``openai.AsyncOpenAI`` on the fake) with the same model string. Every
event is timestamped with ``time.time()``, the clock the fake provider's own records use, and every
reply is checked token for token against ``testing.fake_provider.expected_reply``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = ("message.completed", "message.error", "message.cancelled")
PASSWORD = "e2e-" + uuid.uuid4().hex


def expected_text(message: str, model: str) -> list[str]:
    from testing.fake_provider import Behaviour, expected_reply

    return expected_reply(message, Behaviour.parse(model).tokens)


class Client:
    def __init__(self, base: str, fake_url: str, fake_key: str) -> None:
        import httpx2
        import openai

        self.base = base
        self.ws_base = base.replace("http://", "ws://")
        self.http = httpx2.AsyncClient(base_url=base, timeout=120,
                                       limits=httpx2.Limits(max_connections=2000, max_keepalive_connections=2000))
        self.sdk = openai.AsyncOpenAI(base_url=fake_url, api_key=fake_key, max_retries=0, timeout=120)
        self.tokens: list[str] = []
        self.on_prepared = lambda: None  # called once a wave's conversations and sockets are open, before its sends
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []

    async def request(self, method: str, path: str, name: str, **kwargs):
        response = await self.http.request(method, path, **kwargs)
        self.statuses[f"{name} {response.status_code}"] += 1
        if response.status_code >= 500 and len(self.errors) < 20:
            self.errors.append(f"{name} {response.status_code}: {response.text[:300]}")
        return response

    async def register(self, users: int) -> None:
        run = uuid.uuid4().hex[:8]
        for i in range(users):
            name = f"e2e{run}u{i}"
            response = await self.request("POST", "/api/auth/register", "register",
                                          json={"username": name, "email": f"{name}@bench.invalid",
                                                "password": PASSWORD})
            response.raise_for_status()
            token = await self.request("POST", "/api/auth/token", "token",
                                       json={"username": name, "password": PASSWORD})
            token.raise_for_status()
            self.tokens.append(token.json()["access"])

    # --- one stream: a socket, one send, every event until each reply has ended ---------------------------
    async def open_stream(self, index: int, gate: asyncio.Semaphore) -> dict:
        import websockets

        token = self.tokens[index % len(self.tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        async with gate:
            response = await self.request("POST", "/api/chat/conversations", "conversations", headers=headers,
                                          json={"title": f"e2e {index}"})
            response.raise_for_status()
            conversation = response.json()["id"]
            ws = await websockets.connect(f"{self.ws_base}/api/chat/ws/{conversation}", origin=self.base,
                                          subprotocols=["webox.bearer", token], max_size=None, open_timeout=60,
                                          ping_interval=None)
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if first["type"] != "snapshot":
                raise RuntimeError(f"expected a snapshot on join, got {first['type']}")
        return {"index": index, "conversation": conversation, "ws": ws, "headers": headers}

    async def run_stream(self, stream: dict, *, message: str, models: dict[str, str], deadline: float) -> dict:
        ws = stream["ws"]
        replies: dict[int, dict] = {}
        ids: set[int] = set()
        all_ended = asyncio.Event()

        def reply(message_id: int) -> dict:
            return replies.setdefault(message_id, {"deltas": [], "text": "", "seq": 0, "dups": 0, "gaps": 0,
                                                   "repairs": 0, "first_delta": None, "ended": None})

        async def read() -> None:
            async for raw in ws:
                now = time.time()
                event = json.loads(raw)
                kind = event["type"]
                if kind == "message.delta":
                    r = reply(event["message_id"])
                    if event["seq"] <= r["seq"]:
                        r["dups"] += 1
                        continue
                    if event["seq"] != r["seq"] + 1:
                        r["gaps"] += 1
                    r["first_delta"] = r["first_delta"] or now
                    r["text"] += event["text"]
                    r["seq"] = event["seq"]
                    r["deltas"].append((now, len(r["text"])))
                elif kind == "snapshot":
                    for item in event["replies"]:
                        r = reply(item["id"])
                        r["repairs"] += 1
                        r["text"], r["seq"] = item["content"], item["seq"]
                        r["deltas"].append((now, len(r["text"])))
                elif kind in TERMINAL:
                    r = reply(event["message_id"])
                    r.update(ended=now, end=kind, final=event.get("content", ""), code=event.get("code", ""))
                if ids and all(replies.get(i, {}).get("ended") for i in ids):
                    all_ended.set()
                    return

        reader = asyncio.create_task(read())
        result = {"index": stream["index"], "message": message, "models": models, "sent": time.time()}
        try:
            response = await self.request("POST", "/api/chat/send", "send", headers=stream["headers"], json={
                "message": message, "selected_providers": list(models), "selected_models": models,
                "conversation_id": stream["conversation"]})
            result.update(posted=time.time(), status=response.status_code)
            if response.status_code == 202:
                body = response.json()
                result["reply_ids"] = {r["id"]: r["provider"] for r in body["replies"]}
                ids.update(result["reply_ids"])
                if all(replies.get(i, {}).get("ended") for i in ids):
                    all_ended.set()
                await asyncio.wait_for(all_ended.wait(), max(0.1, deadline - time.time()))
        except TimeoutError:
            result["timeout"] = True
        except Exception as exc:  # noqa: BLE001 - a failed stream is counted, not fatal to the wave
            result["exception"] = f"{type(exc).__name__}: {exc}"
        finally:
            reader.cancel()
            await ws.close()
        result["replies"] = {}
        for message_id, provider in result.get("reply_ids", {}).items():
            r = replies.get(message_id, reply(message_id))
            expected = "".join(expected_text(message, models[provider]))
            r["ok"] = bool(r["ended"]) and r.get("end") == "message.completed" and r["text"] == expected \
                and r.get("final") == expected
            r["wrong"] = bool(r["ended"]) and not r["ok"]
            r["expected_len"] = len(expected)
            result["replies"][provider] = r
        return result

    async def direct(self, *, message: str, model: str) -> dict:
        """One call to the fake through the OpenAI SDK: the baseline of a webox reply."""
        record = {"message": message, "model": model, "sent": time.time(), "first": None}
        parts = []
        try:
            stream = await self.sdk.chat.completions.create(
                model=model, messages=[{"role": "user", "content": message}], stream=True,
                stream_options={"include_usage": True})
            async for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        record["first"] = record["first"] or time.time()
                        parts.append(choice.delta.content)
        except Exception as exc:  # noqa: BLE001
            record["exception"] = f"{type(exc).__name__}: {exc}"
        record["done"] = time.time()
        record["ok"] = "".join(parts) == "".join(expected_text(message, model))
        return record

    # --- a wave ---------------------------------------------------------------------------------------------
    async def wave(self, spec: dict) -> dict:
        n, tag, models = spec["streams"], spec["tag"], spec["models"]
        direct_model = spec.get("direct_model") or next(iter(models.values()))
        gate = asyncio.Semaphore(spec.get("open_concurrency", 50))
        began = time.time()
        opened = await asyncio.gather(*(self.open_stream(i, gate) for i in range(n)), return_exceptions=True)
        streams = [s for s in opened if isinstance(s, dict)]
        open_errors = [f"{type(e).__name__}: {e}" for e in opened if not isinstance(e, dict)]
        prepared = time.time()
        self.on_prepared()
        if spec.get("no_send"):
            for s in streams:
                await s["ws"].close()
            streams = []
        text = "hello from the end to end benchmark"
        results, directs = [], []
        deadline = time.time() + spec["timeout"]
        if spec.get("sequential"):  # one webox stream at a time, each paired with one direct call
            for s in streams:
                result, direct = await asyncio.gather(
                    self.run_stream(s, message=f"{tag} s{s['index']} {text}", models=models,
                                    deadline=time.time() + spec["timeout"]),
                    self.direct(message=f"{tag} d{s['index']} {text}", model=direct_model))
                results.append(result)
                directs.append(direct)
        else:
            jobs = [self.run_stream(s, message=f"{tag} s{s['index']} {text}", models=models, deadline=deadline)
                    for s in streams]
            jobs += [self.direct(message=f"{tag} d{i} {text}", model=direct_model) for i in range(spec["direct"])]
            done = await asyncio.gather(*jobs)
            results, directs = done[:len(streams)], done[len(streams):]
        for r in results:
            r.pop("ws", None)
        return {"spec": spec, "began": began, "prepared": prepared, "streams": results, "directs": directs,
                "open_errors": open_errors, "statuses": dict(self.statuses), "http_errors": list(self.errors)}


def client_main(conn, base: str, fake_url: str, fake_key: str, users: int) -> None:
    """Serve waves from the parent over ``conn`` until it sends ``None``."""
    sys.path.insert(0, str(ROOT))
    import resource

    async def serve() -> None:
        client = Client(base, fake_url, fake_key)
        client.on_prepared = lambda: conn.send("prepared")
        await client.register(users)
        conn.send("ready")
        loop = asyncio.get_running_loop()
        while True:
            spec = await loop.run_in_executor(None, conn.recv)
            if spec is None:
                break
            client.statuses.clear()
            client.errors.clear()
            t0 = time.process_time()
            result = await client.wave(spec)
            result["client_cpu_s"] = time.process_time() - t0
            result["client_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            conn.send(result)
        await client.http.aclose()

    try:
        asyncio.run(serve())
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops everything
        conn.send({"fatal": f"{type(exc).__name__}: {exc}"})
