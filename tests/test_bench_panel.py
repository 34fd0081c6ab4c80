"""Data and metrics of the separated, geo and lift tiers (mmm_bench.data, .panel).

No MCMC: the separated data's segment shapes, the lift-test table against a
known truth, the per-geo regret aggregation and segment-count accuracy on
hand-made numbers, the per-geo budget constraints on a symbolic budget; one
slow test builds (does not fit) a geo MMM and a lift-test MMM through the
worker's build path.
"""

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
sp = importlib.import_module("mmm_bench.specs")
bm = importlib.import_module("mmm_bench.metrics")
bd = importlib.import_module("mmm_bench.data")
pn = importlib.import_module("mmm_bench.panel")
wk = importlib.import_module("mmm_bench.worker")


# ---------------------------------------------------------------------------
# Separated data
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("k_true", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_separated_segments_are_at_least_4x_apart_with_steep_slopes(k_true, seed):
    data = bd.make_separated_data(k_true, seed=seed)
    assert data.channel_columns == ["x1", "x2", "x3"]
    for channel in data.channel_columns:
        truth = data.channels[channel]
        assert truth.n_segments == k_true
        assert (truth.kappa[1:] / truth.kappa[:-1] >= sp.MIN_KAPPA_RATIO).all()
        assert (truth.slope >= 2.5).all()
        # the top segment half-saturates inside the observed adstocked spend
        assert truth.kappa[-1] <= 0.9 * data.adstocked_spend[channel].max() + 1e-9
        assert truth.weights.min() >= 0.15 - 1e-12


def test_separated_data_share_spend_and_baseline_with_the_aggregate_data():
    from pmm_mixture.synthetic import make_mixture_mmm_data

    separated = bd.make_separated_data(3, seed=2, noise=sp.NOISE)
    aggregate = make_mixture_mmm_data(3, n_channels=3, seed=2, noise=sp.NOISE)
    columns = separated.channel_columns
    pd.testing.assert_frame_equal(separated.data[columns], aggregate.data[columns])
    pd.testing.assert_series_equal(separated.baseline, aggregate.baseline)
    assert separated.mode == "aggregate"
    # the segment shapes differ from the aggregate data's draws
    assert not np.allclose(
        separated.channels["x1"].kappa, aggregate.channels["x1"].kappa
    )
    # and are reproducible
    again = bd.make_separated_data(3, seed=2)
    assert again.channels["x2"] == separated.channels["x2"]


def test_prepare_data_of_the_separated_mode():
    (spec,) = [
        s
        for s in sp.build_specs("separated", sp.TIERS["separated"], ["hill"])
        if s.k_true == 2 and s.seed == 1
    ]
    data, X_train, _, X_test, _ = wk.prepare_data(spec)
    assert data.channels["x1"] == bd.make_separated_data(2, seed=1).channels["x1"]
    assert len(X_train) == sp.N_WEEKS - sp.N_TEST and len(X_test) == sp.N_TEST
    assert X_train["trend"].iloc[0] == 0.0 and X_test["trend"].iloc[-1] == 1.0


# ---------------------------------------------------------------------------
# Lift tests from the truth
# ---------------------------------------------------------------------------
def hill_by_hand(x, beta, weights, kappa, slope):
    return beta * sum(
        w * x**s / (k**s + x**s) for w, k, s in zip(weights, kappa, slope, strict=True)
    )


def test_lift_test_table_is_the_true_curve_difference():
    from pmm_mixture.synthetic import ChannelTruth

    truth = ChannelTruth(
        name="tv",
        beta=1000.0,
        weights=np.array([0.5, 0.5]),
        kappa=np.array([100.0, 400.0]),
        slope=np.array([3.0, 3.0]),
        adstock_alpha=0.3,
    )
    flat = ChannelTruth(
        name="radio",
        beta=50.0,
        weights=np.array([1.0]),
        kappa=np.array([30.0]),
        slope=np.array([2.0]),
        adstock_alpha=0.5,
    )
    spend = pd.DataFrame({"tv": [0.0, 200.0, 500.0, 800.0], "radio": [40.0] * 4})
    data = SimpleNamespace(
        data=spend,
        channel_columns=["tv", "radio"],
        channels={"tv": truth, "radio": flat},
    )
    # the largest spend of the first three weeks (training): tv 500, radio 40
    table = bd.lift_test_table(data, (0.25, 0.9), 0.1, 0.1, n_train=3)
    assert list(table.columns) == [
        "channel",
        "x",
        "delta_x",
        "delta_y",
        "sigma",
        "level",
    ]
    assert list(table["channel"]) == ["tv", "tv", "radio", "radio"]
    tv = table[table["channel"] == "tv"].reset_index(drop=True)
    np.testing.assert_allclose(tv["x"], [125.0, 450.0])
    np.testing.assert_allclose(tv["delta_x"], [50.0, 50.0])
    params = (1000.0, [0.5, 0.5], [100.0, 400.0], [3.0, 3.0])
    expected = [
        hill_by_hand(175.0, *params) - hill_by_hand(125.0, *params),
        hill_by_hand(500.0, *params) - hill_by_hand(450.0, *params),
    ]
    np.testing.assert_allclose(tv["delta_y"], expected, rtol=1e-12)
    np.testing.assert_allclose(tv["sigma"], 0.1 * np.array(expected), rtol=1e-12)
    radio = table[table["channel"] == "radio"].reset_index(drop=True)
    np.testing.assert_allclose(radio["x"], [10.0, 36.0])
    np.testing.assert_allclose(
        radio["delta_y"],
        [
            hill_by_hand(14.0, 50.0, [1.0], [30.0], [2.0])
            - hill_by_hand(10.0, 50.0, [1.0], [30.0], [2.0]),
            hill_by_hand(40.0, 50.0, [1.0], [30.0], [2.0])
            - hill_by_hand(36.0, 50.0, [1.0], [30.0], [2.0]),
        ],
    )
    # all weeks: tv's largest spend is 800
    assert bd.lift_test_table(data)["x"].iloc[0] == pytest.approx(0.25 * 800.0)


def test_lift_test_table_of_benchmark_data_uses_the_truth():
    data = bd.make_separated_data(2, seed=0)
    table = bd.lift_test_table(data, n_train=sp.N_WEEKS - sp.N_TEST)
    assert len(table) == 2 * len(data.channel_columns)
    for row in table.itertuples(index=False):
        truth = data.channels[row.channel]
        assert row.delta_y == pytest.approx(
            float(truth.curve(row.x + row.delta_x) - truth.curve(row.x))
        )
        largest = data.data[row.channel].iloc[: sp.N_WEEKS - sp.N_TEST].max()
        assert row.x == pytest.approx(row.level * largest)
        assert row.delta_x == pytest.approx(sp.LIFT_DELTA * largest)
        assert row.sigma == pytest.approx(sp.LIFT_SIGMA * row.delta_y)
        assert row.delta_y > 0


# ---------------------------------------------------------------------------
# Geo panel: budget regret per geo, segment counts
# ---------------------------------------------------------------------------
def test_panel_regret_averages_the_geos_own_regrets():
    # geo a: optimum 100, the recommendation gets 90 (10 %); geo b: 300 and
    # 297 (1 %); geo c: the recommendation is the optimum (0 %)
    responses = {"a": (90.0, 100.0), "b": (297.0, 300.0), "c": (50.0, 50.0)}
    per_geo = {
        geo: bm.budget_regret(
            lambda spend: spend["x"], {"x": recommended}, {"x": optimal}
        )
        for geo, (recommended, optimal) in responses.items()
    }
    assert per_geo["a"]["regret_pct"] == pytest.approx(10.0)
    regret = pn.panel_regret(per_geo)
    assert regret["regret_pct"] == pytest.approx((10.0 + 1.0 + 0.0) / 3)
    # pooled: (450 - 437) / 450
    assert regret["regret_pooled_pct"] == pytest.approx(100 * 13 / 450)
    assert regret["response_recommended"] == pytest.approx(437.0)
    assert regret["response_optimal"] == pytest.approx(450.0)
    with pytest.raises(ValueError, match="No geos"):
        pn.panel_regret({})


def test_geo_budgets_and_per_geo_constraints():
    import pytensor.tensor as pt
    from pytensor.xtensor import as_xtensor

    X = pd.DataFrame(
        {
            "geo": ["a", "a", "b", "b"],
            "x1": [1.0, 3.0, 10.0, 30.0],
            "x2": [0.0, 2.0, 5.0, 5.0],
        }
    )
    budgets = pn.geo_budgets(X, ["x1", "x2"])
    assert budgets == {"a": pytest.approx(3.0), "b": pytest.approx(25.0)}
    constraints = pn.per_geo_constraints(budgets, ["b", "a"])
    assert [c.key for c in constraints] == ["budget_b", "budget_a"]
    assert {c.constraint_type for c in constraints} == {"eq"}
    symbol = as_xtensor(pt.matrix("budgets"), dims=("geo", "channel"))
    spend = np.array([[20.0, 5.0], [1.0, 1.0]])  # geo b, then geo a
    values = [
        float(c.constraint_fun(symbol, None, None).values.eval({"budgets": spend}))
        for c in constraints
    ]
    assert values == pytest.approx([0.0, -1.0])  # b sums to its 25, a to 2 of 3


def test_segment_counts_against_the_truth_of_a_panel():
    from pmm_mixture.synthetic import make_geo_panel_data

    panel = make_geo_panel_data(
        pn.segments_per_channel(3, 3), n_geos=2, n_weeks=40, seed=1
    )
    assert pn.segments_per_channel(3, 3) == (3, 1, 1)
    by_geo = pd.MultiIndex.from_product(
        [["geo0", "geo1"], ["x1", "x2", "x3"]], names=["geo", "channel"]
    )
    truth = pn.true_segments(panel, by_geo)
    assert truth.tolist() == [3, 1, 1, 3, 1, 1]
    # weights shared by the geos: one row per channel
    per_channel = pd.Index(["x3", "x1"], name="channel")
    assert pn.true_segments(panel, per_channel).tolist() == [1, 3]
    # single-market data
    single = bd.make_separated_data(2, seed=0)
    assert pn.true_segments(
        single, pd.Index(["x1", "x2"], name="channel")
    ).tolist() == [2, 2]
    # a posterior median of 1.5 is not a count
    assert pn.segment_accuracy([3, 1, 1.5, 2, 1, 1], truth) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="same length"):
        pn.segment_accuracy([1], truth)


def test_by_date_and_geo_reorders_long_rows():
    dates = pd.to_datetime(["2024-01-08", "2024-01-01"])
    X = pd.DataFrame({"date": list(dates) * 2, "geo": ["a", "a", "b", "b"]})
    table = pn.by_date_and_geo(X, [1.0, 2.0, 3.0, 4.0], ["b", "a"])
    # rows: 2024-01-01, 2024-01-08; columns: b, a
    np.testing.assert_array_equal(table, [[4.0, 2.0], [3.0, 1.0]])


def test_curve_errors_per_geo_and_channel():
    import xarray as xr

    panel = SimpleNamespace(
        channel_columns=["x1"],
        markets={
            g: SimpleNamespace(
                adstocked_spend=pd.DataFrame({"x1": [0.0, 10.0, 50.0, 100.0]}),
                channels={
                    "x1": SimpleNamespace(curve=lambda s, m=m: m * np.asarray(s))
                },
            )
            for g, m in (("a", 1.0), ("b", 2.0))
        },
    )
    x = np.linspace(0.0, 1.0, 11)
    # fitted: exact in geo a; twice the truth in geo b... the truth of b is 2x
    mean_curve = xr.DataArray(
        np.stack([100.0 * x, 100.0 * x * 2.2]),
        dims=("geo", "x"),
        coords={"geo": ["a", "b"], "x": x},
    ).expand_dims(channel=["x1"])
    scale = xr.DataArray([100.0], dims=("channel",), coords={"channel": ["x1"]})
    errors = pn.curve_errors(mean_curve, scale, panel, 4, bm.curve_recovery_error)
    assert errors["a"]["x1"] == {"max": 0.0, "mean": 0.0}
    # geo b: |2.2 - 2| s / (2 * 100) on s in [10, 100]: max 0.1
    assert errors["b"]["x1"]["max"] == pytest.approx(0.1)
    assert pn.mean_over(errors, "max") == pytest.approx(0.05)


def test_prepare_geo_data():
    spec = next(
        s
        for s in sp.build_specs("geo", sp.TIERS["geo"], ["hill"])
        if s.n_geos == 4 and s.k_true == 3
    )
    panel, X_train, y_train, X_test, y_test = pn.prepare_geo_data(spec)
    assert panel.geos == ["geo0", "geo1", "geo2", "geo3"]
    assert len(X_train) == 4 * (sp.N_WEEKS - sp.N_TEST) == len(y_train)
    assert len(X_test) == 4 * sp.N_TEST == len(y_test)
    assert y_train.name == "y"
    assert [
        panel.markets["geo2"].channels[c].n_segments for c in panel.channel_columns
    ] == [3, 1, 1]
    # the trend follows the date, the same in every geo
    first = X_train.groupby("geo")["trend"].first()
    assert (first == 0.0).all()
    assert (X_test.groupby("geo")["trend"].last() == 1.0).all()


# ---------------------------------------------------------------------------
# The worker's build path (no fit)
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_worker_builds_a_geo_mmm_and_lift_test_mmms():
    geo = next(
        s
        for s in sp.build_specs("geo", sp.TIERS["geo"], ["mixture_k5", "hill"])
        if s.n_geos == 4 and s.model == "mixture_k5"
    )
    data, X_train, y_train, _, _ = wk.prepare_data(geo)
    mmm, lift = wk.build_run_model(geo, data, X_train, y_train)
    assert lift is None
    mmm.build_model(X_train, y_train)
    dims = mmm.model.named_vars_to_dims
    # shares per geo pooled around a shared mix; shapes shared by the geos
    assert dims["saturation_weights"] == ("geo", "channel", "component")
    assert dims["saturation_weights_shared"] == ("channel", "component")
    assert dims["saturation_kappa"] == ("channel", "component")
    assert dims["saturation_slope"] == ("channel", "component")
    assert dims["saturation_beta"] == ("geo", "channel")
    assert list(mmm.model.coords["geo"]) == ["geo0", "geo1", "geo2", "geo3"]
    assert "mixture_weights" in geo.settings()

    for model in ("hill", "mixture_k5"):
        spec = next(
            s
            for s in sp.build_specs("lift", sp.TIERS["lift"], [model])
            if s.mode == "separated"
        )
        data, X_train, y_train, _, _ = wk.prepare_data(spec)
        mmm, lift = wk.build_run_model(spec, data, X_train, y_train)
        assert len(lift) == 2 * len(data.channel_columns)
        observed = mmm.model.rvs_to_values[mmm.model["lift_measurements"]]
        target_scale = float(mmm.get_scales_as_xarray()["target_scale"])
        np.testing.assert_allclose(
            np.asarray(observed.data), lift["delta_y"] / target_scale, rtol=1e-6
        )


@pytest.mark.slow
def test_lift_tests_match_the_model_at_the_true_parameters():
    """The lift table's units are the model's: at the data's true curves the
    model's estimated lift equals the measured one (a mismatch of channel or
    target scale, or of adstocked against raw spend, would show here)."""
    from pytensor import tensor as pt
    from pytensor.graph.replace import graph_replace

    spec = next(
        s
        for s in sp.build_specs("lift", sp.TIERS["lift"], ["mixture_k5"])
        if s.mode == "aggregate" and s.k_true == 2 and s.seed == 0
    )
    data, X_train, y_train, _, _ = wk.prepare_data(spec)
    mmm, lift = wk.build_run_model(spec, data, X_train, y_train)
    scales = mmm.get_scales_as_xarray()
    target_scale = float(scales["target_scale"])
    params = {"weights": [], "kappa": [], "slope": [], "beta": []}
    for channel in data.channel_columns:
        truth = data.channels[channel]
        scale = float(scales["channel_scale"].sel(channel=channel))
        pad = 5 - truth.n_segments  # surplus components: zero weight, far right
        last = truth.kappa[-1] / scale
        params["weights"].append(np.r_[truth.weights / truth.weights.sum(), [0] * pad])
        params["kappa"].append(
            np.r_[truth.kappa / scale, last * 3.0 ** np.arange(1, pad + 1)]
        )
        params["slope"].append(np.r_[truth.slope, [2.0] * pad])
        # beta: the response at the largest training spend, in target units
        params["beta"].append(float(truth.curve(scale)) / target_scale)
    model = mmm.model
    replacements = {
        model[f"saturation_{name}"]: pt.constant(np.asarray(values, dtype=float))
        for name, values in params.items()
    }
    (estimated,) = graph_replace(
        [model["lift_measurements_model_estimated_lift"]], replacements, strict=False
    )
    np.testing.assert_allclose(
        estimated.eval(), lift["delta_y"].to_numpy() / target_scale, rtol=1e-6
    )
