"""Prices: the operator's table first, then genai-prices' bundled data (no network), else unknown."""

import socket
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from chat.models import ModelPrice
from chat.providers import ProviderConfig
from chat.usage.pricing import override_for, overrides_for, reply_cost

OPENAI = ProviderConfig(name="openai", kind="openai", base_url="https://api.openai.com/v1")
ANTHROPIC = ProviderConfig(name="anthropic", kind="anthropic", base_url="https://api.anthropic.com")
OLLAMA = ProviderConfig(name="ollama", kind="openai", base_url="http://127.0.0.1:11434/v1")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pricing tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.django_db
@pytest.mark.usefixtures("no_network")
def test_a_known_model_is_priced_from_the_bundled_table_without_network():
    cost = reply_cost(config=OPENAI, provider="openai", model="gpt-4o", prompt_tokens=1000, completion_tokens=500)
    # gpt-4o: $2.50 per million prompt tokens, $10 per million completion tokens.
    assert (cost.amount, cost.currency, cost.source) == (Decimal("0.0075"), "USD", "genai-prices")
    cost = reply_cost(config=ANTHROPIC, provider="anthropic", model="claude-sonnet-4-20250514",
                      prompt_tokens=1_000_000, completion_tokens=0)
    assert cost.amount == Decimal(3)


@pytest.mark.django_db
def test_a_self_hosted_endpoint_serving_a_known_model_name_is_unknown_not_openais_price():
    assert reply_cost(config=OLLAMA, provider="ollama", model="gpt-4o", prompt_tokens=10, completion_tokens=10) is None


@pytest.mark.django_db
def test_an_override_wins_and_a_provider_wide_free_row_applies_to_every_model():
    ModelPrice.objects.create(provider="openai", model="gpt-4o", input_price_per_mtok=Decimal("1"),
                              output_price_per_mtok=Decimal("2"), currency="EUR")
    ModelPrice.objects.create(provider="ollama", model="", free=True)
    cost = reply_cost(config=OPENAI, provider="openai", model="gpt-4o", prompt_tokens=1000, completion_tokens=1000)
    assert (cost.amount, cost.currency) == (Decimal("0.003"), "EUR")
    cost = reply_cost(config=OLLAMA, provider="ollama", model="llama3.2", prompt_tokens=5000, completion_tokens=9)
    assert (cost.amount, cost.source) == (Decimal(0), "free")


@pytest.mark.django_db
def test_the_demo_provider_is_free_and_no_tokens_is_unknown():
    demo = ProviderConfig(name="demo", kind="demo")
    assert reply_cost(config=demo, provider="demo", model="demo-echo", prompt_tokens=5, completion_tokens=5).amount == 0
    assert reply_cost(config=OPENAI, provider="openai", model="gpt-4o", prompt_tokens=None,
                      completion_tokens=None) is None


def test_a_price_row_needs_both_prices_unless_free():
    with pytest.raises(ValidationError):
        ModelPrice(provider="x", model="y", input_price_per_mtok=Decimal(1)).clean()
    ModelPrice(provider="x", model="", free=True).clean()


@pytest.mark.django_db
def test_an_operator_sets_a_price_in_the_admin(make_user, client):
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    assert client.get("/admin/chat/modelprice/").status_code == 200
    response = client.post("/admin/chat/modelprice/add/", {
        "provider": "private", "model": "", "input_price_per_mtok": "0.5", "output_price_per_mtok": "1.5",
        "currency": "eur", "note": "our own endpoint"})
    assert response.status_code == 302, response.content
    price = ModelPrice.objects.get(provider="private")
    assert (price.currency, price.output_price_per_mtok) == ("EUR", Decimal("1.5"))
    incomplete = client.post("/admin/chat/modelprice/add/", {"provider": "x", "model": "y", "currency": "USD",
                                                             "input_price_per_mtok": "1"})
    assert incomplete.status_code == 200 and "Set both prices" in incomplete.content.decode()


@pytest.mark.django_db
def test_the_prices_of_several_models_are_read_as_the_orm_reads_each():
    ModelPrice.objects.create(provider="gpt", model="m1", input_price_per_mtok=Decimal("1.25"),
                              output_price_per_mtok=Decimal("2"), currency="EUR")
    ModelPrice.objects.create(provider="gpt", model="", free=True)
    ModelPrice.objects.create(provider="claude", model="m1", input_price_per_mtok=Decimal("3"),
                              output_price_per_mtok=Decimal("4"))
    pairs = {("gpt", "m1"), ("gpt", "m2"), ("claude", "m1"), ("claude", "m2"), ("other", "m1")}

    found = overrides_for(pairs)

    assert found.keys() == pairs and overrides_for(set()) == {}
    for (provider, model), price in found.items():
        expected = override_for(provider, model)
        assert (price is None) == (expected is None)
        if price is not None:
            for field in ModelPrice._meta.concrete_fields:
                mine, orm = getattr(price, field.attname), getattr(expected, field.attname)
                assert (mine, type(mine)) == (orm, type(orm)), field.name
    assert found[("claude", "m2")] is None and found[("gpt", "m2")].free
