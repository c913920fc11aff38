"""What one user may start: a send rate, replies generating at once, and tokens and cost per month;
how often they may import, and how much text they may keep.

Checked by ``chat.services.turns`` (``message_send``, ``reply_regenerate``) — the one path of the
REST API and the socket alike — before anything is stored or any provider is called. Site-wide
defaults are settings; staff override the turn limits per user in the admin (``accounts.UserLimits``).
The import rate is counted by the import API, the storage quota by ``chat.imports.conversations_import``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum
from django.db.models.functions import Length
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import MonthlyUsage, UserLimits
from webox import throttles

from .errors import LimitReached, StorageFull
from .models import ACTIVE_STATUSES, Conversation, Message, Role
from .row_readers import ColumnReader

# The cost budget counts costs in this currency (the price table's, genai-prices' and the dashboard's).
BUDGET_CURRENCY = "USD"
MILLION = Decimal(1_000_000)
COST_PLACES = Decimal("0.00000001")  # MonthlyUsage.cost's decimal places
# Where a month's figures stop instead of overflowing MonthlyUsage's columns, so a reply's end never
# fails on its owner's month: the tokens column's maximum; for the cost, the most with 15 significant
# digits, which SQLite (decimals kept as floating point) gives back exactly.
TOKENS_CEILING = 2**63 - 1
COST_CEILING = Decimal("9999999.99999999")


@dataclass(frozen=True)
class EffectiveLimits:
    """A user's limits as they apply: their own overrides (``accounts.UserLimits``) or the site's defaults."""

    max_active_replies: int  # 0: no limit
    monthly_token_budget: int  # 0: no limit
    monthly_cost_budget: Decimal  # in BUDGET_CURRENCY; 0: no limit


_OVERRIDES = ("max_active_replies", "monthly_token_budget", "monthly_cost_budget")


def _with_defaults(overrides: dict) -> EffectiveLimits:
    """The limits from a user's own values (``None``: the site-wide default)."""

    def pick(name: str, default):
        value = overrides.get(name)
        return default if value is None else value

    return EffectiveLimits(pick("max_active_replies", settings.WEBOX_MAX_ACTIVE_REPLIES),
                      pick("monthly_token_budget", settings.WEBOX_MONTHLY_TOKEN_BUDGET),
                      Decimal(pick("monthly_cost_budget", settings.WEBOX_MONTHLY_COST_BUDGET)))


def limits_for(user) -> EffectiveLimits:
    own = UserLimits.objects.filter(user_id=user.pk).values(*_OVERRIDES).first()
    return _with_defaults(own or {})


def lock_user_and_read_limits(user) -> EffectiveLimits:
    """Lock the user's row and read their limits, in one statement (inside a transaction).

    Two turns sent at once are then counted one after the other. The statement is the ORM's
    ``select_for_update(of=("self",)).select_related("limits")`` read, written once per process: every
    send makes it, and building it cost daphne about 0.7 ms of CPU.
    """
    if connection.features.has_select_for_update and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    sql, readers = _lock_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk])
        row = cursor.fetchone()
    if row is None or row[1] is None:  # no UserLimits row: the site-wide defaults
        return _with_defaults({})
    return _with_defaults({name: readers[index].read(row[index + 2]) for index, name in enumerate(_OVERRIDES)})


@functools.cache
def _lock_statement(vendor: str) -> tuple[str, tuple]:
    """The user's id, their limits' id (None: no row) and their overrides; the user's row locked where the
    database locks rows. ``OF``: only the user's row, not the outer join's nullable side (PostgreSQL refuses
    that)."""
    quote = connection.ops.quote_name
    users, own = get_user_model()._meta, UserLimits._meta
    user_table, limits_table = quote(users.db_table), quote(own.db_table)
    user_id = f"{user_table}.{quote(users.pk.column)}"
    fields = [own.get_field(name) for name in _OVERRIDES]
    columns = ", ".join(f"{limits_table}.{quote(field.column)}" for field in [own.pk, *fields])
    lock = f" FOR UPDATE OF {user_table}" if connection.features.has_select_for_update_of else ""
    sql = (f"SELECT {user_id}, {columns} FROM {user_table} LEFT OUTER JOIN {limits_table} "
           f"ON ({user_id} = {limits_table}.{quote(own.get_field('user').column)}) "
           f"WHERE {user_id} = %s ORDER BY {user_id} ASC LIMIT 1{lock}")
    return sql, tuple(ColumnReader.of(field) for field in fields)


def _month_start(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date().replace(day=1)


def _next_month(first: dt.date) -> dt.datetime:
    year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def check_send_rate(user) -> None:
    """Count one turn of ``user`` (REST and socket together); refuse it over ``WEBOX_SEND_RATE``."""
    try:
        throttles.hit("send", str(user.pk), settings.WEBOX_SEND_RATE)
    except throttles.Throttled as exc:
        raise LimitReached(f"You are sending too fast. Try again in {exc.retry_after} seconds.",
                           code="rate_limited", retry_after=exc.retry_after) from None


def check_import_rate(user) -> None:
    """Count one import of ``user``; refuse it over ``WEBOX_IMPORT_RATE``."""
    try:
        throttles.hit("import", str(user.pk), settings.WEBOX_IMPORT_RATE)
    except throttles.Throttled as exc:
        raise LimitReached(f"You are importing too often. Try again in {exc.retry_after} seconds.",
                           code="rate_limited", retry_after=exc.retry_after) from None


def stored_chars(user) -> int:
    """The characters of text the user keeps: every message and reply of their conversations."""
    used = Message.objects.filter(conversation__owner_id=user.pk).aggregate(chars=Sum(Length("content")))["chars"]
    return used or 0


def check_storage(user, adding: int) -> None:
    """Refuse ``adding`` more characters that would take ``user`` over ``WEBOX_USER_STORAGE_CHARS``.

    Call inside the transaction that stores them, after locking the user's row
    (``lock_user_and_read_limits``), so that two imports at once are counted one after the other.
    """
    quota = settings.WEBOX_USER_STORAGE_CHARS
    if not quota:
        return
    used = stored_chars(user)
    if used + adding > quota:
        raise StorageFull(
            f"This would store {adding:,} more characters, but your conversations already hold {used:,} of the "
            f"{quota:,} you may keep. Delete some conversations or import a smaller file.")


def check_new_replies(user, count: int, limits: EffectiveLimits | None = None) -> None:
    """Refuse ``count`` new replies over the user's active-reply cap or monthly token budget.

    Call inside the transaction that stores them, after locking the user's row (``limits``: as
    ``lock_user_and_read_limits`` read them), so that two turns sent at once cannot both pass
    the cap.
    """
    limits = limits or limits_for(user)
    if limits.max_active_replies:
        active = active_replies(user)
        if active + count > limits.max_active_replies:
            raise LimitReached(
                f"At most {limits.max_active_replies} replies can generate at once; {active} still are. "
                "Wait for them to finish or stop some.", code="too_many_active")
    if limits.monthly_token_budget or limits.monthly_cost_budget:
        month = _month_start(timezone.now())
        tokens, cost = month_used(user, month)
        renews = _next_month(month)
        retry = int((renews - timezone.now()).total_seconds()) + 1
        if limits.monthly_token_budget and tokens >= limits.monthly_token_budget:
            raise LimitReached(
                f"Your monthly budget of {limits.monthly_token_budget} tokens is used up ({tokens}); "
                f"it renews on {renews:%Y-%m-%d}.", code="budget_exhausted", retry_after=retry)
        if limits.monthly_cost_budget and cost >= limits.monthly_cost_budget:
            raise LimitReached(
                f"Your monthly budget of {limits.monthly_cost_budget.normalize():f} {BUDGET_CURRENCY} is used up "
                f"({cost.normalize():f} {BUDGET_CURRENCY}); it renews on {renews:%Y-%m-%d}.",
                code="budget_exhausted", retry_after=retry)


def active_replies(user) -> int:
    """How many of the user's replies are generating (pending or streaming): one ``COUNT`` written once."""
    with connection.cursor() as cursor:
        cursor.execute(_active_statement(connection.vendor), [user.pk, str(Role.ASSISTANT), *map(str, ACTIVE_STATUSES)])
        return cursor.fetchone()[0]


@functools.cache
def _active_statement(vendor: str) -> str:
    """``Message.objects.filter(conversation__owner_id=…, role=…, status__in=ACTIVE_STATUSES).count()``."""
    quote = connection.ops.quote_name
    messages, conversations = Message._meta, Conversation._meta
    message, conversation = quote(messages.db_table), quote(conversations.db_table)
    statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
    return (f"SELECT COUNT(*) FROM {message} INNER JOIN {conversation} ON ({message}."
            f"{quote(messages.get_field('conversation').column)} = {conversation}.{quote(conversations.pk.column)}) "
            f"WHERE ({conversation}.{quote(conversations.get_field('owner').column)} = %s AND {message}."
            f"{quote(messages.get_field('role').column)} = %s AND {message}."
            f"{quote(messages.get_field('status').column)} IN ({statuses}))")


def month_used(user, month: dt.date) -> tuple[int, Decimal]:
    """The tokens and the cost for the budget (``budget_cost``) of the user's replies that ended in ``month``."""
    row = MonthlyUsage.objects.filter(user_id=user.pk, month=month).values_list("tokens", "cost").first()
    return (row[0], row[1]) if row else (0, Decimal(0))


def budget_cost(*, tokens: int, cost: Decimal | None, currency: str) -> Decimal:
    """What a reply adds to its owner's cost budget, in BUDGET_CURRENCY.

    Its stored cost when that is known in BUDGET_CURRENCY; otherwise (no known price, or a price
    in another currency) its tokens at ``WEBOX_UNPRICED_PRICE_PER_MTOK``, so a model nobody priced
    cannot be used without limit under a cost budget. The reply's stored cost stays unknown.
    """
    if cost is not None and currency == BUDGET_CURRENCY:
        return cost
    return (Decimal(tokens) * settings.WEBOX_UNPRICED_PRICE_PER_MTOK / MILLION).quantize(COST_PLACES)


def record_usage(*, reply) -> None:
    """Add an ended reply's tokens and its cost for the budget (``budget_cost``) to its owner's month.

    One atomic UPDATE.
    """
    tokens = min((reply.prompt_tokens or 0) + (reply.completion_tokens or 0), TOKENS_CEILING)
    cost = min(budget_cost(tokens=tokens, cost=reply.cost, currency=reply.cost_currency), COST_CEILING)
    if tokens <= 0 and not cost:
        return
    table = MonthlyUsage._meta.db_table
    # One statement (PostgreSQL and SQLite both upsert), so the budget costs a reply one write.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, month, tokens, cost) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT (user_id, month) DO UPDATE SET "
            f"tokens = CASE WHEN {table}.tokens > {TOKENS_CEILING} - excluded.tokens THEN {TOKENS_CEILING} "
            f"ELSE {table}.tokens + excluded.tokens END, "
            f"cost = CASE WHEN {table}.cost > {COST_CEILING} - excluded.cost THEN {COST_CEILING} "
            f"ELSE {table}.cost + excluded.cost END",
            [reply.conversation.owner_id, _month_start(timezone.now()), tokens, cost],
        )
