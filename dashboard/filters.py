"""What a dashboard request asks for: the period, the provider/model filter and whose replies."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from django.utils import timezone

PERIOD_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366


class DashboardInputError(ValueError):
    """Bad dashboard parameters; the message is safe to show (a 400 with this ``detail``)."""


@dataclass(frozen=True)
class Filters:
    """Days ``first``..``last`` (UTC, inclusive); ``owner_id`` None means the whole site (staff)."""

    first: date
    last: date
    owner_id: int | None
    provider: str = ""
    model: str = ""
    preset: int | None = DEFAULT_DAYS  # 7, 30 or 90 when picked that way, None for from–to

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return self.start + timedelta(days=self.days)

    def previous(self) -> Filters:
        """The period of the same length just before this one."""
        return replace(self, first=self.first - timedelta(days=self.days), last=self.first - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def query(self, **changes) -> dict[str, str]:
        """These filters as query parameters (for links and downloads)."""
        params = {"days": str(self.preset)} if self.preset else {"from": self.first.isoformat(),
                                                                 "to": self.last.isoformat()}
        params |= {k: v for k, v in (("provider", self.provider), ("model", self.model)) if v}
        params |= {k: str(v) for k, v in changes.items() if v not in (None, "")}
        return params


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DashboardInputError(f"{name} must be a date like 2026-01-31.") from None


def filters_from_params(params, *, owner_id: int | None, today: date | None = None) -> Filters:
    """Read ``days`` (7, 30, 90) or ``from``/``to`` (inclusive dates), ``provider`` and ``model``."""
    today = today or timezone.localdate()
    provider = (params.get("provider") or "").strip()[:100]
    model = (params.get("model") or "").strip()[:200]
    if params.get("from") or params.get("to"):
        if not (params.get("from") and params.get("to")):
            raise DashboardInputError("Give both from and to, or neither.")
        first, last = _day(params["from"], "from"), _day(params["to"], "to")
        if last < first:
            raise DashboardInputError("to must not be before from.")
        if (last - first).days + 1 > MAX_DAYS:
            raise DashboardInputError(f"A period is at most {MAX_DAYS} days.")
        return Filters(first=first, last=last, owner_id=owner_id, provider=provider, model=model, preset=None)
    raw = params.get("days") or str(DEFAULT_DAYS)
    if raw not in {str(d) for d in PERIOD_DAYS}:
        raise DashboardInputError("days must be 7, 30 or 90.")
    days = int(raw)
    return Filters(first=today - timedelta(days=days - 1), last=today, owner_id=owner_id, provider=provider,
                   model=model, preset=days)
