"""Scenario: the cost estimate of a turn while the user types (``POST /api/chat/estimate``).

A 50-turn conversation whose turns each have 4 replies of about 1,500 characters; the estimate of
a next turn of 4 columns (two of one provider), asked once per keystroke pause with a message a few
characters longer each time, through the API view (authentication, validation, the one history
query, the price lookups, the token counts). The first call of a process loads the tokenizer and is
reported apart. Target: under 50 ms p95.
"""

from __future__ import annotations

import random
import time
import uuid

from testing.figures import median, percentile, print_table

TURNS = 50
REPLY_CHARS = 1500
COLUMNS = [
    {"provider": "gpt", "model": "gpt-4o"},
    {"provider": "gpt", "model": "gpt-4o-mini", "max_tokens": 500},
    {"provider": "claude", "model": "claude-3-5-haiku-latest"},
    {"provider": "demo", "model": "demo-echo"},
]


def _text(rng: random.Random, chars: int) -> str:
    words = ["model", "answer", "token", "the", "of", "compare", "price", "column", "thread", "because", "and"]
    out, size = [], 0
    while size < chars:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def _conversation(user, rng: random.Random):
    from chat.models import Message, ReplyStatus
    from chat.services import conversation_create

    conversation = conversation_create(owner=user, system_prompt="Be precise.")
    for _ in range(TURNS):
        asked = Message.objects.create(conversation=conversation, role="user", content=_text(rng, 200))
        Message.objects.bulk_create([
            Message(conversation=conversation, role="assistant", provider=c["provider"], model=c["model"],
                    column=key, reply_to=asked, status=ReplyStatus.COMPLETE, content=_text(rng, REPLY_CHARS))
            for key, c in zip(("gpt", "gpt#2", "claude", "demo"), COLUMNS, strict=True)
        ])
    return conversation


def main(*, database_url: str, quick: bool) -> None:
    from rest_framework.test import APIRequestFactory, force_authenticate

    from accounts.models import User
    from chat.api.send import EstimateApi
    from chat.providers.models import Provider
    from chat.providers.services import provider_create

    repeat = 60 if quick else 200
    rng = random.Random(23)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    user = User.objects.create_user(username=name, email=f"{name}@bench.invalid", password=uuid.uuid4().hex)
    for provider, kind, models in (("gpt", "openai", ["gpt-4o", "gpt-4o-mini"]),
                                   ("claude", "anthropic", ["claude-3-5-haiku-latest"])):
        if not Provider.objects.filter(name=provider).exists():
            provider_create(name=provider, kind=kind, api_key="bench-key", model_names=models)
    conversation = _conversation(user, rng)
    view, factory = EstimateApi.as_view(), APIRequestFactory()

    def ask(message: str) -> None:
        request = factory.post("/api/chat/estimate", {"conversation_id": conversation.pk, "message": message,
                                                      "columns": COLUMNS}, format="json")
        force_authenticate(request, user=user)
        response = view(request)
        assert response.status_code == 200, response.data

    began = time.perf_counter()
    ask("")
    first = (time.perf_counter() - began) * 1000
    typed = _text(rng, 4 * repeat)
    samples = []
    for index in range(repeat):
        message = typed[: 4 * (index + 1)]  # a few more characters at each pause
        t0 = time.perf_counter()
        ask(message)
        samples.append((time.perf_counter() - t0) * 1000)
    print_table(
        f"\n## Cost estimate while typing ({TURNS} turns of 4 replies of ~{REPLY_CHARS:,} characters, "
        f"4 columns, {repeat} calls; target p95 < 50 ms)",
        ["first call (loads the tokenizer), ms", "p50 ms", "p95 ms", "max ms"],
        [[first, median(samples), percentile(samples, 95), max(samples)]],
    )
