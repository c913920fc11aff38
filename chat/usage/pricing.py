"""What a reply costs: the operator's prices first, then the bundled genai-prices table.

genai-prices ships its data inside the package; webox never starts its updater, so pricing works
offline and the same reply always gets the same price for the same table version. Its prices are
in US dollars.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.signals import setting_changed
from django.db import connection

from chat.providers import ProviderConfig, sdks
from chat.row_readers import RowReader

from .models import ModelPrice

# About 14 MB per process: loaded at start only where replies end (load_price_table), else on first use.
sdks.lazy("genai_prices")  # imported on first use: sdks.module("genai_prices")

MILLION = Decimal(1_000_000)
# Provider kinds whose default endpoint genai-prices knows by id.
KNOWN_KINDS = {"openai": "openai", "anthropic": "anthropic"}


def load_price_table() -> None:
    """Import genai-prices and build its table now, before any reply ends in this process.

    Called where replies end (Celery workers, and the server in the embedded default): the
    table's first build took a worker's first reply tens of milliseconds. Elsewhere (daphne in
    production shape) it loads on first use: the first send's cost estimate.
    """
    sdks.load("genai_prices")
    importlib.import_module("genai_prices.data")


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    currency: str
    source: str  # "override", "free" or "genai-prices"


def override_for(provider: str, model: str) -> ModelPrice | None:
    """The operator's price for this model, else for every model of the provider."""
    prices = {p.model: p for p in ModelPrice.objects.filter(provider=provider, model__in=[model, ""])}
    return prices.get(model) or prices.get("")


def override_at(provider: str, model: str, version: tuple[datetime | None, datetime | None]) -> ModelPrice | None:
    """``override_for(provider, model)`` as of ``version``, without a query: the ``updated_at`` of the operator's
    price for the model and of its price for every model of the provider (None: no such price), as the claim of
    a reply reads them (chat/services/claimed.py). Every change of a price saves it.

    Most installations set no price of their own: then there is nothing to read. Otherwise each
    version is read once per process, not once per reply.
    """
    if version == (None, None):
        return None
    return _override_at(provider, model, version)


@functools.lru_cache(maxsize=256)
def _override_at(provider: str, model: str, version: tuple[datetime | None, datetime | None]) -> ModelPrice | None:
    # Read now, so at least as new as ``version``; a later change of a price is a new version.
    return override_for(provider, model)


setting_changed.connect(lambda **kwargs: _override_at.cache_clear(), weak=False,
                        dispatch_uid="chat.usage.pricing._override_at")


def _from_override(price: ModelPrice, prompt_tokens: int, completion_tokens: int) -> Cost:
    if price.free:
        return Cost(Decimal(0), price.currency or "USD", "free")
    amount = (price.input_price_per_mtok * prompt_tokens + price.output_price_per_mtok * completion_tokens) / MILLION
    return Cost(amount, price.currency, "override")


def _from_table(config: ProviderConfig | None, provider: str, model: str, prompt_tokens: int,
                completion_tokens: int, at: datetime | None) -> Cost | None:
    genai_prices = sdks.module("genai_prices")
    usage = genai_prices.Usage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
    if config is not None and config.base_url:
        # A configured endpoint is priced only when genai-prices knows its URL: a private or
        # self-hosted server serving "gpt-4o" is not OpenAI's price.
        where = {"provider_api_url": config.base_url}
    elif config is not None:
        if config.kind not in KNOWN_KINDS:
            return None
        where = {"provider_id": KNOWN_KINDS[config.kind]}
    else:
        where = {"provider_id": provider}
    try:
        calc = genai_prices.calc_price(usage, model, genai_request_timestamp=at, **where)
    except LookupError:
        return None
    return Cost(calc.total_price, "USD", "genai-prices")


def overrides_for(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], ModelPrice | None]:
    """``override_for`` of several (provider, model) pairs in one query.

    Every send reads it: the statement is written once per process and per number of names, not built by the
    ORM each time (about 0.7 ms of CPU)."""
    if not pairs:
        return {}
    providers, models = sorted({provider for provider, _ in pairs}), sorted({model for _, model in pairs} | {""})
    sql, reader = _overrides_statement(connection.vendor, len(providers), len(models))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*models, *providers])
        found = {(price.provider, price.model): price for price in map(reader.read, cursor.fetchall())}
    return {(provider, model): found.get((provider, model)) or found.get((provider, ""))
            for provider, model in pairs}


@functools.lru_cache(maxsize=64)
def _overrides_statement(vendor: str, providers: int, models: int) -> tuple[str, RowReader]:
    """``ModelPrice.objects.filter(provider__in=…, model__in=…)``: the prices of ``models`` names of ``providers``."""
    quote = connection.ops.quote_name
    meta = ModelPrice._meta
    table = quote(meta.db_table)
    reader = RowReader.of(ModelPrice)
    provider, model = (f"{table}.{quote(meta.get_field(name).column)}" for name in ("provider", "model"))
    return (f"SELECT {reader.select_list(table)} FROM {table} WHERE ({model} IN ({', '.join(['%s'] * models)}) "
            f"AND {provider} IN ({', '.join(['%s'] * providers)}))"), reader


# ``override`` not given: the operator's price is looked up (``override_for``).
LOOK_UP = object()


def reply_cost(*, config: ProviderConfig | None, provider: str, model: str, prompt_tokens: int | None,
               completion_tokens: int | None, at: datetime | None = None,
               override: ModelPrice | None | object = LOOK_UP) -> Cost | None:
    """The cost of one reply, or None when its price is unknown (never 0 for unknown).

    ``override``: the operator's price already looked up (``override_at``), None for none.
    """
    if prompt_tokens is None and completion_tokens is None:
        return None
    if override is LOOK_UP:
        override = override_for(provider, model)
    return tokens_cost(config=config, provider=provider, model=model, prompt_tokens=prompt_tokens or 0,
                       completion_tokens=completion_tokens or 0, at=at, override=override)


def tokens_cost(*, config: ProviderConfig | None, provider: str, model: str, prompt_tokens: int,
                completion_tokens: int, override: ModelPrice | None, at: datetime | None = None) -> Cost | None:
    """``reply_cost`` with the operator's price (``override_for``) already looked up."""
    if override is not None:
        return _from_override(override, prompt_tokens, completion_tokens)
    if config is not None and config.kind == "demo":
        return Cost(Decimal(0), "USD", "free")  # the offline demo provider costs nothing
    return _from_table(config, provider, model, prompt_tokens, completion_tokens, at)
