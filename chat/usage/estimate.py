"""What a turn will cost before it is sent: per column and for the turn, as a range.

Each column's input is what it would be sent (chat/context.py: its own thread, its system prompt,
the new message and its attachments: file text as text, each image at ``IMAGE_TOKENS`` for a
model that sees images), counted with a real tokenizer (chat/usage/tokenizer.py; marked where it only
approximates the model's own). The range runs from the input alone (a reply of no tokens) to the
input plus the column's max-tokens ceiling, priced like a finished reply (chat/usage/pricing.py).
A column whose price is unknown has no cost, never 0. docs/compare.md, "Cost before sending".
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from chat.attachments.models import Attachment
from chat.context import (
    DEFAULT_RESERVED_OUTPUT_TOKENS,
    IMAGE_TOKENS,
    EarlierTurns,
    column_request,
    earlier_turns,
    estimate_tokens,
)
from chat.models import Conversation
from chat.providers import ProviderConfig, provider_configs

from . import tokenizer
from .pricing import Cost, overrides_for, tokens_cost

# What a send may tokenize itself (about 30 ms): past it, text no estimate has counted yet is
# counted at four characters a token, so a long conversation never slows its send.
SEND_MAX_UNCOUNTED_CHARS = 20_000
# A reply's ceiling where the column sets no max tokens: what the provider's kind sends then.
KIND_DEFAULT_MAX_TOKENS = {"anthropic": 4096}
COST_PLACES = Decimal("1e-10")


@dataclass(frozen=True)
class ColumnEstimate:
    key: str
    provider: str
    model: str
    input_tokens: int
    tokenizer: str  # the table counted with, or "chars/4" before one is loaded
    exact: bool  # counted with the model's own tokenizer
    max_output_tokens: int
    max_output_assumed: bool  # the column sets no max tokens and its provider has no fixed default
    cost_low: Cost | None
    cost_high: Cost | None

    def as_dict(self) -> dict:
        return {
            "key": self.key, "provider": self.provider, "model": self.model, "input_tokens": self.input_tokens,
            "tokenizer": self.tokenizer, "exact": self.exact, "max_output_tokens": self.max_output_tokens,
            "max_output_assumed": self.max_output_assumed, "price_known": self.cost_low is not None,
            "cost_low": _money(self.cost_low), "cost_high": _money(self.cost_high),
            "currency": self.cost_low.currency if self.cost_low else "",
        }


def _money(cost: Cost | None) -> str | None:
    return None if cost is None else str(cost.amount.quantize(COST_PLACES).normalize())


def turn_totals(columns: list[ColumnEstimate]) -> dict:
    """The turn's figures: its input tokens, and its cost range over the columns whose price is known."""
    priced = [c for c in columns if c.cost_low is not None]
    currencies = {c.cost_low.currency for c in priced}
    one_currency = len(currencies) == 1
    return {
        "input_tokens": sum(c.input_tokens for c in columns),
        "exact": all(c.exact for c in columns),
        "price_unknown": [c.key for c in columns if c.cost_low is None],
        "currency": currencies.pop() if one_currency else "",
        "cost_low": str(sum(c.cost_low.amount for c in priced).quantize(COST_PLACES).normalize())
        if one_currency else None,
        "cost_high": str(sum(c.cost_high.amount for c in priced).quantize(COST_PLACES).normalize())
        if one_currency else None,
    }


def columns_estimate(*, conversation: Conversation | None, columns, message: str, system_prompt: str | None = None,
                     attachments: Sequence[Attachment] = (), wait_for_tokenizer: bool = True,
                     turns: EarlierTurns | None = None) -> list[ColumnEstimate]:
    """The estimate of each of ``columns`` (``chat.services.inputs.Column``) answering ``message``
    sent with ``attachments`` (the sender's pending uploads).

    ``conversation`` None is a new one; ``system_prompt`` a send's new one for the conversation.
    The message follows the branch on screen, unless ``turns`` names the earlier turns (an edit's).
    Without ``wait_for_tokenizer`` (the send itself), a table not loaded yet is not loaded (only an
    estimate loads it: the load holds a process for seconds), nor is much text no estimate has
    counted yet tokenized: such a column is counted at four characters a token and marked so.
    """
    if conversation is None:
        conversation, turns = Conversation(), EarlierTurns([], {})
    elif turns is None:
        turns = earlier_turns(conversation)
    if system_prompt is not None:
        conversation = copy.copy(conversation)
        conversation.system_prompt = system_prompt
    # Columns of a checked send carry their provider (chat/services/inputs.py): no second read of the providers.
    resolved = all(getattr(column, "config", None) is not None for column in columns)
    configs = ({column.provider: column.config for column in columns} if resolved
               else {config.name: config for config in provider_configs()})
    overrides = overrides_for({(column.provider, column.model) for column in columns})
    estimates = []
    for column in columns:
        config = configs.get(column.provider)
        request = column_request(conversation=conversation, turns=turns, column=column.key, provider=column.provider,
                                 model=column.model, parameters=column.parameters, question=message,
                                 attachments=attachments, context_tokens=config.context_tokens if config else None)
        texts = [m.content for m in request.messages] + ([request.system_prompt] if request.system_prompt else [])
        input_tokens, counted_with, exact = _count(texts, column.model, config, wait=wait_for_tokenizer)
        images = sum(len(m.images) for m in request.messages)
        input_tokens, exact = input_tokens + IMAGE_TOKENS * images, exact and not images
        ceiling, assumed = _ceiling(column.parameters, config)
        price = {"config": config, "provider": column.provider, "model": column.model,
                 "override": overrides[(column.provider, column.model)]}
        low = tokens_cost(prompt_tokens=input_tokens, completion_tokens=0, **price)
        high = tokens_cost(prompt_tokens=input_tokens, completion_tokens=ceiling, **price) if low else None
        estimates.append(ColumnEstimate(column.key, column.provider, column.model, input_tokens, counted_with, exact,
                                        ceiling, assumed, low, high))
    return estimates


def _count(texts: list[str], model: str, config: ProviderConfig | None, *, wait: bool) -> tuple[int, str, bool]:
    table = tokenizer.tokenizer_for(model, kind=config.kind if config else "")
    if wait or (tokenizer.is_loaded(table.encoding)
                and tokenizer.uncached_chars(texts, table.encoding) <= SEND_MAX_UNCOUNTED_CHARS):
        return tokenizer.count_chat(texts, table.encoding), table.encoding, table.exact
    return sum(estimate_tokens(text) for text in texts), "chars/4", False


def _ceiling(parameters: dict, config: ProviderConfig | None) -> tuple[int, bool]:
    if parameters.get("max_tokens"):
        return parameters["max_tokens"], False
    fixed = KIND_DEFAULT_MAX_TOKENS.get(config.kind) if config else None
    return (fixed, False) if fixed else (DEFAULT_RESERVED_OUTPUT_TOKENS, True)
