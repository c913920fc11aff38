"""Bradley–Terry ratings of models from pairwise outcomes, with bootstrap intervals over votes.

Pure numbers (numpy, scipy), nothing of Django: dashboard/leaderboard.py turns votes into the
pairwise outcomes each vote implies and hands them here.

The model: P(i beats j) = 1 / (1 + exp(θj − θi)). The strengths θ maximise the likelihood of every
outcome, a tie counting half a win each way, as LMSYS's arena does (there with logistic
regression; here scipy's trust-region Newton on the same likelihood, with exact gradient and
Hessian, on a matrix of win counts, so the cost grows with the number of models, not of votes).
A small Gaussian prior on θ (``PRIOR``) keeps a model that never lost finite; it moves a 30–10
record's gap by under a point.
Ratings are on the Elo-like scale: 400 points are 10:1 odds, the mean of the rated models is 1000.

Intervals: the votes are resampled with replacement ``rounds`` times (a seeded generator, so one set
of votes always gives the same intervals), the model fitted on each resample, and the 2.5th and
97.5th percentiles of each model's rating taken; a model absent from a resample is left out of it.
Each round is aligned to the whole fit by the games-weighted mean, so that a rarely judged model
coming and going does not shift the others. A bootstrap over votes cannot vary the record of a
model judged once (every resample holds the same outcome), so the interval is never narrower than
each model's likelihood-ratio interval (the others held at the fit), which is wide exactly where
the votes say little.
The rounds are fitted together (the same likelihood, Newton steps on a stack of matrices), which
keeps 200 rounds of 10 000 votes near a second.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

SCALE = 400 / np.log(10)
MEAN_RATING = 1000.0
PRIOR = 0.01  # the weight of the Gaussian prior on θ (natural-log units)
DEFAULT_ROUNDS = 200
DEFAULT_SEED = 20231
NEWTON_ITERATIONS = 60
MAX_STEP = 2.0
CHI2_95 = 3.841459  # χ² with one degree of freedom, 95th percentile


@dataclass(frozen=True)
class Outcome:
    """One vote's implied result of ``winner`` against ``loser``: 1 a win, 0.5 a tie (given both ways)."""

    vote: int
    winner: int
    loser: int
    weight: float


@dataclass(frozen=True)
class Ratings:
    rating: np.ndarray  # per model, on the Elo-like scale
    ci_low: np.ndarray
    ci_high: np.ndarray
    rounds: int


def _loss_grad_hess(theta: np.ndarray, wins: np.ndarray):
    """The negative log-likelihood (with the prior) of ``rounds`` win matrices, its gradient and Hessian.

    ``theta``: (rounds, m); ``wins``: (rounds, m, m), wins[r, i, j] being i's wins over j in round r.
    """
    diff = theta[:, :, None] - theta[:, None, :]
    loss = np.sum(wins * np.logaddexp(0.0, -diff), axis=(1, 2)) + PRIOR * 0.5 * np.sum(theta * theta, axis=1)
    p = 1.0 / (1.0 + np.exp(-diff))
    # d/dθ of −log σ(θi − θj) is −(1 − σ) for i, +(1 − σ) for j.
    pull = wins * (1.0 - p)
    grad = -(pull.sum(axis=2) - pull.sum(axis=1)) + PRIOR * theta
    games = (wins + np.swapaxes(wins, 1, 2)) * p * (1.0 - p)
    hess = -games
    diagonal = games.sum(axis=2) - np.diagonal(games, axis1=1, axis2=2) + PRIOR
    idx = np.arange(theta.shape[1])
    hess[:, idx, idx] = diagonal
    return loss, grad, hess


def _centred(theta: np.ndarray, wins: np.ndarray) -> np.ndarray:
    """θ of the models that played (NaN for the others), minus their mean."""
    played = (wins.sum(axis=-1) + wins.sum(axis=-2)) > 0
    theta = np.where(played, theta, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a round where nothing played: all NaN
        return theta - np.nanmean(theta, axis=-1, keepdims=True)


def _strengths(wins: np.ndarray) -> np.ndarray:
    """θ maximising the likelihood of one win matrix: scipy's trust-region Newton, gradient and Hessian exact."""
    m = wins.shape[0]

    def parts(theta):
        loss, grad, hess = _loss_grad_hess(theta[None, :], wins[None, :, :])
        return loss[0], grad[0], hess[0]

    theta = optimize.minimize(lambda t: parts(t)[:2], np.zeros(m), jac=True, hess=lambda t: parts(t)[2],
                              method="trust-exact", options={"gtol": 1e-8}).x
    return _centred(theta, wins)


def _strengths_batched(wins: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The same fit for many win matrices at once (the bootstrap's rounds): Newton steps, all rounds in one
    array operation, each step no longer than ``MAX_STEP`` so that a model that never lost cannot overshoot."""
    theta = np.repeat(start[None, :], wins.shape[0], axis=0)
    for _ in range(NEWTON_ITERATIONS):
        _, grad, hess = _loss_grad_hess(theta, wins)
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        size = np.max(np.abs(step), axis=1, keepdims=True)
        step *= np.minimum(1.0, MAX_STEP / np.maximum(size, 1e-300))
        theta -= step
        if float(size.max()) < 1e-9:
            break
    return _centred(theta, wins)


def _aligned(samples: np.ndarray, theta: np.ndarray, games: np.ndarray) -> np.ndarray:
    """Each round shifted so that its models, weighted by their games in the whole fit, sit where the whole fit
    puts them: a model of few games, in one round and not the next, must not move everyone else's scale."""
    present = ~np.isnan(samples)
    weight = np.where(present, games[None, :], 0.0)
    total = weight.sum(axis=1, keepdims=True)
    offset = np.nansum(weight * (np.nan_to_num(theta)[None, :] - np.nan_to_num(samples)), axis=1, keepdims=True)
    return samples + np.divide(offset, total, out=np.zeros_like(offset), where=total > 0)


def _likelihood_bounds(theta: np.ndarray, wins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per model, the θ (the others held at the fit) where the log-likelihood has fallen by χ²₁(95 %)/2
    below and above the fit: a likelihood-ratio interval, wide exactly where the votes say little.

    Found for every model at once: the step doubled until it crosses, then bisected.
    """
    fixed = np.nan_to_num(theta)

    def loss(x: np.ndarray) -> np.ndarray:
        diff = x[:, None] - fixed[None, :]
        return (np.sum(wins * np.logaddexp(0.0, -diff) + wins.T * np.logaddexp(0.0, diff), axis=1)
                + PRIOR * 0.5 * x * x)

    ceiling = loss(fixed) + CHI2_95 / 2
    bounds = []
    for direction in (-1.0, 1.0):
        near, far = np.zeros_like(fixed), np.ones_like(fixed)
        for _ in range(12):  # up to 2**12 in θ: past any rating a few votes can support
            inside = loss(fixed + direction * far) < ceiling
            near, far = np.where(inside, far, near), np.where(inside, far * 2, far)
        for _ in range(40):
            middle = (near + far) / 2
            inside = loss(fixed + direction * middle) < ceiling
            near, far = np.where(inside, middle, near), np.where(inside, far, middle)
        bounds.append(np.where(np.isnan(theta), np.nan, fixed + direction * far))
    return bounds[0], bounds[1]


def _win_matrices(outcomes: list[Outcome], votes: int, models: int) -> sparse.csr_matrix:
    """(votes × models²): row v holds the wins vote v adds to each (winner, loser) cell."""
    rows = np.fromiter((o.vote for o in outcomes), dtype=np.int64, count=len(outcomes))
    cells = np.fromiter((o.winner * models + o.loser for o in outcomes), dtype=np.int64, count=len(outcomes))
    weights = np.fromiter((o.weight for o in outcomes), dtype=np.float64, count=len(outcomes))
    return sparse.csr_matrix((weights, (rows, cells)), shape=(votes, models * models))


def bradley_terry(outcomes: list[Outcome], *, votes: int, models: int, rounds: int = DEFAULT_ROUNDS,
                  seed: int = DEFAULT_SEED) -> Ratings:
    """Ratings and 95 % bootstrap intervals of ``models`` models from the outcomes of ``votes`` votes."""
    per_vote = _win_matrices(outcomes, votes, models)
    wins = np.asarray(per_vote.sum(axis=0)).reshape(models, models)
    theta = _strengths(wins)
    games = np.where(np.isnan(theta), 0.0, wins.sum(axis=0) + wins.sum(axis=1))
    rng = np.random.default_rng(seed)
    # How often each vote is drawn in each round; one sparse product gives every round's win counts.
    picks = rng.integers(0, votes, size=(rounds, votes)) + np.arange(rounds)[:, None] * votes
    draws = np.bincount(picks.ravel(), minlength=rounds * votes).reshape(rounds, votes).astype(np.float64)
    resampled = np.asarray((sparse.csr_matrix(draws) @ per_vote).todense()).reshape(rounds, models, models)
    samples = _aligned(_strengths_batched(resampled, np.nan_to_num(theta)), theta, games)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a model in no round at all: NaN
        low, high = np.nanpercentile(samples, [2.5, 97.5], axis=0)
    # Moving one model moves the games-weighted centre by its share of the games: the rest of the move is
    # what its rating, measured against the centre, would see.
    share = 1.0 - games / games.sum()
    likely_low, likely_high = _likelihood_bounds(theta, wins)
    low = np.fmin(low, theta - share * (theta - likely_low))
    high = np.fmax(high, theta + share * (likely_high - theta))
    return Ratings(rating=MEAN_RATING + SCALE * theta, ci_low=MEAN_RATING + SCALE * low,
                   ci_high=MEAN_RATING + SCALE * high, rounds=rounds)
