"""Percentiles in the database agree with percentile_cont computed by hand, on either backend."""

import random

import pytest
from django.db import connection

from chat.models import Message
from dashboard.percentiles import PercentileCont, interpolate, windowed_percentiles

from .conftest import reply

pytestmark = pytest.mark.django_db


def by_hand(values, p):
    ordered = sorted(values)
    return interpolate({i + 1: v for i, v in enumerate(ordered)}, len(ordered), p)


def test_interpolation_matches_percentile_cont_definition():
    assert by_hand([1, 2, 3, 4], 0.5) == 2.5
    assert by_hand([10, 20, 30], 0.95) == pytest.approx(29)
    assert by_hand([7], 0.95) == 7
    assert by_hand([1, 2], 0) == 1 and by_hand([1, 2], 1) == 2


def test_windowed_percentiles_per_group_match_by_hand(user):
    rng = random.Random(7)
    values = {("a", "x"): [rng.randint(1, 5000) for _ in range(41)], ("a", "y"): [rng.randint(1, 50) for _ in range(2)],
              ("b", "x"): [123]}
    for (provider, model), ttfts in values.items():
        for ttft in ttfts:
            reply(user, provider, model, "complete", 0, ttft=ttft, dur=ttft + 10)
    reply(user, "a", "x", "error", 0)  # no ttft: not counted
    qs = Message.objects.filter(role="assistant")
    got = windowed_percentiles(qs, group=["provider", "model"], field="ttft_ms", ps={"p50": 0.5, "p95": 0.95})
    assert set(got) == set(values)
    for key, ttfts in values.items():
        assert got[key]["p50"] == pytest.approx(by_hand(ttfts, 0.5)), key
        assert got[key]["p95"] == pytest.approx(by_hand(ttfts, 0.95)), key
    if connection.vendor == "postgresql":
        native = {(r["provider"], r["model"]): r for r in qs.values("provider", "model").annotate(
            p50=PercentileCont("ttft_ms", 0.5), p95=PercentileCont("ttft_ms", 0.95))}
        for key in values:
            assert native[key]["p50"] == pytest.approx(got[key]["p50"])
            assert native[key]["p95"] == pytest.approx(got[key]["p95"])
