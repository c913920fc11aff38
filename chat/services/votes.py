"""A user's vote on a turn: cast (or change), withdraw, read; and a blind turn's reveal.

One concept for the user: choosing a reply (``reply_choose``) is a ``best`` vote for it, and the
vote decides ``Message.chosen`` (the winner of a ``best`` vote; no reply for a tie, for "all bad",
or with no vote), so the star and the vote never disagree. A vote names reply ids: regenerating a
reply adds a new one the vote does not name, and the vote stays as cast for the replies it names.

A vote on a blind turn reveals it (``turn_reveal``); a vote cast after the turn was revealed is
marked ``revealed_before`` and the leaderboard counts it apart. Events go out after commit:
``turn.voted`` with the vote (or null), ``message.updated`` for each reply whose ``chosen`` or
visibility changed.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from chat import events
from chat.errors import ChatInputError
from chat.models import Message, ReplyStatus, Role, Vote, VoteOutcome
from chat.serializers import message_data, vote_data


def _turn_checked(turn: Message) -> Message:
    if turn.role != Role.USER:
        raise ChatInputError("Votes are on a turn: give the id of the user message whose replies you judge.")
    return turn


def _winners_checked(*, turn: Message, replies: list[Message], outcome, winners) -> list[int]:
    if outcome not in VoteOutcome.values:
        raise ChatInputError("outcome must be best, tie or all_bad.", field="outcome")
    if not isinstance(winners, list) or not all(isinstance(w, int) and not isinstance(w, bool) for w in winners):
        raise ChatInputError("winners must be a list of reply ids.", field="winners")
    if len(set(winners)) != len(winners):
        raise ChatInputError("A reply is named twice in winners.", field="winners")
    by_id = {reply.pk: reply for reply in replies}
    for reply_id in winners:
        reply = by_id.get(reply_id)
        if reply is None:
            raise ChatInputError(f"Reply {reply_id} is not a reply of this turn.", field="winners")
        if reply.status != ReplyStatus.COMPLETE:
            raise ChatInputError(f"Reply {reply_id} has not finished, so it cannot win.", field="winners")
    expected = {VoteOutcome.BEST: "exactly one winner", VoteOutcome.TIE: "two or more winners",
                VoteOutcome.ALL_BAD: "no winners"}[outcome]
    fits = {VoteOutcome.BEST: len(winners) == 1, VoteOutcome.TIE: len(winners) >= 2,
            VoteOutcome.ALL_BAD: not winners}[outcome]
    if not fits:
        raise ChatInputError(f"A {outcome} vote names {expected}.", field="winners")
    if sum(1 for reply in replies if reply.status == ReplyStatus.COMPLETE) < 1:
        raise ChatInputError("This turn has no finished reply to judge yet.")
    return winners


def _turn_replies_locked(turn: Message) -> list[Message]:
    # Locked: two votes (or a vote and a choose) on one turn at once are applied one after the other.
    return list(Message.objects.select_for_update().filter(
        conversation_id=turn.conversation_id, reply_to_id=turn.pk, role=Role.ASSISTANT).order_by("id"))


def _set_chosen(replies: list[Message], chosen_id: int | None) -> list[Message]:
    changed = []
    for reply in replies:
        should = reply.pk == chosen_id
        if reply.chosen != should:
            reply.chosen = should
            reply.save(update_fields=["chosen", "updated_at"])
            changed.append(reply)
    return changed


def _reveal(replies: list[Message]) -> list[Message]:
    now = timezone.now()
    revealed = [reply for reply in replies if reply.blind_label and reply.blind_revealed_at is None]
    for reply in revealed:
        reply.blind_revealed_at = now
    Message.objects.filter(pk__in=[reply.pk for reply in revealed]).update(blind_revealed_at=now, updated_at=now)
    return revealed


def _publish(turn: Message, vote: Vote | None, changed: list[Message]) -> None:
    unique = list({reply.pk: reply for reply in changed}.values())
    event_list = [events.message_updated(message_data(reply)) for reply in unique]
    event_list.append(events.turn_voted(message_id=turn.pk, vote=vote_data(vote)))
    events.publish_on_commit(turn.conversation_id, event_list)


def vote_cast(*, turn: Message, outcome: str, winners: list[int]) -> Vote:
    """Store the owner's vote on ``turn`` (replacing any earlier one); 400 for winners that do not fit."""
    _turn_checked(turn)
    with transaction.atomic():
        replies = _turn_replies_locked(turn)
        winners = _winners_checked(turn=turn, replies=replies, outcome=outcome, winners=winners)
        blind = any(reply.blind_label for reply in replies)
        revealed_before = blind and any(reply.blind_revealed_at is not None for reply in replies)
        judged = [{"id": r.pk, "provider": r.provider, "model": r.model}
                  for r in replies if r.status == ReplyStatus.COMPLETE]
        vote, _ = Vote.objects.update_or_create(turn=turn, defaults={
            "user_id": turn.conversation.owner_id, "conversation_id": turn.conversation_id, "outcome": outcome,
            "winners": winners, "replies": judged, "blind": blind, "revealed_before": revealed_before,
        })
        changed = _reveal(replies) if blind else []
        changed += _set_chosen(replies, winners[0] if outcome == VoteOutcome.BEST else None)
        _publish(turn, vote, changed)
    return vote


def vote_withdraw(*, turn: Message) -> None:
    """Remove the vote on ``turn`` (none is fine) and with it the chosen reply."""
    _turn_checked(turn)
    with transaction.atomic():
        replies = _turn_replies_locked(turn)
        deleted, _ = Vote.objects.filter(turn=turn).delete()
        changed = _set_chosen(replies, None)
        if deleted or changed:
            _publish(turn, None, changed)


def vote_for_turn(*, turn: Message) -> Vote | None:
    _turn_checked(turn)
    return Vote.objects.filter(turn=turn).first()


def turn_reveal(*, turn: Message) -> list[Message]:
    """Show who wrote each reply of a blind turn (stored: a later vote counts as cast after a reveal)."""
    _turn_checked(turn)
    with transaction.atomic():
        replies = _turn_replies_locked(turn)
        if not any(reply.blind_label for reply in replies):
            raise ChatInputError("This turn is not blind: there is nothing to reveal.")
        revealed = _reveal(replies)
        if revealed:
            events.publish_on_commit(turn.conversation_id,
                                     [events.message_updated(message_data(reply)) for reply in revealed])
    return replies
