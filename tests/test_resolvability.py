"""Unit tests of the resolvability study's counting and reweighting."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import resolvability as rs


def draws_with(weights, kappa, n=400):
    shape = (2, n // 2, len(weights))
    return {
        "weights": np.broadcast_to(weights, shape).copy(),
        "kappa": np.broadcast_to(kappa, shape).copy(),
        "sticks": np.ones((2, n // 2, len(weights) - 1)),
    }


@pytest.mark.parametrize(
    ("weights", "kappa", "expected"),
    [
        # two components 5x apart: two segments under every rule
        ([0.5, 0.45, 0.02, 0.02, 0.01], [0.1, 0.5, 0.8, 1.0, 1.2], (2, 2, 2)),
        # one segment split over components 1.2x apart: only median_weight says 2
        ([0.5, 0.45, 0.02, 0.02, 0.01], [0.1, 0.12, 0.8, 1.0, 1.2], (2, 1, 1)),
        ([0.96, 0.01, 0.01, 0.01, 0.01], [0.1, 0.5, 0.8, 1.0, 1.2], (1, 1, 1)),
    ],
)
def test_counting_rules(weights, kappa, expected):
    draws = draws_with(np.array(weights), np.array(kappa))
    rules = ("median_weight", "distinct_2x", "evidence")
    got = tuple(rs.count_segments(draws, rule, alpha=0.5) for rule in rules)
    assert got == expected


@pytest.mark.parametrize(("fitted", "target"), [(0.5, 0.3), (0.5, 1.0)])
def test_reweighting_recovers_the_target_exponential(fitted, target):
    # Draws of S ~ Exponential(fitted), reweighted to Exponential(target):
    # the weighted mean of each break must be 1 / target.
    rng = np.random.default_rng(0)
    sticks = rng.exponential(1 / fitted, size=(40_000, 2))
    w, khat, ess = rs.psis_weights(rs.log_importance_ratio(sticks, target, fitted))
    assert khat < 0.7
    np.testing.assert_allclose(w @ sticks, 1 / target, rtol=0.05)
    assert 100 < ess < len(sticks)


def test_weighted_median_matches_numpy_with_equal_weights():
    values = np.random.default_rng(1).normal(size=1001)
    weights = np.full(values.size, 1 / values.size)
    assert rs.weighted_median(values, weights) == np.median(values)


def test_grid_covers_the_base_point_first_at_every_alpha():
    points = rs.grid(ratios=(2.0, 5.0), seeds=(0,), null_seeds=(0, 1))
    first = points[: 3 * 3]  # seed 0: two ratios and the null, three alphas
    assert {p.alpha for p in first} == set(rs.FIT_ALPHAS)
    assert all(p.n_weeks == 156 and p.noise == 0.02 for p in first)
    assert len({p.key() for p in points}) == len(points)
    # the share variation has no null data
    assert not [p for p in points if p.is_null and p.share != 0.5]
