"""The load scenario: many users, sockets and turns at once for a fixed time, every reply checked token for token.

Real processes on loopback: one daphne, one Celery worker (threads pool), the fake provider
(testing/fake_provider/), PostgreSQL and Redis. Each user owns conversations; each conversation
has several sockets open through daphne and runs turns back to back for ``duration`` seconds:
``POST /api/chat/send`` to two providers (OpenAI and Anthropic wire formats), then wait until every
socket of the conversation saw both replies end. Every message is unique (user, conversation,
turn), and the fake provider echoes it, so each reply's text is known in advance.

Checked at the end, for every reply on every socket of its conversation and in the database:

- lost: the text is short of the expected text (or the reply is not stored complete);
- doubled: more text than expected, a terminal event twice, or the provider asked twice for it;
- crossed: a socket received an event of a reply of another conversation, or a reply's text is
  another reply's;
- stuck: a reply not ended within ``stuck_after`` seconds of its turn's start.

The turn times it prints are not a performance measurement: the fake provider and every client
socket run in this one Python process, which is often the bottleneck (see docs/performance.md for
the engine's figures).

``run_stack`` runs it against the database Django uses now: ``python -m benchmarks load`` at size
(``--quick``: smaller), ``tests/streaming/test_load_short.py`` in a short form, in CI.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .client import TERMINAL, ChatSocket, post
from .fake_provider import expected_reply
from .figures import median, percentile, print_table
from .processes import child_env, start_daphne, start_worker

PROVIDERS = (("loadgpt", "openai"), ("loadclaude", "anthropic"))
COLUMNS = ["users", "conversations", "sockets", "seconds", "turns", "replies", "tokens checked", "turns/s",
           "send p50 ms", "send p99 ms", "turn p50 ms", "turn p99 ms", "lost", "doubled", "crossed", "stuck",
           "send errors"]


@dataclass
class Plan:
    """Who talks where: conversation id -> the bearer token of its owner."""

    conversations: dict[int, str]
    users: int
    warmup: tuple[int, str]  # a conversation of its own for the warm-up turn, and its owner's token


@dataclass
class TurnRecord:
    conversation_id: int
    message: str
    models: dict[str, str]
    replies: dict[str, int] = field(default_factory=dict)
    posted: float | None = None  # seconds the send took (until its 202)
    took: float | None = None  # seconds from the send until every socket saw every reply end


@dataclass
class Outcome:
    plan: Plan
    sockets_per_conversation: int
    duration: float
    tokens: int
    turns: list[TurnRecord] = field(default_factory=list)
    logs: dict[int, list] = field(default_factory=dict)  # conversation id -> the StreamLog of each socket
    send_errors: list[str] = field(default_factory=list)


@dataclass
class Summary:
    row: list
    lost: list[str]
    doubled: list[str]
    crossed: list[str]
    stuck: list[str]
    send_errors: list[str]

    @property
    def problems(self) -> list[str]:
        return self.lost + self.doubled + self.crossed + self.stuck + self.send_errors


def prepare(*, fake, users: int, conversations_per_user: int) -> Plan:
    """Users (no password hashing: they authenticate by token), their conversations, the two providers."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from chat.models import Conversation
    from chat.providers import provider_create
    from chat.providers.models import Provider

    for name, kind in PROVIDERS:
        if not Provider.objects.filter(name=name).exists():
            provider_create(name=name, kind=kind, api_key=fake.api_key, model_names=["fake-echo"],
                            default_model="fake-echo", base_url=fake.anthropic_url if kind == "anthropic" else fake.url)
    conversations = {}
    for index in range(users):
        name = f"load-{uuid.uuid4().hex[:8]}-{index}"
        user = User(username=name, email=f"{name}@load.invalid")
        user.set_unusable_password()
        user.save()
        token = str(RefreshToken.for_user(user).access_token)
        for _ in range(conversations_per_user):
            conversations[Conversation.objects.create(owner=user, title="load").pk] = token
    warmup = Conversation.objects.create(owner=user, title="load warm-up").pk
    return Plan(conversations=conversations, users=users, warmup=(warmup, token))


def _ended(reply_ids):
    return lambda log: all(i in log.ended for i in reply_ids)


async def _conversation_loop(port: int, conversation_id: int, token: str, outcome: Outcome, deadline: float,
                             stuck_after: float, delay_ms: int, once: bool = False) -> None:
    sockets = [ChatSocket(port, conversation_id, token) for _ in range(outcome.sockets_per_conversation)]
    opened = []
    try:
        for sock in sockets:
            opened.append(await sock.__aenter__())
        outcome.logs[conversation_id] = [sock.log for sock in sockets]
        number = 0
        while once or time.monotonic() < deadline:
            once = False
            number += 1
            tag = uuid.uuid4().hex[:6]
            turn = TurnRecord(conversation_id, f"conversation {conversation_id} turn {number} {tag} says hello",
                              {name: f"fake-echo;tokens={outcome.tokens};delay_ms={delay_ms};id={tag}-{name}"
                               for name, _ in PROVIDERS})
            outcome.turns.append(turn)
            started = time.monotonic()
            try:
                body = await asyncio.to_thread(post, port, "/api/chat/send", token, {
                    "conversation_id": conversation_id, "message": turn.message,
                    "selected_providers": list(turn.models), "selected_models": turn.models}, timeout=stuck_after)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                outcome.send_errors.append(f"conversation {conversation_id} turn {number}: {exc!r}")
                await asyncio.sleep(0.5)
                continue
            turn.posted = time.monotonic() - started
            turn.replies = {r["provider"]: r["id"] for r in body["replies"]}
            remaining = stuck_after - (time.monotonic() - started)
            try:
                async with asyncio.timeout(max(remaining, 0.1)):
                    for sock in sockets:
                        await sock.until(_ended(turn.replies.values()), timeout=stuck_after)
            except TimeoutError:
                return  # stuck: counted by summarize; this conversation stops here
            turn.took = time.monotonic() - started
    finally:
        for sock in opened:
            await sock.__aexit__(None, None, None)


async def drive(*, port: int, plan: Plan, sockets_per_conversation: int, duration: float, tokens: int = 20,
                delay_ms: int = 20, stuck_after: float = 30.0) -> Outcome:
    """Run every conversation's turns at once until ``duration`` has passed, then let the last turns end."""
    outcome = Outcome(plan, sockets_per_conversation, duration, tokens)
    # One turn first, on its own conversation (checked like the others): the worker's first stream
    # imports the SDKs and opens its connections, seconds that are not the load's.
    await _conversation_loop(port, *plan.warmup, outcome, time.monotonic(), stuck_after, delay_ms, once=True)
    deadline = time.monotonic() + duration
    await asyncio.gather(*(
        _conversation_loop(port, conversation_id, token, outcome, deadline, stuck_after, delay_ms)
        for conversation_id, token in plan.conversations.items()))
    return outcome


def summarize(outcome: Outcome, fake) -> Summary:
    """Check every reply on every socket of its conversation, in the database and at the provider."""
    from chat.models import Message, ReplyStatus

    lost, doubled, crossed, stuck = [], [], [], []
    requests = Counter((r["json"] or {}).get("model") for r in fake.chat_requests())
    turns = [t for t in outcome.turns if t.replies]
    expected = {}
    for turn in turns:
        for reply_id in turn.replies.values():
            expected[reply_id] = "".join(expected_reply(turn.message, outcome.tokens))
    texts = {text: reply_id for reply_id, text in expected.items()}
    stored = {m.pk: m for m in Message.objects.filter(pk__in=list(expected))}
    own = {}
    for turn in turns:
        own.setdefault(turn.conversation_id, set()).update(turn.replies.values())

    for conversation_id, logs in outcome.logs.items():
        mine = own.get(conversation_id, set())
        for index, log in enumerate(logs):
            where = f"conversation {conversation_id} socket {index}"
            foreign = {e.get("message_id") for e in log.events if "message_id" in e} - mine
            foreign |= {r["id"] for e in log.of_type("snapshot") for r in e["replies"]} - mine
            if foreign:
                crossed.append(f"{where}: events of replies {sorted(foreign)} of other conversations")
            for reply_id in mine:
                text, want = log.text.get(reply_id, ""), expected[reply_id]
                ends = [e for e in log.events if e["type"] in TERMINAL and e.get("message_id") == reply_id]
                if reply_id not in log.ended:
                    stuck.append(f"{where}: reply {reply_id} never ended")
                elif text == want:
                    pass
                elif texts.get(text, reply_id) != reply_id:
                    crossed.append(f"{where}: reply {reply_id} shows reply {texts[text]}'s text")
                elif want.startswith(text):
                    lost.append(f"{where}: reply {reply_id} lacks {len(want) - len(text)} characters")
                else:
                    doubled.append(f"{where}: reply {reply_id} has {len(text)} characters for {len(want)}")
                if len(ends) > 1:
                    doubled.append(f"{where}: reply {reply_id} ended {len(ends)} times")

    for turn in turns:
        for name, reply_id in turn.replies.items():
            message = stored.get(reply_id)
            if message is None or message.status in (ReplyStatus.PENDING, ReplyStatus.STREAMING):
                stuck.append(f"reply {reply_id}: {'missing' if message is None else message.status} in the database")
            elif message.status != ReplyStatus.COMPLETE or message.content != expected[reply_id]:
                lost.append(f"reply {reply_id}: stored {message.status} with {len(message.content)} characters")
            if requests[turn.models[name]] != 1:
                doubled.append(f"reply {reply_id}: the provider was asked {requests[turn.models[name]]} times")

    took = [t.took * 1000 for t in turns if t.took is not None]
    posted = [t.posted * 1000 for t in turns if t.posted is not None]
    replies = sum(len(t.replies) for t in turns)
    # The warm-up turn is checked with the others, but its conversation is not counted as load.
    sockets = len(outcome.plan.conversations) * outcome.sockets_per_conversation
    checked = replies * outcome.tokens * outcome.sockets_per_conversation
    row = [outcome.plan.users, len(outcome.plan.conversations), sockets, outcome.duration, len(turns), replies,
           checked, len(took) / outcome.duration, median(posted),
           percentile(posted, 99), median(took), percentile(took, 99), len(lost), len(doubled),
           len(crossed), len(stuck), len(outcome.send_errors)]
    return Summary(row, lost, doubled, crossed, stuck, list(outcome.send_errors))


def report(summaries: list[Summary]) -> None:
    print_table("Load: every reply checked token for token", COLUMNS, [s.row for s in summaries])
    for summary in summaries:
        for line in summary.problems[:20]:
            print(f"  - {line}")


def run_stack(tmp_path: Path, *, fake, users: int, conversations_per_user: int, sockets_per_conversation: int,
              duration: float, tokens: int, delay_ms: int, concurrency: int, env: dict[str, str],
              stuck_after: float = 30.0) -> Summary:
    """Start daphne and a worker (stopped at the end, pass or fail), drive the load, check it."""
    plan = prepare(fake=fake, users=users, conversations_per_user=conversations_per_user)
    # The load is many turns per user on purpose: the per-user send throttle and active-reply cap
    # (tested on their own in tests/chat/test_limits.py) are off here.
    env = {"WEBOX_SEND_RATE": "0/60", "WEBOX_MAX_ACTIVE_REPLIES": "0", **env}
    daphne, port = start_daphne(tmp_path, child_env(**env))
    worker = None
    try:
        worker = start_worker(tmp_path, child_env(**env), concurrency=concurrency)
        outcome = asyncio.run(drive(port=port, plan=plan, sockets_per_conversation=sockets_per_conversation,
                                    duration=duration, tokens=tokens, delay_ms=delay_ms, stuck_after=stuck_after))
    finally:
        if worker is not None:
            worker.stop()
        daphne.stop()
    return summarize(outcome, fake)
