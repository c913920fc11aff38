"""The cost of a turn before it is sent: tokens counted as hand-counted here, priced as a range."""

import uuid
from decimal import Decimal

import pytest

from chat.models import Message, ModelPrice, ReplyStatus
from chat.providers.services import provider_create
from chat.services import conversation_create
from chat.usage import estimate as estimate_module
from chat.usage import tokenizer

pytestmark = pytest.mark.django_db

# o200k_base splits these as: "Be" " brief" "." | "Hello" "," " world" "!" | "first" " answer" |
# "second" " answer" | "Why" "?" — and a chat request adds 3 tokens a message and 3 for the reply.
SYSTEM, QUESTION, FIRST, SECOND, NEW = "Be brief.", "Hello, world!", "first answer", "second answer", "Why?"


@pytest.fixture
def gpt(db):
    return provider_create(name="gpt", kind="openai", api_key="k", model_names=["gpt-4o"], default_model="gpt-4o")


@pytest.fixture
def conversation(user, gpt):
    conversation = conversation_create(owner=user, system_prompt=SYSTEM)
    asked = Message.objects.create(conversation=conversation, role="user", content=QUESTION)
    for key, text in (("gpt", FIRST), ("gpt#2", SECOND)):
        Message.objects.create(conversation=conversation, role="assistant", provider="gpt", model="gpt-4o",
                               column=key, reply_to=asked, status=ReplyStatus.COMPLETE, content=text)
    return conversation


def estimate(client, **body):
    return client.post("/api/chat/estimate", body, format="json")


def test_each_column_counts_its_own_thread_and_prices_a_range(auth_client, conversation):
    response = estimate(auth_client, conversation_id=conversation.pk, message=NEW, columns=[
        {"provider": "gpt", "model": "gpt-4o", "max_tokens": 100}, {"provider": "gpt", "model": "gpt-4o"}])
    assert response.status_code == 200
    first, second = response.json()["columns"]
    # 3 + 4 + 2 + 2 text tokens, 4 messages of 3, 3 for the reply: 26, at $2.50 in and $10 out a million.
    assert (first["input_tokens"], first["tokenizer"], first["exact"]) == (26, "o200k_base", True)
    assert Decimal(first["cost_low"]) == Decimal("0.000065")
    assert Decimal(first["cost_high"]) == Decimal("0.000065") + 100 * Decimal("0.00001")
    assert (first["max_output_tokens"], first["max_output_assumed"]) == (100, False)
    assert (second["key"], second["input_tokens"]) == ("gpt#2", 26)
    assert (second["max_output_tokens"], second["max_output_assumed"]) == (1024, True)
    assert Decimal(second["cost_high"]) == Decimal("0.000065") + 1024 * Decimal("0.00001")
    turn = response.json()["turn"]
    assert (turn["input_tokens"], turn["currency"], turn["price_unknown"]) == (52, "USD", [])
    assert Decimal(turn["cost_low"]) == Decimal("0.00013")
    assert Decimal(turn["cost_high"]) == Decimal(first["cost_high"]) + Decimal(second["cost_high"])


def test_a_column_new_to_the_conversation_sees_the_questions_alone(auth_client, conversation):
    [column] = estimate(auth_client, conversation_id=conversation.pk, message=NEW,
                        columns=[{"key": "new", "provider": "gpt", "model": "gpt-4o"}]).json()["columns"]
    assert column["input_tokens"] == 3 + 4 + 2 + 3 * 3 + 3


def test_an_unknown_price_says_so_and_an_operators_price_wins(auth_client, user):
    provider_create(name="local", kind="openai", api_key="k", base_url="http://127.0.0.1:9/v1",
                    model_names=["mine", "priced"])
    ModelPrice.objects.create(provider="local", model="priced", input_price_per_mtok=Decimal("1"),
                              output_price_per_mtok=Decimal("4"))
    body = estimate(auth_client, message=QUESTION, max_tokens=10, columns=[
        {"provider": "local", "model": "mine"}, {"provider": "local", "model": "priced"}]).json()
    unknown, priced = body["columns"]
    assert (unknown["price_known"], unknown["cost_low"], unknown["cost_high"]) == (False, None, None)
    assert unknown["exact"] is False  # not a model OpenAI publishes a tokenizer for
    assert priced["input_tokens"] == 4 + 3 + 3
    assert Decimal(priced["cost_low"]) == Decimal("0.00001")
    assert Decimal(priced["cost_high"]) == Decimal("0.00001") + 10 * Decimal("0.000004")
    assert body["turn"]["price_unknown"] == ["local"]
    assert Decimal(body["turn"]["cost_low"]) == Decimal("0.00001")


def test_a_claude_column_is_a_marked_approximation_with_the_kinds_ceiling(auth_client):
    provider_create(name="claude", kind="anthropic", api_key="k", model_names=["claude-3-5-haiku-latest"])
    [column] = estimate(auth_client, message=QUESTION,
                        columns=[{"provider": "claude", "model": "claude-3-5-haiku-latest"}]).json()["columns"]
    assert (column["exact"], column["input_tokens"]) == (False, 4 + 3 + 3)
    assert (column["max_output_tokens"], column["max_output_assumed"]) == (4096, False)


def test_an_empty_message_estimates_the_thread_and_the_short_form_works(auth_client, conversation):
    [column] = estimate(auth_client, conversation_id=conversation.pk, message="",
                        selected_providers=["gpt"]).json()["columns"]
    assert column["input_tokens"] == 3 + 4 + 2 + 0 + 4 * 3 + 3


def test_the_send_stores_each_replys_estimate_as_shown_before(auth_client, conversation):
    columns = [{"provider": "gpt", "model": "gpt-4o", "max_tokens": 100}]
    shown = estimate(auth_client, conversation_id=conversation.pk, message=NEW, columns=columns).json()["columns"]
    sent = auth_client.post("/api/chat/send", {"conversation_id": conversation.pk, "message": NEW,
                                               "columns": columns}, format="json")
    [reply] = sent.json()["replies"]
    assert reply["estimate"] == shown[0] == Message.objects.get(pk=reply["id"]).estimate


def test_bad_input_and_other_peoples_conversations_are_refused(auth_client, other_user, gpt):
    theirs = conversation_create(owner=other_user)
    assert estimate(auth_client, conversation_id=theirs.pk, message="x", selected_providers=["gpt"]).status_code == 404
    refused = estimate(auth_client, message="x", columns=[{"provider": "nobody"}])
    assert refused.status_code == 400 and "unknown provider" in refused.json()["detail"]


def test_a_send_never_tokenizes_much_new_text_itself(auth_client, conversation, monkeypatch):
    tokenizer.encoding("o200k_base")
    monkeypatch.setattr(estimate_module, "SEND_MAX_UNCOUNTED_CHARS", 5)
    body = {"conversation_id": conversation.pk, "message": f"{uuid.uuid4()} never counted",
            "selected_providers": ["gpt"]}
    [reply] = auth_client.post("/api/chat/send", body, format="json").json()["replies"]
    assert (reply["estimate"]["tokenizer"], reply["estimate"]["exact"]) == ("chars/4", False)
    body["message"] = f"{uuid.uuid4()} counted first"
    shown = estimate(auth_client, **body).json()["columns"]
    [reply] = auth_client.post("/api/chat/send", body, format="json").json()["replies"]
    assert reply["estimate"]["tokenizer"] == "o200k_base" and reply["estimate"] == shown[0]
