"""Every PyMC-Marketing feature a user reaches for, with the mixture saturation.

Fits here are short (correctness of the plumbing, not of the posterior); the
recovery of known truth is tested in test_recovery.py.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from pymc_marketing.mmm import MMM, GeometricAdstock, HillSaturation
from pymc_marketing.mmm.lift_test import MissingValueError
from pymc_marketing.mmm.scaling import DataDerivedScaling, Scaling

import pmm_mixture
from pmm_mixture import MixtureHillSaturation, OrderedKappa, add_lift_test_measurements
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
        # random starts twice as far out as PyMC's jitter (uniform +-1 on the
        # unconstrained space); normal(0, 2) jitter also reaches kappas near
        # exp(100), tested apart in test_saturation.py
        point = {
            name: value + rng.uniform(-2, 2, size=np.shape(value))
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


LIFT = "lift_measurements_model_estimated_lift_original_scale"


def lift_table(X, delta_y, sigma):
    """Lift tests at the median spend of x1 and x2, spend raised by half."""
    x = [float(X["x1"].median()), float(X["x2"].median())]
    return pd.DataFrame(
        {
            "channel": ["x1", "x2"],
            "x": x,
            "delta_x": [0.5 * v for v in x],
            "delta_y": list(delta_y),
            "sigma": list(sigma),
        }
    )


def at_initial_point(model, names, point=None):
    """Values of the named variables at ``point``, default the initial point."""
    outputs = model.replace_rvs_by_values([model[name] for name in names])
    function = model.compile_fn(
        outputs, inputs=model.value_vars, on_unused_input="ignore"
    )
    point = model.initial_point() if point is None else point
    return function({v.name: point[v.name] for v in model.value_vars})


def test_lift_test_moves_the_posterior(fitted, data, tmp_path):
    X, y = data
    # the lift the uncalibrated fit implies: the calibrated model's lift
    # Deterministic evaluated on the fitted posterior (same variables)
    probe = make_mmm(n_components=3)
    probe.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    add_lift_test_measurements(probe, lift_table(X, [1.0, 1.0], [1.0, 1.0]))
    before = pm.sample_posterior_predictive(
        fitted.idata.posterior.to_dataset(),
        model=probe.model,
        var_names=[LIFT],
        progressbar=False,
        random_seed=1,
    ).posterior_predictive[LIFT]
    mean_before = before.mean(("chain", "draw")).values
    sd_before = before.std(("chain", "draw")).values
    # measured lifts 1.5x the implied ones, with 5 % standard errors: within
    # the uncalibrated posterior (its sd is ~40 % of the mean) but far sharper
    target, sigma = 1.5 * mean_before, 0.05 * mean_before
    assert (sd_before > 4 * sigma).all()

    mmm = make_mmm(n_components=3)
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    lift = lift_table(X, target, sigma)
    given = lift.copy()
    assert add_lift_test_measurements(mmm, lift) is mmm
    pd.testing.assert_frame_equal(lift, given)
    assert mmm.model.observed_RVs[-1].name == "lift_measurements"
    mmm.fit(
        X.iloc[:N_TRAIN],
        y.iloc[:N_TRAIN],
        nuts_sampler="numpyro",
        random_seed=2,
        **SAMPLE,
    )
    after = mmm.idata.posterior[LIFT]
    assert after.sizes["_lift_measurements_dim"] == 2
    # the posterior of each lift moves to the measurement and is about as
    # sharp as it (the data alone leave it ~8x wider)
    mean_after = after.mean(("chain", "draw")).values
    sd_after = after.std(("chain", "draw")).values
    np.testing.assert_array_less(np.abs(mean_after - target), 2 * sigma)
    np.testing.assert_array_less(sd_after, 2 * sigma)
    np.testing.assert_array_less(sd_after, sd_before / 3)

    # MMM.save keeps the posterior; MMM.load rebuilds the model without the
    # mixture's lift tests (only those of the MMM method are recorded), and
    # they can be added again
    path = tmp_path / "calibrated.nc"
    mmm.save(str(path))
    loaded = MMM.load(str(path))
    assert "lift_measurements" not in loaded.model.named_vars
    np.testing.assert_array_equal(loaded.idata.posterior[LIFT], after)
    add_lift_test_measurements(loaded, lift)
    assert "lift_measurements" in loaded.model.named_vars


def test_lift_test_scaling_matches_the_curve(data):
    # per-geo channel and target scales: each row must use its own geo's
    X, y = data
    X2 = X[["date", "x1", "x2"]].iloc[:N_TRAIN]
    Xg = pd.concat(
        [X2.assign(geo="north"), X2.assign(geo="south", x1=X2["x1"] * 0.5)],
        ignore_index=True,
    )
    yg = pd.Series(np.r_[y.iloc[:N_TRAIN], y.iloc[:N_TRAIN] * 0.8], name="y")
    per_geo = DataDerivedScaling(method="max", dims=())
    scaling = Scaling(channel=per_geo, target=per_geo)
    mmm = make_mmm(n_components=2, dims=("geo",), scaling=scaling)
    mmm.build_model(Xg, yg)
    lift = pd.DataFrame(
        {
            "channel": ["x1", "x1", "x2"],
            "geo": ["north", "south", "south"],
            "x": [1000.0, 1000.0, 300.0],
            "delta_x": [400.0, 400.0, 100.0],
            "delta_y": [40.0, 30.0, 20.0],
            "sigma": [8.0, 6.0, 5.0],
        }
    )
    add_lift_test_measurements(mmm, lift, name="lift")
    scales = mmm.get_scales_as_xarray()
    channel_scale = scales["channel_scale"]
    target_scale = scales["target_scale"]
    assert channel_scale.sel(channel="x1", geo="south") == pytest.approx(
        0.5 * channel_scale.sel(channel="x1", geo="north")
    )
    model = mmm.model
    names = ["saturation_beta", "saturation_weights", "saturation_kappa"]
    names += ["saturation_slope", "lift_model_estimated_lift"]
    names += ["lift_model_estimated_lift_original_scale"]
    point = at_initial_point(model, names)
    beta, weights, kappa, slope, lift_model, lift_original = point
    curve_dims = model.named_vars_to_dims["saturation_beta"]
    rows = []
    for _, row in lift.iterrows():
        c = list(mmm.channel_columns).index(row["channel"])
        g = list(model.coords["geo"]).index(row["geo"])
        b = beta[c, g] if curve_dims == ("channel", "geo") else beta[g, c]
        scale = float(channel_scale.sel(channel=row["channel"], geo=row["geo"]))

        def curve(x, c=c, b=b):
            hill = x ** slope[c] / (kappa[c] ** slope[c] + x ** slope[c])
            at_one = 1 / (1 + kappa[c] ** slope[c])
            return b * (weights[c] * hill).sum() / (weights[c] * at_one).sum()

        x = row["x"] / scale
        rows.append(curve(x + row["delta_x"] / scale) - curve(x))
    np.testing.assert_allclose(lift_model, rows, rtol=1e-6)
    per_row_target = target_scale.sel(geo=lift["geo"].to_xarray()).values
    np.testing.assert_allclose(lift_original, np.array(rows) * per_row_target)
    observed = model.rvs_to_values[model["lift"]].data
    np.testing.assert_allclose(observed, lift["delta_y"] / per_row_target)


def test_lift_test_with_time_varying_media(data):
    X, y = data
    lift = pd.DataFrame(
        {"channel": ["x1"], "x": [1000.0], "delta_x": [200.0]}
        | {"delta_y": [20.0], "sigma": [5.0]}
    )
    date = X["date"].iloc[30]
    models = {}
    for time_varying in (False, True):
        mmm = make_mmm(n_components=2, time_varying_media=time_varying)
        mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
        if time_varying:
            with pytest.raises(KeyError, match="'date' column is required"):
                add_lift_test_measurements(mmm, lift)
        add_lift_test_measurements(mmm, lift.assign(date=date))
        models[time_varying] = mmm.model
    # a point away from the initial one, where the multiplier varies by date;
    # the saturation's parameters take the same values in both models
    rng = np.random.default_rng(3)
    point = {
        name: value + rng.normal(0, 0.5, size=np.shape(value))
        for name, value in models[True].initial_point().items()
    }
    lift_name = "lift_measurements_model_estimated_lift"
    (plain,) = at_initial_point(models[False], [lift_name], point)
    varying, multiplier = at_initial_point(
        models[True], [lift_name, "media_temporal_latent_multiplier"], point
    )
    assert plain[0] > 0
    assert np.ptp(multiplier) > 0.1
    # the lift is the curve's difference times the media multiplier at the date
    np.testing.assert_allclose(varying, plain * multiplier[30], rtol=1e-10)
    assert not np.allclose(varying, plain * multiplier[29], rtol=1e-3)


def test_upstream_lift_test_method_refuses_the_mixture(data):
    X, y = data
    mmm = make_mmm(n_components=2)
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    names = set(mmm.model.named_vars)
    lift = lift_table(X, [50.0, 30.0], [10.0, 10.0])
    # PyMC-Marketing's method cannot map the component dim (nothing here
    # changes it): its own error, which names the dim; the model is unchanged
    with pytest.raises(MissingValueError, match="component"):
        mmm.add_lift_test_measurements(lift)
    assert set(mmm.model.named_vars) == names
    add_lift_test_measurements(mmm, lift)
    assert set(mmm.model.named_vars) - names == {
        "lift_measurements",
        "lift_measurements_model_estimated_lift",
        LIFT,
    }


def test_lift_tests_of_a_hill_mmm_take_the_upstream_path(data):
    X, y = data
    lift = lift_table(X, [50.0, 30.0], [10.0, 10.0])
    models = []
    for add in (
        lambda mmm: mmm.add_lift_test_measurements(lift),
        lambda mmm: add_lift_test_measurements(mmm, lift),
    ):
        hill = MMM(
            date_column="date",
            channel_columns=["x1", "x2"],
            target_column="y",
            adstock=GeometricAdstock(l_max=4),
            saturation=HillSaturation(),
        )
        hill.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
        add(hill)
        models.append(hill)
    upstream, ours = models
    assert set(ours.model.named_vars) == set(upstream.model.named_vars)
    lifts = [at_initial_point(m.model, [LIFT])[0] for m in models]
    assert (lifts[0] > 0).all()
    np.testing.assert_allclose(lifts[0], lifts[1], rtol=1e-12)
    # recorded by the MMM method, so MMM.save keeps it
    recorded = ours.create_idata_attrs()["lift_test_calibrations"]
    assert recorded == upstream.create_idata_attrs()["lift_test_calibrations"]
    assert '"name": "lift_measurements"' in recorded


def test_lift_test_errors(data):
    X, y = data
    with pytest.raises(RuntimeError, match="build_model"):
        add_lift_test_measurements(make_mmm(), lift_table(X, [1, 1], [1, 1]))
    mmm = make_mmm()
    mmm.build_model(X.iloc[:N_TRAIN], y.iloc[:N_TRAIN])
    lift = pd.DataFrame(
        {"x": [1.0], "delta_x": [1.0], "delta_y": [1.0], "sigma": [1.0]}
    )
    with pytest.raises(KeyError, match="'channel' column is required"):
        add_lift_test_measurements(mmm, lift)
    with pytest.raises(ValueError, match=r"'channel' has \['tv'\], not in"):
        add_lift_test_measurements(mmm, lift.assign(channel="tv"))
    with pytest.raises(ValueError, match="'sigma' must hold finite numbers"):
        add_lift_test_measurements(mmm, lift.assign(channel="x1", sigma=np.inf))
    with pytest.raises(ValueError, match="'sigma' must be strictly positive"):
        add_lift_test_measurements(mmm, lift.assign(channel="x1", sigma=0.0))
    assert not any("lift" in name for name in mmm.model.named_vars)


def test_import_changes_no_upstream_module():
    """``import pmm_mixture`` rebinds, adds or removes no attribute of any module
    of PyMC-Marketing, PyMC, PyTensor and their stack (checked in a fresh
    interpreter, with those modules imported first)."""
    script = textwrap.dedent(
        """
        import importlib, json, sys, types, warnings
        warnings.simplefilter("ignore")
        for name in (
            "pymc_marketing.mmm.mmm",
            "pymc_marketing.mmm.multidimensional",
            "pymc_marketing.mmm.lift_test",
            "pymc_marketing.mmm.components.saturation",
            "pymc.sampling.jax",
        ):
            importlib.import_module(name)
        stack = ("pymc_marketing", "pymc", "pymc_extras", "pytensor", "arviz",
                 "xarray", "pandas", "numpy", "scipy", "jax", "numpyro")

        def snapshot():
            return {
                name: {key: id(value) for key, value in vars(module).items()}
                for name, module in list(sys.modules.items())
                if isinstance(module, types.ModuleType)
                and name.split(".")[0] in stack
            }

        before = snapshot()
        import pmm_mixture
        after = snapshot()
        changed = {
            name: sorted(
                key for key in set(attrs) | set(after[name])
                if attrs.get(key) != after[name].get(key)
            )
            for name, attrs in before.items()
        }
        print(json.dumps({
            "file": pmm_mixture.__file__,
            "checked": sorted(before),
            "changed": {k: v for k, v in changed.items() if v},
        }))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).parent == Path(pmm_mixture.__file__).parent
    for module in (
        "pymc_marketing.mmm.mmm",
        "pymc_marketing.mmm.multidimensional",
        "pymc_marketing.mmm.lift_test",
        "pymc.sampling.jax",
    ):
        assert module in report["checked"]
    assert report["changed"] == {}


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
    add_lift_test_measurements(mmm, lift)
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
