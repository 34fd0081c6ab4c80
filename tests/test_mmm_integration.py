"""Every PyMC-Marketing feature a user reaches for, with the mixture saturation.

Fits here are short (correctness of the plumbing, not of the posterior); the
recovery of known truth is tested in test_recovery.py.
"""

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pymc_marketing.mmm import MMM, GeometricAdstock, HillSaturation

from pmm_mixture import MixtureHillSaturation, OrderedKappa
from pmm_mixture.comparison import compare_models
from pmm_mixture.curves import mixture_curves
from pmm_mixture.diagnostics import check_convergence
from pmm_mixture.plot import plot_channel_curves
from pmm_mixture.summary import component_table, segment_report
from pmm_mixture.synthetic import make_mixture_mmm_data

matplotlib.use("Agg")

N_TRAIN = 70
SAMPLE = {"draws": 60, "tune": 100, "chains": 2, "progressbar": False}


@pytest.fixture(scope="module")
def data():
    sim = make_mixture_mmm_data((2, 1), n_weeks=80, seed=3, noise=0.03)
    X = sim.X.copy()
    X.loc[X.index[:4], "x2"] = 0.0  # zero-spend weeks at the start
    X["dead"] = 0.0  # a channel that never spends
    return X, sim.y


def make_mmm(channels=("x1", "x2"), n_components=3, **kwargs):
    return MMM(
        date_column="date",
        channel_columns=list(channels),
        target_column="y",
        adstock=GeometricAdstock(l_max=4),
        saturation=MixtureHillSaturation(n_components=n_components),
        **kwargs,
    )


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    mmm = make_mmm()
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    mmm.add_original_scale_contribution_variable(var=["channel_contribution"])
    mmm.fit(
        X.iloc[:N_TRAIN],
        y.iloc[:N_TRAIN],
        nuts_sampler="numpyro",
        random_seed=7,
        **SAMPLE,
    )
    return mmm


def test_numpyro_fit_creates_mixture_variables(fitted):
    posterior = fitted.idata.posterior
    assert posterior["saturation_weights"].dims[-2:] == ("channel", "component")
    assert posterior.sizes["component"] == 3
    np.testing.assert_allclose(posterior["saturation_weights"].sum("component"), 1.0)
    assert (posterior["saturation_kappa"].diff("component") > 0).all()
    assert np.isfinite(posterior["channel_contribution"]).all()


def test_zero_spend_weeks_and_all_zero_channel(data):
    X, y = data
    mmm = make_mmm(channels=("x1", "x2", "dead"))
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    model = mmm.model
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    rng = np.random.default_rng(0)
    for _ in range(20):
        # random points on the unconstrained space, well away from the start
        point = {
            name: value + rng.normal(0, 2, size=np.shape(value))
            for name, value in model.initial_point().items()
        }
        assert np.isfinite(logp(point))
        assert np.isfinite(dlogp(point)).all()
    prior = mmm.sample_prior_predictive(
        X.iloc[:N_TRAIN], y.iloc[:N_TRAIN], samples=50, extend_idata=True
    )
    contribution = mmm.idata.prior["channel_contribution"]
    assert np.isfinite(contribution).all()
    assert float(np.abs(contribution.sel(channel="dead")).max()) == 0.0
    x2_zero = contribution.sel(channel="x2").isel(date=slice(0, 4))
    assert float(np.abs(x2_zero).max()) == 0.0
    assert np.isfinite(prior["y"]).all()


def test_posterior_predictive_in_and_out_of_sample(fitted, data):
    X, y = data
    in_sample = fitted.sample_posterior_predictive(
        X.iloc[:N_TRAIN], extend_idata=False, progressbar=False
    )
    assert in_sample["y"].sizes["date"] == N_TRAIN
    out = fitted.sample_posterior_predictive(
        X.iloc[N_TRAIN:],
        extend_idata=False,
        include_last_observations=True,
        progressbar=False,
    )
    assert out["y"].sizes["date"] == len(X) - N_TRAIN
    assert np.isfinite(out["y"]).all()
    # predictions are on the model's scale: the target divided by its scale
    scale = float(fitted.idata.constant_data["target_scale"])
    assert (
        abs(float(out["y"].mean()) * scale / float(y.iloc[N_TRAIN:].mean()) - 1) < 0.2
    )


def test_contributions_in_original_scale(fitted):
    posterior = fitted.idata.posterior
    scale = float(fitted.idata.constant_data["target_scale"])
    np.testing.assert_allclose(
        posterior["channel_contribution_original_scale"],
        posterior["channel_contribution"] * scale,
        rtol=1e-10,
    )


def test_sample_curve_matches_component_curves(fitted):
    parameters = fitted.idata.posterior.dataset
    curve = fitted.saturation.sample_curve(parameters, max_value=1.5, num_points=7)
    ours = mixture_curves(fitted, max_value=1.5, n_points=7, original_scale=False)
    np.testing.assert_allclose(
        curve.transpose("chain", "draw", "channel", "x").values,
        ours["total"].transpose("chain", "draw", "channel", "x").values,
        rtol=1e-9,
        atol=1e-12,
    )
    _, axes = fitted.saturation.plot_curve(curve)
    assert len(axes.ravel()) == 2


def test_plot_suite(fitted):
    curve = fitted.sample_saturation_curve(num_samples=30, random_state=1)
    fig, axes = fitted.plot.saturation_curves(curve, original_scale=True, n_samples=5)
    assert len(np.ravel(axes)) >= 2
    fig, axes = fitted.plot.contributions_over_time(var=["channel_contribution"])
    assert fig is not None
    fig, axes = fitted.plot.saturation_scatterplot(original_scale=True)
    assert len(np.ravel(axes)) == 2


def test_budget_optimizer(fitted, data):
    X, _ = data
    last = X["date"].iloc[N_TRAIN - 1]
    optimizer = fitted.budget_optimizer(
        start_date=last + pd.Timedelta(weeks=1),
        end_date=last + pd.Timedelta(weeks=8),
    )
    total = float(X[["x1", "x2"]].iloc[:N_TRAIN].mean().sum())
    bounds = {"x1": (0.1 * total, 0.8 * total), "x2": (0.2 * total, 0.9 * total)}
    result = optimizer.allocate_budget(total_budget=total, budget_bounds=bounds)
    budgets = result.budgets.sel(channel=["x1", "x2"])
    assert float(budgets.sum()) == pytest.approx(total, rel=1e-6)
    for channel, (low, high) in bounds.items():
        value = float(budgets.sel(channel=channel))
        assert low - 1e-6 * total <= value <= high + 1e-6 * total


def test_convergence_check_fails_on_a_short_fit(fitted):
    # 2 chains x 60 draws cannot reach an ESS of 400: the check must say so
    report = check_convergence(fitted)
    assert not report.passed
    assert (report.table["ess_bulk_min"] < 400).any()
    assert any("ESS below 400" in message for message in report.messages)


def test_compare_with_single_curve(fitted, data):
    X, y = data
    hill = MMM(
        date_column="date",
        channel_columns=["x1", "x2"],
        target_column="y",
        adstock=GeometricAdstock(l_max=4),
        saturation=HillSaturation(),
    )
    hill.fit(
        X.iloc[:N_TRAIN],
        y.iloc[:N_TRAIN],
        nuts_sampler="numpyro",
        random_seed=7,
        **SAMPLE,
    )
    groups = set(fitted.idata.children)
    result = compare_models({"mixture": fitted, "hill": hill}, reference="hill")
    assert set(fitted.idata.children) == groups  # nothing added to the user's idata
    assert set(result.table.index) == {"mixture", "hill"}
    assert result.table.loc["hill", "elpd_diff"] == 0.0
    assert np.isfinite(result.table["elpd"]).all()
    assert result.table.loc["mixture", "diff_se"] > 0
    assert "hill" in result.verdict and "mixture" in result.verdict
    with pytest.raises(ValueError, match="not fitted with MixtureHillSaturation"):
        segment_report(hill)


def test_tools_refuse_an_unfitted_model():
    mmm = make_mmm()
    with pytest.raises(ValueError, match="fit the model first"):
        segment_report(mmm)
    with pytest.raises(ValueError, match="fit the model first"):
        plot_channel_curves(mmm)


def test_save_load_round_trip(fitted, tmp_path):
    path = tmp_path / "mixture.nc"
    fitted.save(str(path))
    loaded = MMM.load(str(path))
    assert isinstance(loaded.saturation, MixtureHillSaturation)
    assert loaded.saturation == fitted.saturation
    assert loaded.saturation.n_components == 3
    for name in ("saturation_weights", "saturation_kappa", "saturation_slope"):
        np.testing.assert_array_equal(
            loaded.idata.posterior[name].values, fitted.idata.posterior[name].values
        )
    curve = loaded.saturation.sample_curve(loaded.idata.posterior.dataset, num_points=5)
    assert np.isfinite(curve.values).all()
    # the mixture tools work on the restored model and agree with the original
    assert str(segment_report(loaded)) == str(segment_report(fitted))
    pd.testing.assert_frame_equal(
        check_convergence(loaded).table, check_convergence(fitted).table
    )
    fig, _ = plot_channel_curves(loaded)
    fig.savefig(tmp_path / "loaded.png")


def test_pymc_sampler(data):
    X, y = data
    mmm = make_mmm(n_components=2)
    mmm.fit(
        X.iloc[:N_TRAIN],
        y.iloc[:N_TRAIN],
        nuts_sampler="pymc",
        draws=20,
        tune=20,
        chains=1,
        random_seed=1,
        progressbar=False,
        compute_convergence_checks=False,
    )
    weights = mmm.idata.posterior["saturation_weights"]
    assert weights.sizes["draw"] == 20
    np.testing.assert_allclose(weights.sum("component"), 1.0)


def test_lift_test_calibration(data):
    X, y = data
    mmm = make_mmm(n_components=3)
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    lift = pd.DataFrame(
        {
            "channel": ["x1", "x2"],
            "x": [float(X["x1"].median()), float(X["x2"].median())],
            "delta_x": [0.3 * float(X["x1"].median()), 0.2 * float(X["x2"].median())],
            "delta_y": [80.0, 50.0],
            "sigma": [20.0, 15.0],
        }
    )
    mmm.add_lift_test_measurements(lift)
    assert "lift_measurements" in mmm.model.observed_RVs[-1].name
    mmm.fit(
        X.iloc[:N_TRAIN],
        y.iloc[:N_TRAIN],
        nuts_sampler="numpyro",
        random_seed=2,
        **SAMPLE,
    )
    estimated = mmm.idata.posterior["lift_measurements_model_estimated_lift"]
    assert estimated.sizes["_lift_measurements_dim"] == 2
    assert (estimated > 0).all()


def test_lift_test_missing_channel_column(data):
    X, y = data
    mmm = make_mmm()
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    lift = pd.DataFrame(
        {"x": [1.0], "delta_x": [1.0], "delta_y": [1.0], "sigma": [1.0]}
    )
    with pytest.raises(KeyError, match="'channel' column is required"):
        mmm.add_lift_test_measurements(lift)


def test_geo_dims(data):
    X, y = data
    X2 = X[["date", "x1", "x2"]].iloc[:N_TRAIN]
    Xg = pd.concat(
        [X2.assign(geo="north"), X2.assign(geo="south", x1=X2["x1"] * 0.7)],
        ignore_index=True,
    )
    yg = pd.Series(np.r_[y.iloc[:N_TRAIN], y.iloc[:N_TRAIN] * 0.9], name="y")
    per_geo = ("geo", "channel", "component")
    mmm = MMM(
        date_column="date",
        channel_columns=["x1", "x2"],
        target_column="y",
        dims=("geo",),
        adstock=GeometricAdstock(l_max=4),
        saturation=MixtureHillSaturation(
            n_components=2, priors={"kappa": OrderedKappa(dims=per_geo)}
        ),
    )
    mmm.build_model(Xg, yg)
    lift = pd.DataFrame(
        {
            "channel": ["x1"],
            "geo": ["south"],
            "x": [float(X2["x1"].median())],
            "delta_x": [500.0],
            "delta_y": [30.0],
            "sigma": [10.0],
        }
    )
    mmm.add_lift_test_measurements(lift)
    mmm.fit(Xg, yg, nuts_sampler="numpyro", random_seed=4, **SAMPLE)
    posterior = mmm.idata.posterior
    assert posterior["saturation_beta"].dims[-2:] == ("geo", "channel")
    assert posterior["saturation_kappa"].dims[-3:] == per_geo
    assert posterior["saturation_weights"].dims[-2:] == ("channel", "component")
    assert (posterior["saturation_kappa"].diff("component") > 0).all()
    table = component_table(mmm)
    assert list(table.index.names) == ["channel", "geo", "component"]
    report = segment_report(mmm)
    # weights are shared across geo, kappa is per geo
    assert list(report.channels.index.names) == ["channel"]
    assert list(report.segments.index.names) == ["channel", "geo", "component"]
    assert "(south)" in str(report)
    assert len(check_convergence(mmm).table) == 6
    _, axes = plot_channel_curves(mmm)
    assert axes.shape == (2, 2)
    assert len(table) == 2 * 2 * 2
    curves = mixture_curves(mmm, n_points=5)
    assert set(curves["total"].dims) >= {"geo", "channel", "x"}
    scale = mmm.idata.constant_data["channel_scale"]
    expected = curves["x"] * scale
    xr.testing.assert_allclose(curves["spend"].reset_coords(drop=True), expected)
