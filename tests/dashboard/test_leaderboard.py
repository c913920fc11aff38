"""The leaderboard: Bradley–Terry ratings with bootstrap intervals on hand-made vote sets whose answer
is known, the pairs each outcome implies, its figures, and who may see what."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chat.models import Conversation, Message, ReplyStatus, Role, Vote
from dashboard.leaderboard import vote_pairs

pytestmark = pytest.mark.django_db

GAP_30_TO_10 = 400 * math.log10(3)  # 190.8: 3:1 odds


class Votes:
    """Votes of one user on turns made for them: ``add("best", ["a", "b", "c"], winners=["a"])``."""

    def __init__(self, owner):
        self.owner = owner
        self.conversation = Conversation.objects.create(owner=owner)

    def add(self, outcome, models, winners=(), *, times=1, blind=False, revealed_before=False, ttft=None,
            cost=None, imported=False):
        for _ in range(times):
            turn = Message.objects.create(conversation=self.conversation, role=Role.USER, content="q",
                                          imported=imported)
            replies = {m: Message.objects.create(
                conversation=self.conversation, role=Role.ASSISTANT, provider="p", model=m, reply_to=turn,
                status=ReplyStatus.COMPLETE, content="a", ttft_ms=(ttft or {}).get(m),
                cost=(cost or {}).get(m), imported=imported) for m in models}
            Vote.objects.create(user=self.owner, conversation=self.conversation, turn=turn, outcome=outcome,
                                winners=[replies[w].pk for w in winners], blind=blind,
                                revealed_before=revealed_before,
                                replies=[{"id": r.pk, "provider": "p", "model": m} for m, r in replies.items()])


def board(client, **params):
    response = client.get("/api/dashboard/leaderboard", params)
    assert response.status_code == 200, response.content
    return response.json()


def by_model(body):
    return {row["model"]: row for row in body["models"]}


def test_thirty_wins_to_ten_is_a_191_point_gap_around_1000(auth_client, user):
    votes = Votes(user)
    votes.add("best", ["a", "b"], ["a"], times=30)
    votes.add("best", ["a", "b"], ["b"], times=10)
    body = board(auth_client)
    a, b = body["models"]
    assert (a["model"], b["model"], body["votes"], body["bootstrap_rounds"]) == ("a", "b", 40, 200)
    assert a["rating"] - b["rating"] == pytest.approx(GAP_30_TO_10, abs=1)
    assert (a["rating"] + b["rating"]) / 2 == pytest.approx(1000, abs=0.1)
    assert a["ci_low"] < a["rating"] < a["ci_high"] and b["ci_low"] < b["rating"] < b["ci_high"]
    assert (a["votes"], a["opponents"]) == (40, 1)


def test_a_dominant_model_is_first_and_apart_from_the_rest(auth_client, user):
    votes = Votes(user)
    votes.add("best", ["top", "b", "c"], ["top"], times=15)
    votes.add("tie", ["b", "c"], ["b", "c"], times=5)
    rows = by_model(board(auth_client))
    assert list(rows) == ["top", "b", "c"] or list(rows) == ["top", "c", "b"]
    assert rows["top"]["ci_low"] > max(rows["b"]["ci_high"], rows["c"]["ci_high"])
    assert rows["b"]["rating"] == pytest.approx(rows["c"]["rating"], abs=0.5)


def test_an_intransitive_triple_rates_all_three_equal(auth_client, user):
    votes = Votes(user)
    for winner, loser in (("a", "b"), ("b", "c"), ("c", "a")):
        votes.add("best", [winner, loser], [winner], times=10)
    rows = by_model(board(auth_client))
    assert [round(rows[m]["rating"]) for m in "abc"] == [1000, 1000, 1000]


def test_ties_and_all_bad_count_half_a_win_each_way(auth_client, user):
    votes = Votes(user)
    votes.add("all_bad", ["a", "b"], times=6)
    votes.add("tie", ["a", "b", "c"], ["a", "b"], times=6)
    rows = by_model(board(auth_client))
    assert rows["a"]["rating"] == pytest.approx(rows["b"]["rating"], abs=0.5)
    assert rows["a"]["rating"] > rows["c"]["rating"] + 200


def test_a_model_with_one_vote_has_a_wide_interval_and_an_untouched_model_is_absent(auth_client, user):
    votes = Votes(user)
    votes.add("best", ["a", "b"], ["a"], times=20)
    votes.add("best", ["a", "b"], ["b"], times=20)
    votes.add("best", ["once", "a"], ["once"])
    votes.add("best", ["alone"], ["alone"])  # one model judged: no pair, counted nowhere
    body = board(auth_client)
    rows = by_model(body)
    assert set(rows) == {"a", "b", "once"} and body["votes"] == 41
    width = {m: rows[m]["ci_high"] - rows[m]["ci_low"] for m in rows}
    assert width["once"] > 2 * max(width["a"], width["b"])
    assert rows["once"]["votes"] == 1


def test_each_outcome_implies_its_pairs():
    judged = [{"id": 1, "provider": "p", "model": "a"}, {"id": 2, "provider": "p", "model": "b"},
              {"id": 3, "provider": "p", "model": "c"}, {"id": 4, "provider": "p", "model": "a"}]
    a, b, c = ("p", "a"), ("p", "b"), ("p", "c")
    assert sorted(vote_pairs("best", judged, [2])) == [(b, a, 1.0), (b, c, 1.0)]
    assert sorted(vote_pairs("tie", judged, [1, 2])) == [(a, b, 0.5), (a, c, 1.0), (b, a, 0.5), (b, c, 1.0)]
    assert len(vote_pairs("all_bad", judged, [])) == 6  # three pairs, both ways; two versions of a count once
    assert vote_pairs("best", judged, [4]) == [(a, b, 1.0), (a, c, 1.0)]


def test_two_columns_of_one_model_in_a_turn_count_as_that_model_once(auth_client, user):
    """Columns "p" and "p#2" of one model (at two temperatures, say): one player, a winner if either won."""
    conversation = Conversation.objects.create(owner=user)
    turn = Message.objects.create(conversation=conversation, role=Role.USER, content="q")
    replies = [Message.objects.create(conversation=conversation, role=Role.ASSISTANT, provider="p", model=model,
                                      column=column, reply_to=turn, status=ReplyStatus.COMPLETE, content="a")
               for column, model in (("p", "a"), ("p#2", "a"), ("q", "b"))]
    response = auth_client.put(f"/api/chat/messages/{turn.pk}/vote", {"outcome": "best", "winners": [replies[1].pk]},
                               format="json")
    assert response.status_code == 200, response.content
    rows = by_model(board(auth_client))
    assert set(rows) == {"a", "b"} and rows["a"]["rating"] > rows["b"]["rating"]
    assert (rows["a"]["votes"], rows["a"]["opponents"], rows["b"]["opponents"]) == (1, 1, 1)


def test_figures_are_the_judged_replies_median_first_token_and_mean_cost(auth_client, user):
    votes = Votes(user)
    votes.add("best", ["a", "b"], ["a"], ttft={"a": 100, "b": 300}, cost={"a": Decimal("0.002")})
    votes.add("best", ["a", "b"], ["a"], ttft={"a": 200, "b": 500}, cost={"a": Decimal("0.004")})
    votes.add("best", ["a", "b"], ["b"], ttft={"a": 900})
    rows = by_model(board(auth_client))
    assert (rows["a"]["ttft_p50_ms"], rows["a"]["cost_per_reply"]) == (200, 0.003)
    assert (rows["b"]["ttft_p50_ms"], rows["b"]["cost_per_reply"]) == (400, None)


def test_blind_only_keeps_blind_votes_cast_before_the_reveal(auth_client, user):
    votes = Votes(user)
    votes.add("best", ["a", "b"], ["a"], times=3, blind=True)
    votes.add("best", ["a", "b"], ["b"], times=5, blind=True, revealed_before=True)
    votes.add("best", ["a", "b"], ["b"], times=5)
    assert board(auth_client, blind="only")["votes"] == 3
    assert board(auth_client, blind="all")["votes"] == 13


def test_the_period_and_imported_turns_limit_the_votes(auth_client, user):
    votes = Votes(user)
    votes.add("best", ["a", "b"], ["a"], times=2)
    votes.add("best", ["a", "b"], ["b"], imported=True)
    Vote.objects.filter(pk=Vote.objects.order_by("id").first().pk).update(
        updated_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    assert board(auth_client)["votes"] == 2
    assert board(auth_client, **{"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()})[
        "votes"] == 1


def test_the_site_leaderboard_is_for_staff_and_counts_everyone(auth_client, user, make_user, client):
    Votes(user).add("best", ["a", "b"], ["a"])
    Votes(make_user("bob")).add("best", ["a", "b"], ["b"])
    refused = auth_client.get("/api/dashboard/leaderboard", {"scope": "site"})
    assert refused.status_code == 403 and refused.json()["detail"]
    assert auth_client.get("/api/dashboard/leaderboard", {"blind": "maybe"}).status_code == 400
    user.is_staff = True
    user.save()
    assert board(auth_client, scope="site")["votes"] == 2
    assert board(auth_client)["votes"] == 1


def test_no_votes_is_an_empty_board(auth_client):
    assert board(auth_client) == {"models": [], "votes": 0, "bootstrap_rounds": 200}


def test_the_page_ranks_the_models(client, user):
    Votes(user).add("best", ["winner-model", "other-model"], ["winner-model"], times=3)
    client.force_login(user)
    page = client.get("/dashboard/leaderboard/").content.decode()
    assert page.index("winner-model") < page.index("other-model")
    assert client.get("/dashboard/leaderboard/", {"scope": "site"}).status_code == 403
