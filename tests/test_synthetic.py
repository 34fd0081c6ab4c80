"""Tests for :mod:`pmm_mixture.synthetic`."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

from pmm_mixture import synthetic
from pmm_mixture.hill import hill
from pmm_mixture.synthetic import (
    ChannelTruth,
    SyntheticMMMData,
    example_two_segment_data,
    geometric_adstock_numpy,
    make_mixture_mmm_data,
    min_segment_share,
)


@pytest.fixture(scope="module")
def sim() -> SyntheticMMMData:
    return make_mixture_mmm_data((1, 2, 1), seed=3)


@pytest.fixture(scope="module")
def example() -> SyntheticMMMData:
    return example_two_segment_data(seed=0)


def _assert_same(a: SyntheticMMMData, b: SyntheticMMMData) -> None:
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.contributions, b.contributions)
    assert a.channels == b.channels
    assert a.noise_sigma == b.noise_sigma


# ---------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------
def test_same_seed_gives_identical_data() -> None:
    _assert_same(make_mixture_mmm_data(seed=11), make_mixture_mmm_data(seed=11))
    _assert_same(
        make_mixture_mmm_data(seed=np.random.default_rng(5)),
        make_mixture_mmm_data(seed=np.random.default_rng(5)),
    )
    _assert_same(example_two_segment_data(2), example_two_segment_data(2))


def test_different_seed_gives_different_data() -> None:
    a, b = make_mixture_mmm_data(seed=0), make_mixture_mmm_data(seed=1)
    assert not np.allclose(a.data["y"], b.data["y"])
    assert not np.allclose(a.data[a.channel_columns], b.data[b.channel_columns])
    assert a.channels != b.channels


def test_modes_share_spend_for_a_seed() -> None:
    agg = make_mixture_mmm_data((1, 2), seed=4, mode="aggregate")
    lat = make_mixture_mmm_data((1, 2), seed=4, mode="latent")
    pd.testing.assert_frame_equal(agg.X, lat.X)
    assert agg.channels == lat.channels
    assert not np.allclose(agg.contributions["x2"], lat.contributions["x2"])


# ---------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------
def test_shapes_columns_dtypes(sim: SyntheticMMMData) -> None:
    assert sim.data.columns.tolist() == ["date", "x1", "x2", "x3", "y"]
    assert sim.date_column == "date" and sim.target_column == "y"
    assert sim.channel_columns == ["x1", "x2", "x3"]
    assert list(sim.channels) == sim.channel_columns
    assert sim.data.shape == (156, 5)
    assert pd.api.types.is_datetime64_any_dtype(sim.data["date"])
    dates = pd.DatetimeIndex(sim.data["date"])
    assert (dates.dayofweek == 0).all()
    assert (np.diff(dates.asi8) == np.diff(dates.asi8)[0]).all()
    assert pd.Timedelta(dates[1] - dates[0]) == pd.Timedelta(days=7)
    for col in [*sim.channel_columns, "y"]:
        assert sim.data[col].dtype == np.float64
    assert sim.X.columns.tolist() == ["date", *sim.channel_columns]
    assert isinstance(sim.y, pd.Series) and sim.y.name == "y"
    for frame in (sim.contributions, sim.adstocked_spend):
        assert frame.shape == (156, 3)
        assert frame.columns.tolist() == sim.channel_columns
        assert (frame.index == dates).all()
    assert sim.mode == "aggregate" and sim.l_max == 6
    assert sim.latent_segments is None
    assert [sim.channels[c].n_segments for c in sim.channel_columns] == [1, 2, 1]
    assert (sim.data["y"] > 0).all()


def test_int_n_segments_and_names() -> None:
    default = make_mixture_mmm_data(2, seed=1)
    assert default.channel_columns == ["x1", "x2", "x3", "x4"]
    assert all(ch.n_segments == 2 for ch in default.channels.values())
    named = make_mixture_mmm_data(
        3, seed=1, n_weeks=60, l_max=4, channel_names=["a", "b", "c"]
    )
    assert named.channel_columns == ["a", "b", "c"]
    assert named.data.shape == (60, 5)
    assert named.l_max == 4
    assert make_mixture_mmm_data(1, n_channels=5).channel_columns[-1] == "x5"


def test_split(sim: SyntheticMMMData) -> None:
    X_train, y_train, X_test, y_test = sim.split(n_test=16)
    assert len(X_train) == len(y_train) == 140
    assert len(X_test) == len(y_test) == 16
    assert X_test["date"].min() > X_train["date"].max()
    pd.testing.assert_frame_equal(pd.concat([X_train, X_test]), sim.X)
    pd.testing.assert_series_equal(pd.concat([y_train, y_test]), sim.y)
    assert y_test.name == "y"


# ---------------------------------------------------------------------------
# True parameters
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("ks", [(1, 2, 1), (3, 3, 3), (5, 1, 2, 4), (2,) * 6])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kappa_increasing_and_inside_observed_range(ks, seed) -> None:
    s = make_mixture_mmm_data(ks, seed=seed)
    for name in s.channel_columns:
        ch, a = s.channels[name], s.adstocked_spend[name]
        assert np.all(np.diff(ch.kappa) > 0)
        assert a.min() < ch.kappa[0] and ch.kappa[-1] < a.max()
        assert ch.kappa[0] >= 0.14 * a.max() and ch.kappa[-1] <= 0.91 * a.max()
        if ch.n_segments == 2:
            assert ch.kappa[1] / ch.kappa[0] >= 2.0
        assert np.all((ch.slope >= 1.5) & (ch.slope <= 4.0))


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_weights_on_simplex_with_min_share(k) -> None:
    for seed in range(5):
        s = make_mixture_mmm_data(k, seed=seed, n_channels=3)
        for ch in s.channels.values():
            assert ch.weights.shape == (k,)
            assert ch.weights.sum() == pytest.approx(1.0, abs=1e-12)
            assert ch.weights.min() >= min_segment_share(k) - 1e-12
    assert min_segment_share(4) == 0.15
    assert min_segment_share(5) == pytest.approx(0.08)


def test_channel_truth_validation_and_immutability() -> None:
    w = np.array([0.4, 0.6])
    ch = ChannelTruth("c", 10.0, w, np.array([1.0, 3.0]), np.array([2.0, 2.0]), 0.5)
    w[0] = 0.9
    assert ch.weights[0] == 0.4
    with pytest.raises(ValueError):
        ch.kappa[0] = 5.0
    with pytest.raises(ValueError, match="strictly increasing"):
        ChannelTruth("c", 1.0, [0.5, 0.5], [3.0, 1.0], [2.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="sum to 1"):
        ChannelTruth("c", 1.0, [0.5, 0.6], [1.0, 3.0], [2.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="adstock_alpha"):
        ChannelTruth("c", 1.0, [1.0], [1.0], [2.0], 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        ch.curve(np.array([-1.0]))


def test_curve_and_segment_curves() -> None:
    ch = ChannelTruth("c", 100.0, [0.3, 0.7], [2.0, 8.0], [2.0, 3.0], 0.5)
    x = np.array([[0.0, 2.0], [8.0, 1e9]])
    seg = ch.segment_curves(x)
    assert seg.shape == (2, 2, 2)
    np.testing.assert_allclose(seg[0], 30.0 * x**2 / (4.0 + x**2))
    np.testing.assert_allclose(seg[1], 70.0 * x**3 / (512.0 + x**3))
    np.testing.assert_allclose(ch.curve(x), seg.sum(axis=0))
    assert ch.curve(0.0) == 0.0
    assert ch.curve(1e12) == pytest.approx(100.0)
    xs = np.linspace(0.5, 20.0, 7)
    h = 1e-6
    num = (ch.curve(xs + h) - ch.curve(xs - h)) / (2 * h)
    np.testing.assert_allclose(ch.curve_derivative(xs), num, rtol=1e-5)
    np.testing.assert_allclose(hill([0.0, 2.0, 4.0], 2.0, 2.0), [0.0, 0.5, 0.8])


# ---------------------------------------------------------------------------
# Spend realism
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_spend_has_zero_weeks_positive_correlation_and_scales(seed) -> None:
    s = make_mixture_mmm_data(seed=seed, n_segments=(1, 2, 1, 1))
    spend = s.data[s.channel_columns]
    assert (spend >= 0).all().all()
    assert ((spend == 0).sum() > 0).all()
    assert ((spend == 0).mean() < 0.4).all()
    # Spend levels share a latent factor (loadings 0.45-0.7); over a long
    # series the correlation of the weeks when every channel is on is clearly
    # positive (156 weeks leave only ~40 such weeks, too few to test it).
    long = make_mixture_mmm_data(seed=seed, n_segments=(1, 2, 1, 1), n_weeks=1560)
    long_spend = long.data[long.channel_columns]
    active = long_spend[(long_spend > 0).all(axis=1)]
    corr_active = active.corr().to_numpy()[np.triu_indices(4, 1)]
    assert corr_active.min() > 0.05 and corr_active.mean() > 0.2
    corr = long_spend.corr().to_numpy()[np.triu_indices(4, 1)]
    assert corr.min() > 0.0
    maxima = spend.max()
    assert maxima.min() > 1_000 and maxima.max() < 100_000
    assert maxima.max() / maxima.min() > 3.0


def test_contribution_and_noise_magnitudes(sim: SyntheticMMMData) -> None:
    mean_sales = sim.y.mean()
    assert 1_000 < mean_sales < 100_000
    share = sim.contributions.max() / mean_sales
    assert ((share > 0.08) & (share < 0.32)).all()


# ---------------------------------------------------------------------------
# Adstock and contributions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("alpha", "l_max"), [(0.55, 6), (0.1, 3), (0.9, 12)])
def test_numpy_adstock_matches_pymc_marketing(alpha, l_max) -> None:
    import pytensor.tensor as pt
    import pytensor.xtensor as ptx
    from pymc_marketing.mmm.transformers import geometric_adstock

    x = np.random.default_rng(0).gamma(2.0, 100.0, size=40)
    x[5:8] = 0.0
    x_xt = ptx.as_xtensor(pt.as_tensor_variable(x), dims=("date",))
    expected = geometric_adstock(
        x_xt, alpha=alpha, l_max=l_max, normalize=True, dim="date"
    ).eval()
    np.testing.assert_allclose(
        geometric_adstock_numpy(x, alpha, l_max), np.asarray(expected), atol=1e-10
    )
    x2 = np.column_stack([x, 2 * x])
    np.testing.assert_allclose(
        geometric_adstock_numpy(x2.T, alpha, l_max, axis=1)[1],
        2 * np.asarray(expected),
        atol=1e-9,
    )


def test_adstock_of_constant_spend_reaches_the_spend() -> None:
    a = geometric_adstock_numpy(np.full(20, 250.0), 0.7, 6)
    assert a[0] < 250.0
    np.testing.assert_allclose(a[5:], 250.0)


def test_contributions_equal_curve_of_adstocked_spend(sim: SyntheticMMMData) -> None:
    for name in sim.channel_columns:
        ch = sim.channels[name]
        adstocked = geometric_adstock_numpy(
            sim.data[name].to_numpy(), ch.adstock_alpha, sim.l_max
        )
        np.testing.assert_allclose(sim.adstocked_spend[name], adstocked, rtol=1e-12)
        np.testing.assert_allclose(
            sim.contributions[name], ch.curve(adstocked), rtol=1e-12
        )


@pytest.mark.parametrize("noise", [0.02, 0.04, 0.1])
def test_noise_level(noise) -> None:
    s = make_mixture_mmm_data(seed=8, noise=noise)
    resid = s.y.to_numpy() - s.contributions.sum(axis=1).to_numpy()
    resid = resid - s.baseline.to_numpy()
    np.testing.assert_allclose(
        s.baseline, s.baseline_components.sum(axis=1), rtol=1e-12
    )
    assert resid.std() / (noise * s.y.mean()) == pytest.approx(1.0, rel=0.3)
    assert resid.std() / s.noise_sigma == pytest.approx(1.0, rel=0.3)


def test_zero_noise_is_exact() -> None:
    s = make_mixture_mmm_data(seed=2, noise=0.0)
    assert s.noise_sigma == 0.0
    np.testing.assert_allclose(
        s.y.to_numpy(),
        s.baseline.to_numpy() + s.contributions.sum(axis=1).to_numpy(),
        rtol=1e-12,
    )


def test_latent_mode_draws_one_segment_per_week() -> None:
    s = make_mixture_mmm_data((1, 2, 1), mode="latent", seed=6)
    assert s.mode == "latent"
    ch = s.channels["x2"]
    a = s.adstocked_spend["x2"].to_numpy()
    per_segment = ch.beta * hill(a[None, :], ch.slope[:, None], ch.kappa[:, None])
    diff = np.abs(per_segment - s.contributions["x2"].to_numpy()[None, :])
    assert diff.min(axis=0).max() < 1e-9 * ch.beta
    chosen = diff.argmin(axis=0)
    # only compare weeks where the two segments give distinguishable values
    distinct = np.abs(per_segment[0] - per_segment[1]) > 1e-6 * ch.beta
    assert set(chosen[distinct]) == {0, 1}
    np.testing.assert_array_equal(
        chosen[distinct], s.latent_segments["x2"].to_numpy()[distinct]
    )
    frac0 = (s.latent_segments["x2"] == 0).mean()
    assert abs(frac0 - ch.weights[0]) < 0.15
    # single-segment channels are unaffected by the latent draw
    np.testing.assert_allclose(
        s.contributions["x1"], s.channels["x1"].curve(s.adstocked_spend["x1"])
    )


# ---------------------------------------------------------------------------
# Response oracle and optimiser
# ---------------------------------------------------------------------------
def test_true_response_of_constant_spend(sim: SyntheticMMMData) -> None:
    spend = {"x1": 1500.0, "x2": 800.0, "x3": 0.0}
    expected = sum(sim.channels[c].curve(v) for c, v in spend.items())
    assert sim.true_response(spend) == pytest.approx(expected, rel=1e-12)
    assert sim.true_response(spend, n_weeks=4) == pytest.approx(4 * expected)
    assert sim.true_response(np.array([1500.0, 800.0, 0.0])) == pytest.approx(expected)
    # steady state of the adstocked weekly simulation with that constant spend
    week_20 = sum(
        sim.channels[c].curve(
            geometric_adstock_numpy(
                np.full(20, v), sim.channels[c].adstock_alpha, sim.l_max
            )
        )[-1]
        for c, v in spend.items()
    )
    assert sim.true_response(spend) == pytest.approx(week_20, rel=1e-12)
    assert sim.true_response({"x1": 0.0, "x2": 0.0, "x3": 0.0}) == 0.0


def _random_feasible(rng, budget, lower, upper, n) -> np.ndarray:
    out: list[np.ndarray] = []
    while len(out) < n:
        cand = lower + (budget - lower.sum()) * rng.dirichlet(np.ones(len(lower)))
        if np.all(cand <= upper):
            out.append(cand)
    return np.array(out)


@pytest.mark.parametrize("use_bounds", [False, True])
def test_optimal_allocation(example: SyntheticMMMData, use_bounds: bool) -> None:
    names = example.channel_columns
    budget = float(example.data[names].mean().sum())
    if use_bounds:
        bounds = {"tv": (2_000.0, 12_000.0), "social": (500.0, 3_000.0)}
        lower = np.array([2_000.0, 0.0, 500.0])
        upper = np.array([12_000.0, budget, 3_000.0])
    else:
        bounds = None
        lower, upper = np.zeros(3), np.full(3, budget)
    bounds_before = None if bounds is None else dict(bounds)
    alloc = example.optimal_allocation(budget, bounds=bounds)
    assert bounds == bounds_before
    assert list(alloc) == names
    x = np.array([alloc[c] for c in names])
    assert x.sum() == pytest.approx(budget, rel=1e-9)
    assert np.all(x >= lower - 1e-9) and np.all(x <= upper + 1e-9)
    best = example.true_response(alloc)
    equal = np.clip(np.full(3, budget / 3), lower, upper)
    if np.isclose(equal.sum(), budget):
        assert best >= example.true_response(equal) - 1e-9
    rng = np.random.default_rng(123)
    randoms = _random_feasible(rng, budget, lower, upper, 1000)
    values = [example.true_response(r) for r in randoms]
    assert best >= max(values) - 1e-9 * abs(best)


def test_optimal_allocation_beats_equal_split_on_generic_data() -> None:
    s = make_mixture_mmm_data((2, 1, 3, 1), seed=9)
    budget = float(s.data[s.channel_columns].mean().sum())
    alloc = s.optimal_allocation(budget)
    equal = {c: budget / 4 for c in s.channel_columns}
    assert s.true_response(alloc) >= s.true_response(equal) - 1e-9
    assert sum(alloc.values()) == pytest.approx(budget, rel=1e-9)
    assert min(alloc.values()) >= 0.0


def test_optimal_allocation_with_pinned_bounds(sim: SyntheticMMMData) -> None:
    bounds = {"x1": (100.0, 100.0), "x2": (200.0, 200.0), "x3": (300.0, 300.0)}
    alloc = sim.optimal_allocation(600.0, bounds=bounds)
    assert alloc == pytest.approx({"x1": 100.0, "x2": 200.0, "x3": 300.0})


# ---------------------------------------------------------------------------
# Built-in example
# ---------------------------------------------------------------------------
def test_example_structure(example: SyntheticMMMData) -> None:
    assert example.channel_columns == ["tv", "search", "social"]
    assert example.mode == "aggregate" and example.data.shape == (156, 5)
    assert [example.channels[c].n_segments for c in example.channel_columns] == [
        1,
        2,
        1,
    ]
    search = example.channels["search"]
    np.testing.assert_allclose(search.weights, [0.5, 0.5])
    assert search.kappa[1] / search.kappa[0] >= 3.0
    assert np.all(search.slope >= 3.0)
    assert example.noise_sigma / example.y.mean() == pytest.approx(0.02, rel=0.05)


def test_example_search_channel_is_not_a_single_hill(example: SyntheticMMMData) -> None:
    search = example.channels["search"]
    a_max = example.adstocked_spend["search"].max()
    x = np.linspace(0.0, a_max, 400)
    f = search.curve(x)

    def resid(p: np.ndarray) -> np.ndarray:
        return p[0] * hill(x, p[2], p[1] * a_max) - f

    best = None
    for k0 in (0.05, 0.1, 0.2, 0.35, 0.5, 0.8, 1.5):
        for s0 in (0.7, 1.0, 1.5, 2.5, 4.0):
            fit = least_squares(
                resid,
                [f.max(), k0, s0],
                bounds=([0.0, 1e-3, 0.1], [50 * f.max(), 20.0, 20.0]),
            )
            if best is None or fit.cost < best.cost:
                best = fit
    rel_err = np.abs(best.fun).max() / f.max()
    assert rel_err > 0.05
    # sanity: the same fit recovers a genuine single Hill curve almost exactly
    tv = example.channels["tv"]
    tv_max = example.adstocked_spend["tv"].max()
    xt = np.linspace(0.0, tv_max, 400)
    ft = tv.curve(xt)
    fit_tv = least_squares(
        lambda p: p[0] * hill(xt, p[2], p[1] * tv_max) - ft,
        [ft.max(), 0.5, 1.5],
        bounds=([0.0, 1e-3, 0.1], [50 * ft.max(), 20.0, 20.0]),
    )
    assert np.abs(fit_tv.fun).max() / ft.max() < 1e-4


# ---------------------------------------------------------------------------
# Validation and non-mutation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_segments": (1, 0, 2)}, "n_segments"),
        ({"n_segments": (1, 2.5)}, "n_segments"),
        ({"n_segments": 0}, "n_segments"),
        ({"n_segments": ()}, "n_segments"),
        ({"n_segments": "12"}, "n_segments"),
        ({"n_segments": (1, True)}, "n_segments"),
        ({"n_weeks": 10}, "n_weeks"),
        ({"n_weeks": 24, "l_max": 24}, "n_weeks"),
        ({"n_weeks": 100.0}, "n_weeks"),
        ({"l_max": 0}, "l_max"),
        ({"mode": "mixture"}, "mode"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"channel_names": ["a", "b"]}, "channel_names"),
        ({"channel_names": ["a", "a", "b"]}, "channel_names"),
        ({"channel_names": ["a", "y", "b"]}, "channel_names"),
        ({"n_segments": (1, 2), "n_channels": 3}, "n_channels"),
        ({"n_segments": 2, "n_channels": 0}, "n_channels"),
    ],
)
def test_generator_validation(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        make_mixture_mmm_data(**kwargs)


@pytest.mark.parametrize(
    ("budget", "bounds", "match"),
    [
        (0.0, None, "total_budget"),
        (-5.0, None, "total_budget"),
        (float("inf"), None, "total_budget"),
        (100.0, {"x1": (60.0, 70.0), "x2": (60.0, 70.0)}, "infeasible"),
        (100.0, {"x1": (0, 10), "x2": (0, 10), "x3": (0, 10)}, "infeasible"),
        (100.0, {"x1": (50.0, 10.0)}, "bounds"),
        (100.0, {"x1": (-1.0, 10.0)}, "bounds"),
        (100.0, {"tv": (0.0, 10.0)}, "unknown channels"),
    ],
)
def test_optimal_allocation_validation(sim, budget, bounds, match) -> None:
    with pytest.raises(ValueError, match=match):
        sim.optimal_allocation(budget, bounds=bounds)


def test_oracle_validation(sim: SyntheticMMMData) -> None:
    with pytest.raises(ValueError, match="missing channels"):
        sim.true_response({"x1": 1.0})
    with pytest.raises(ValueError, match="unknown channels"):
        sim.true_response({"x1": 1.0, "x2": 1.0, "x3": 1.0, "tv": 1.0})
    with pytest.raises(ValueError, match="shape"):
        sim.true_response(np.ones(2))
    with pytest.raises(ValueError, match="non-negative"):
        sim.true_response(np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="n_weeks"):
        sim.true_response(np.ones(3), n_weeks=0)
    with pytest.raises(ValueError, match="n_test"):
        sim.split(156)
    with pytest.raises(ValueError, match="n_test"):
        sim.split(0)
    with pytest.raises(ValueError, match="alpha"):
        geometric_adstock_numpy(np.ones(5), 1.0)
    with pytest.raises(ValueError, match="l_max"):
        geometric_adstock_numpy(np.ones(5), 0.5, l_max=0)


def test_inputs_are_not_mutated(sim: SyntheticMMMData) -> None:
    ks, names = [1, 2, 1], ["a", "b", "c"]
    make_mixture_mmm_data(ks, channel_names=names, seed=0)
    assert ks == [1, 2, 1] and names == ["a", "b", "c"]
    spend = {"x1": 10.0, "x2": 20.0, "x3": 30.0}
    arr = np.array([10.0, 20.0, 30.0])
    sim.true_response(spend)
    sim.true_response(arr)
    assert spend == {"x1": 10.0, "x2": 20.0, "x3": 30.0}
    np.testing.assert_array_equal(arr, [10.0, 20.0, 30.0])
    x = np.array([1.0, 0.0, 3.0])
    geometric_adstock_numpy(x, 0.5, 3)
    np.testing.assert_array_equal(x, [1.0, 0.0, 3.0])
    # the X / y accessors hand out copies
    X = sim.X
    X.iloc[0, 1] = -1.0
    assert sim.data.iloc[0, 1] != -1.0


def test_docstring_examples_run() -> None:
    result = doctest.testmod(synthetic, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5
    assert result.failed == 0


# --- resolvability and geo-panel data ---------------------------------------
def test_two_segment_data_sets_the_structure():
    from pmm_mixture.synthetic import make_two_segment_data

    sim = make_two_segment_data(5.0, share=0.2, slope=2.0, n_weeks=104, seed=3)
    truth = sim.channels["x1"]
    np.testing.assert_allclose(truth.kappa[1] / truth.kappa[0], 5.0)
    # geometric mean of the kappas at 0.25 of the largest adstocked spend
    a_max = sim.adstocked_spend["x1"].max()
    np.testing.assert_allclose(np.sqrt(truth.kappa.prod()) / a_max, 0.25)
    assert truth.weights.tolist() == [0.8, 0.2]
    assert truth.slope.tolist() == [2.0, 2.0]
    assert sim.n_weeks == 104
    # the channel's largest weekly contribution is 25 % of mean sales
    np.testing.assert_allclose(
        sim.contributions["x1"].max(), 0.25 * sim.y.mean(), rtol=0.05
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kappa_ratio": 1.0}, "kappa_ratio"),
        ({"kappa_ratio": 2.0, "share": 1.0}, "share"),
        ({"kappa_ratio": 2.0, "slope": 0.0}, "slope"),
        ({"kappa_ratio": 2.0, "n_weeks": 10}, "n_weeks"),
    ],
)
def test_two_segment_data_rejects_bad_arguments(kwargs, message):
    from pmm_mixture.synthetic import make_two_segment_data

    with pytest.raises(ValueError, match=message):
        make_two_segment_data(**kwargs)


def test_geo_panel_shares_shapes_and_varies_the_mix():
    from pmm_mixture.synthetic import make_geo_panel_data

    panel = make_geo_panel_data((2, 3, 1), n_geos=5, n_weeks=60, seed=2)
    assert panel.geos == [f"geo{g}" for g in range(5)]
    first = panel.markets["geo0"].channels
    for market in panel.markets.values():
        for name, truth in market.channels.items():
            np.testing.assert_allclose(truth.kappa, first[name].kappa)
            np.testing.assert_allclose(truth.slope, first[name].slope)
            assert truth.adstock_alpha == first[name].adstock_alpha
    # neighbouring segments at least 4x apart, slopes >= 2.5
    for truth in first.values():
        assert (truth.kappa[1:] / truth.kappa[:-1] >= 4 - 1e-9).all()
        assert (truth.slope >= 2.5).all()
    shares = np.array([m.channels["x2"].weights for m in panel.markets.values()])
    assert shares.std(axis=0).max() > 0.02
    X, y, X_test, _ = panel.split(10)
    assert len(X) == 5 * 50 and len(X_test) == 5 * 10
    assert X["geo"].value_counts().tolist() == [50] * 5
    assert y.name == "y" and len(y) == len(X)


def test_geo_panel_without_spread_has_one_mix():
    from pmm_mixture.synthetic import make_geo_panel_data

    panel = make_geo_panel_data(2, n_geos=3, n_weeks=40, share_spread=0.0, seed=1)
    for name, shared in panel.shared_weights.items():
        for market in panel.markets.values():
            np.testing.assert_allclose(market.channels[name].weights, shared)
