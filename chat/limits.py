"""What one user may start: a send rate, replies generating at once, and tokens per month.

Checked by ``services.message_send`` and ``services.reply_regenerate`` — the one path of the
REST API and the socket alike — before anything is stored or any provider is called. Site-wide
defaults are settings; staff override them per user in the admin (``accounts.UserLimits``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from webox import throttles

from .models import ACTIVE_STATUSES, Message, Role


class LimitReached(Exception):
    """A turn refused by a limit: ``code`` says which, ``retry_after`` (seconds) when it is known."""

    def __init__(self, detail: str, *, code: str, retry_after: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class UserLimits:
    max_active_replies: int  # 0: no limit
    monthly_token_budget: int  # 0: no limit


def limits_for(user) -> UserLimits:
    from accounts.models import UserLimits as Overrides

    own = Overrides.objects.filter(user_id=user.pk).first()

    def pick(name: str, default: int) -> int:
        value = getattr(own, name, None) if own is not None else None
        return default if value is None else value

    return UserLimits(pick("max_active_replies", settings.WEBOX_MAX_ACTIVE_REPLIES),
                      pick("monthly_token_budget", settings.WEBOX_MONTHLY_TOKEN_BUDGET))


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


def check_new_replies(user, count: int) -> None:
    """Refuse ``count`` new replies over the user's active-reply cap or monthly token budget.

    Call inside the transaction that stores them, after locking the user's row, so that two
    turns sent at once cannot both pass the cap.
    """
    limits = limits_for(user)
    if limits.max_active_replies:
        active = Message.objects.filter(conversation__owner_id=user.pk, role=Role.ASSISTANT,
                                        status__in=ACTIVE_STATUSES).count()
        if active + count > limits.max_active_replies:
            raise LimitReached(
                f"At most {limits.max_active_replies} replies can generate at once; {active} still are. "
                "Wait for them to finish or stop some.", code="too_many_active")
    if limits.monthly_token_budget:
        month = _month_start(timezone.now())
        used = tokens_used(user, month)
        if used >= limits.monthly_token_budget:
            retry = int((_next_month(month) - timezone.now()).total_seconds()) + 1
            raise LimitReached(
                f"Your monthly budget of {limits.monthly_token_budget} tokens is used up ({used}); "
                f"it renews on {_next_month(month):%Y-%m-%d}.", code="budget_exhausted", retry_after=retry)


def tokens_used(user, month: dt.date) -> int:
    from accounts.models import MonthlyUsage

    return MonthlyUsage.objects.filter(user_id=user.pk, month=month).values_list("tokens", flat=True).first() or 0


def record_tokens(*, user_id: int, tokens: int) -> None:
    """Add a finished reply's tokens to its owner's month (one atomic UPDATE)."""
    from accounts.models import MonthlyUsage

    if tokens <= 0:
        return
    month = _month_start(timezone.now())
    usage, _ = MonthlyUsage.objects.get_or_create(user_id=user_id, month=month)
    MonthlyUsage.objects.filter(pk=usage.pk).update(tokens=F("tokens") + tokens)
