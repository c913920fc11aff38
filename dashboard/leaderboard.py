"""The leaderboard: models ranked by the votes of one user (or, for staff, of the site).

Each vote implies pairwise outcomes between the distinct models it judged (docs/compare.md):

- ``best``: the winner beats each other model of the turn (N − 1 wins);
- ``tie``: every pair of tied winners is a tie (half a win each), each winner beats each non-winner;
- ``all_bad``: every pair is a tie.

Two replies of one model in a turn (a regenerated version, or two columns of it) count as that
model once, a winner if either won. The ratings and intervals come from dashboard/ratings.py; the
time to first token and cost per reply from the judged replies' own figures. Votes on imported turns
are history, counted nowhere (as imported replies are not). ``blind=only`` keeps blind votes cast
before their reveal.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from chat.models import Message, Role, Vote, VoteOutcome

Model = tuple[str, str]  # (provider, model)


class LeaderboardInputError(ValueError):
    """Bad leaderboard parameters; the message is safe to show (a 400 with this ``detail``)."""


class LeaderboardForbidden(PermissionError):
    """A non-staff user asked for the site's leaderboard (a 403 with this ``detail``)."""


@dataclass(frozen=True)
class LeaderboardQuery:
    owner_id: int | None  # None: the whole site
    blind_only: bool
    first: date | None
    last: date | None  # inclusive


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LeaderboardInputError(f"{name} must be a date like 2026-01-31.") from None


def leaderboard_query(*, user, params) -> LeaderboardQuery:
    """Read ``scope`` (me|site; site for staff only), ``blind`` (only|all), ``from`` and ``to``."""
    scope = params.get("scope") or "me"
    if scope not in ("me", "site"):
        raise LeaderboardInputError("scope must be me or site.")
    if scope == "site" and not user.is_staff:
        raise LeaderboardForbidden("Only staff can see the site's leaderboard.")
    blind = params.get("blind") or "all"
    if blind not in ("only", "all"):
        raise LeaderboardInputError("blind must be only or all.")
    first, last = _day(params.get("from"), "from"), _day(params.get("to"), "to")
    if first and last and last < first:
        raise LeaderboardInputError("to must not be before from.")
    return LeaderboardQuery(owner_id=None if scope == "site" else user.pk, blind_only=blind == "only",
                            first=first, last=last)


def _votes(query: LeaderboardQuery):
    votes = Vote.objects.filter(turn__imported=False)
    if query.owner_id is not None:
        votes = votes.filter(user_id=query.owner_id)
    if query.blind_only:
        votes = votes.filter(blind=True, revealed_before=False)
    zone = timezone.get_current_timezone()
    if query.first:
        votes = votes.filter(updated_at__gte=datetime.combine(query.first, time.min, tzinfo=zone))
    if query.last:
        votes = votes.filter(updated_at__lt=datetime.combine(query.last + timedelta(days=1), time.min, tzinfo=zone))
    return votes


def vote_pairs(outcome: str, judged: list[dict], winners: list[int]) -> list[tuple[Model, Model, float]]:
    """The pairwise outcomes one vote implies: (winner, loser, 1.0) for a win, both ways at 0.5 for a tie."""
    won: dict[Model, bool] = {}
    for reply in judged:
        key = (reply.get("provider") or "", reply.get("model") or "")
        if key[0]:
            won[key] = won.get(key, False) or reply.get("id") in winners
    winners_, losers = [k for k, w in won.items() if w], [k for k, w in won.items() if not w]
    pairs: list[tuple[Model, Model, float]] = []
    ties = list(won) if outcome == VoteOutcome.ALL_BAD else (winners_ if len(winners_) > 1 else [])
    for i, a in enumerate(ties):
        for b in ties[i + 1:]:
            pairs += [(a, b, 0.5), (b, a, 0.5)]
    if outcome != VoteOutcome.ALL_BAD:
        pairs += [(w, loser, 1.0) for w in winners_ for loser in losers]
    return pairs


def _reply_figures(votes, judged_ids: set[int]) -> dict[Model, tuple[float | None, float | None]]:
    """Per model: the median time to first token (ms) and the mean cost of its judged replies."""
    ttft: dict[Model, list[int]] = {}
    cost: dict[Model, list[float]] = {}
    rows = Message.objects.filter(reply_to__vote__in=votes, role=Role.ASSISTANT, imported=False).values_list(
        "pk", "provider", "model", "ttft_ms", "cost")
    for pk, provider, model, ttft_ms, amount in rows.iterator(chunk_size=2000):
        if pk not in judged_ids:
            continue
        if ttft_ms is not None:
            ttft.setdefault((provider, model), []).append(ttft_ms)
        if amount is not None:
            cost.setdefault((provider, model), []).append(float(amount))
    keys = set(ttft) | set(cost)
    return {key: (statistics.median(ttft[key]) if key in ttft else None,
                  statistics.fmean(cost[key]) if key in cost else None) for key in keys}


def leaderboard(query: LeaderboardQuery, *, rounds: int | None = None) -> dict:
    """The response of ``GET /api/dashboard/leaderboard``: models best first, with intervals and figures
    (``rounds`` of bootstrap, ``ratings.DEFAULT_ROUNDS`` when not given)."""
    # numpy and scipy take some 60 MB: imported by the first leaderboard, not by every server process.
    from .ratings import DEFAULT_ROUNDS, Outcome, bradley_terry

    rounds = DEFAULT_ROUNDS if rounds is None else rounds
    votes = _votes(query)
    index: dict[Model, int] = {}
    outcomes: list[Outcome] = []
    vote_count: dict[Model, int] = {}
    opponents: dict[Model, set[Model]] = {}
    judged_ids: set[int] = set()
    used = 0
    for outcome, judged, winners in votes.values_list("outcome", "replies", "winners").iterator(chunk_size=2000):
        pairs = vote_pairs(outcome, judged, winners)
        if not pairs:
            continue
        judged_ids.update(reply.get("id") for reply in judged)
        in_vote: set[Model] = set()
        for a, b, weight in pairs:
            outcomes.append(Outcome(used, index.setdefault(a, len(index)), index.setdefault(b, len(index)), weight))
            opponents.setdefault(a, set()).add(b)
            opponents.setdefault(b, set()).add(a)
            in_vote.update((a, b))
        for key in in_vote:
            vote_count[key] = vote_count.get(key, 0) + 1
        used += 1
    if not used:
        return {"models": [], "votes": 0, "bootstrap_rounds": rounds}
    fit = bradley_terry(outcomes, votes=used, models=len(index), rounds=rounds)
    figures = _reply_figures(votes, judged_ids)
    models = []
    for key, i in index.items():
        ttft_p50, cost_per_reply = figures.get(key, (None, None))
        models.append({
            "provider": key[0], "model": key[1], "rating": round(float(fit.rating[i]), 1),
            "ci_low": round(float(fit.ci_low[i]), 1), "ci_high": round(float(fit.ci_high[i]), 1),
            "votes": vote_count[key], "opponents": len(opponents[key]),
            "ttft_p50_ms": None if ttft_p50 is None else round(ttft_p50),
            "cost_per_reply": None if cost_per_reply is None else round(cost_per_reply, 8),
        })
    models.sort(key=lambda row: (-row["rating"], row["provider"], row["model"]))
    return {"models": models, "votes": used, "bootstrap_rounds": fit.rounds}
