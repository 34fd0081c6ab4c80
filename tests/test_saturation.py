import json
from copy import deepcopy

import jax
import numpy as np
import pymc as pm
import pytest
import xarray as xr
from pymc.sampling.jax import get_jaxified_logp
from pymc_extras.prior import Prior
from pymc_marketing.mmm import HillSaturation
from pymc_marketing.serialization import serialization
from pytensor.xtensor import as_xtensor

from pmm_mixture import (
    DirichletWeights,
    MixtureHillSaturation,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
    mixture_hill_function,
)
from pmm_mixture.hill import mixture_hill
from pmm_mixture.priors import COMPONENT_DIM, STEP_DIM

CHANNELS = ["tv", "search"]
X_GRID = np.array([0.0, 0.05, 0.2, 0.5, 1.0, 1.7])


def xt(values, dims):
    return as_xtensor(np.asarray(values, dtype=float), dims=dims)


def numpy_mixture(x, beta, weights, kappa, slope):
    # the package's NumPy curve, on a (x, channel, component) grid
    return mixture_hill(x[:, None, None], beta, weights, kappa, slope, axis=-1)


def test_pure_function_sums_only_the_given_component_dims():
    weights = np.array([[0.3, 0.7], [0.6, 0.4]])
    kappa = np.array([[0.1, 0.9], [0.2, 1.5]])
    slope = np.array([[1.5, 3.0], [2.0, 2.0]])
    beta = np.array([1.2, 0.8])
    x = xt(X_GRID, ("x",))
    curve = mixture_hill_function(
        x,
        xt(beta, ("channel",)),
        xt(weights, ("channel", "segment")),
        xt(kappa, ("channel", "segment")),
        xt(slope, ("channel", "segment")),
        component_dims=("segment",),
    )
    assert curve.type.dims == ("x", "channel")
    np.testing.assert_allclose(
        curve.eval(), numpy_mixture(X_GRID, beta, weights, kappa, slope), rtol=1e-12
    )
    # a dim not named as a component dim is not summed
    kept = mixture_hill_function(
        x,
        1.0,
        xt(weights, ("channel", "segment")),
        xt(kappa, ("channel", "segment")),
        xt(slope, ("channel", "segment")),
        component_dims=(),
    )
    assert set(kept.type.dims) == {"x", "channel", "segment"}


def test_single_component_equals_hill_saturation():
    # beta is the response at x = 1, so Hill's asymptote is beta * (1 + kappa**s)
    beta, kappa, slope = np.array([1.3, 0.4]), np.array([0.3, 0.8]), [2.5, 0.7]
    asymptote = beta * (1.0 + kappa ** np.array(slope))
    x = xt(np.tile(X_GRID[:, None], (1, 2)), ("x", "channel"))
    mixture = MixtureHillSaturation(n_components=1).function(
        x,
        beta=xt(beta, ("channel",)),
        weights=xt(np.ones((2, 1)), ("channel", COMPONENT_DIM)),
        kappa=xt(kappa[:, None], ("channel", COMPONENT_DIM)),
        slope=xt(np.array(slope)[:, None], ("channel", COMPONENT_DIM)),
    )
    hill = HillSaturation().function(
        x,
        slope=xt(slope, ("channel",)),
        kappa=xt(kappa, ("channel",)),
        beta=xt(asymptote, ("channel",)),
    )
    np.testing.assert_allclose(
        mixture.transpose("x", "channel").eval(),
        hill.transpose("x", "channel").eval(),
        rtol=1e-12,
    )
    at_one = mixture.transpose("x", "channel").eval()[X_GRID == 1.0]
    np.testing.assert_allclose(at_one.ravel(), beta, rtol=1e-12)


def test_mixture_function_matches_numpy():
    beta = np.array([2.0, 0.5])
    weights = np.array([[0.2, 0.5, 0.3], [0.6, 0.4, 0.0]])
    kappa = np.array([[0.1, 0.4, 1.2], [0.3, 0.9, 2.0]])
    slope = np.array([[3.0, 1.0, 2.0], [0.8, 4.0, 1.5]])
    x = np.tile(X_GRID[:, None], (1, 2))
    result = MixtureHillSaturation(n_components=3).function(
        xt(x, ("x", "channel")),
        beta=xt(beta, ("channel",)),
        weights=xt(weights, ("channel", COMPONENT_DIM)),
        kappa=xt(kappa, ("channel", COMPONENT_DIM)),
        slope=xt(slope, ("channel", COMPONENT_DIM)),
    )
    expected = numpy_mixture(X_GRID, beta, weights, kappa, slope)
    np.testing.assert_allclose(
        result.transpose("x", "channel").eval(), expected, rtol=1e-12
    )


def test_variables_and_dims_in_a_model():
    # as the MMM sets them: the component parameters per channel
    saturation = MixtureHillSaturation(n_components=4).with_default_prior_dims(
        ("channel",)
    )
    with pm.Model(coords={"channel": CHANNELS}) as model:
        saturation.apply(xt(np.ones((5, 2)), ("date", "channel")), core_dim="date")
    dims = model.named_vars_to_dims
    assert dims["saturation_weights"] == ("channel", COMPONENT_DIM)
    assert dims["saturation_kappa"] == ("channel", COMPONENT_DIM)
    assert dims["saturation_slope"] == ("channel", COMPONENT_DIM)
    assert len(model.coords[COMPONENT_DIM]) == 4
    assert saturation.combined_dims == ("channel",)


def test_default_prior_predictive_is_sensible_on_scaled_data():
    # On max-scaled spend and target the curve at x = 1 should mostly lie in
    # (0, 3) and the components' kappas mostly inside the data's range.
    saturation = MixtureHillSaturation(n_components=5)
    prior = saturation.sample_prior(
        coords={"channel": CHANNELS}, draws=2000, random_seed=3
    )
    curve = saturation.sample_curve(prior, max_value=1.0, num_points=11)
    at_one = curve.isel(x=-1).values
    assert np.isfinite(curve.values).all()
    assert (np.diff(curve.values, axis=-1) >= -1e-12).all()
    assert 0.3 < np.median(at_one) < 2.0
    assert np.quantile(at_one, 0.99) < 5.0
    first_kappa = prior["saturation_kappa"].isel(component=0)
    assert 0.6 < float(((first_kappa > 0.02) & (first_kappa < 1.0)).mean())
    weights = prior["saturation_weights"]
    # sparse: on average the largest weight dominates
    assert float(weights.max(COMPONENT_DIM).mean()) > 0.6


def test_sample_curve_and_plot_curve():
    import matplotlib

    matplotlib.use("Agg")
    saturation = MixtureHillSaturation(n_components=3).with_default_prior_dims(
        "channel"
    )
    prior = saturation.sample_prior(coords={"channel": CHANNELS}, draws=20)
    curve = saturation.sample_curve(prior, max_value=2.0, num_points=30)
    assert curve.sizes["x"] == 30
    assert set(curve.dims) == {"chain", "draw", "channel", "x"}
    _, axes = saturation.plot_curve(curve)
    assert len(axes.ravel()) == len(CHANNELS)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3", None])
def test_n_components_must_be_positive_integer(bad):
    with pytest.raises(
        (TypeError, ValueError), match="n_components must be a positive"
    ):
        MixtureHillSaturation(n_components=bad)


def test_numpy_integer_n_components():
    assert MixtureHillSaturation(n_components=np.int64(2)).n_components == 2


def test_unknown_prior_name():
    with pytest.raises(ValueError, match=r"\['lam'\] are not parameters"):
        MixtureHillSaturation(priors={"lam": Prior("HalfNormal")})
    with pytest.raises(ValueError, match="parameter name, not the variable name"):
        MixtureHillSaturation(priors={"saturation_kappa": OrderedKappa()})


@pytest.mark.parametrize("name", ["weights", "kappa"])
def test_component_prior_needs_component_dim(name):
    prior = Prior("HalfNormal", dims=("channel",))
    with pytest.raises(
        ValueError, match=f"The '{name}' prior .* needs the 'component'"
    ):
        MixtureHillSaturation(n_components=3, priors={name: prior})


def test_kappa_prior_that_cannot_be_ordered():
    with pytest.raises(ValueError, match="cannot be ordered"):
        MixtureHillSaturation(
            n_components=3,
            priors={"kappa": Prior("HalfNormal", dims=("channel", COMPONENT_DIM))},
        )
    decreasing = xr.DataArray([[0.5, 0.2]], dims=("channel", COMPONENT_DIM))
    with pytest.raises(ValueError, match="strictly increasing"):
        MixtureHillSaturation(n_components=2, priors={"kappa": decreasing})


def test_unordered_kappa_is_fine_for_one_component():
    kappa = Prior("HalfNormal", sigma=1.5, dims=("channel", COMPONENT_DIM))
    saturation = MixtureHillSaturation(n_components=1, priors={"kappa": kappa})
    assert saturation.function_priors["kappa"] == kappa


def test_weights_prior_must_be_on_simplex():
    with pytest.raises(ValueError, match="must lie on the simplex"):
        MixtureHillSaturation(
            priors={"weights": Prior("HalfNormal", dims=("channel", COMPONENT_DIM))}
        )


@pytest.mark.parametrize(
    "weights",
    [
        DirichletWeights(concentration=0.25),
        Prior(
            "Dirichlet",
            a=xr.DataArray(np.full(3, 0.25), dims=(COMPONENT_DIM,)),
            dims=("channel", COMPONENT_DIM),
            core_dims=COMPONENT_DIM,
        ),
    ],
)
def test_symmetric_dirichlet_weights_accepted(weights):
    saturation = MixtureHillSaturation(n_components=3, priors={"weights": weights})
    prior = saturation.sample_prior(coords={"channel": CHANNELS}, draws=50)
    np.testing.assert_allclose(prior["saturation_weights"].sum(COMPONENT_DIM), 1.0)


def test_priors_with_extra_dims():
    dims = ("geo", "channel", COMPONENT_DIM)
    saturation = MixtureHillSaturation(
        n_components=2,
        priors={
            "beta": Prior("HalfNormal", dims=("geo", "channel")),
            "weights": StickBreakingWeights(dims=dims),
            "kappa": OrderedKappa(dims=dims),
            "slope": PooledSlope(dims=dims),
        },
    )
    assert saturation.combined_dims == ("geo", "channel")
    prior = saturation.sample_prior(
        coords={"channel": CHANNELS, "geo": ["a", "b", "c"]}, draws=5
    )
    assert prior["saturation_kappa"].sizes == {
        "chain": 1,
        "draw": 5,
        "geo": 3,
        "channel": 2,
        COMPONENT_DIM: 2,
    }


def test_user_priors_are_not_mutated():
    priors = {
        "beta": Prior("HalfNormal", sigma=2.0),
        "kappa": OrderedKappa(log_first=Prior("Normal", mu=-1, sigma=1)),
    }
    snapshot = deepcopy(priors)
    saturation = MixtureHillSaturation(n_components=3, priors=priors)
    saturation.with_default_prior_dims(("geo", "channel"))
    saturation.sample_prior(coords={"channel": CHANNELS}, draws=2)
    assert priors.keys() == snapshot.keys()
    assert priors["beta"].dims is None
    assert priors["beta"] == snapshot["beta"]
    assert priors["kappa"] == snapshot["kappa"]
    assert saturation.function_priors["kappa"] is not priors["kappa"]


def test_serialization_round_trip():
    saturation = MixtureHillSaturation(
        n_components=4,
        priors={
            "weights": StickBreakingWeights(alpha=Prior("Gamma", alpha=2, beta=5)),
            "slope": PooledSlope(log_sigma=Prior("HalfNormal", sigma=0.1)),
        },
        prefix="sat",
    )
    data = json.loads(json.dumps(serialization.serialize(saturation)))
    restored = serialization.deserialize(data)
    assert isinstance(restored, MixtureHillSaturation)
    assert restored == saturation
    assert restored.n_components == 4
    assert restored.prefix == "sat"
    assert restored != MixtureHillSaturation(n_components=3, prefix="sat")


def test_zero_spend_gives_finite_logp_and_gradient():
    saturation = MixtureHillSaturation(n_components=3)
    x = np.array([[0.0, 0.0], [0.4, 0.0], [1.0, 0.0], [0.0, 0.0]])
    with pm.Model(coords={"channel": CHANNELS, "date": range(4)}) as model:
        mu = saturation.apply(xt(x, ("date", "channel")), core_dim="date").sum(
            "channel"
        )
        pm.Normal("y", mu=mu.values, sigma=0.1, observed=np.array([0.0, 0.3, 0.5, 0.0]))
    point = model.initial_point()
    assert np.isfinite(model.compile_logp()(point))
    assert np.isfinite(model.compile_dlogp()(point)).all()


def test_kappas_far_above_the_data_keep_the_curve_and_gradient_finite():
    # hill(1) is about exp(-500) for both components: the square of the plain
    # ratio's denominator, which its gradient needs, underflows to 0
    saturation = MixtureHillSaturation(n_components=2)
    with pm.Model(coords={"component": range(2)}) as model:
        log_kappa = pm.Normal("log_kappa", [100.0, 110.0], 1.0, dims="component")
        weights = pm.Dirichlet("weights", np.ones(2), dims="component")
        curve = saturation.function(
            xt([0.0, 0.5, 1.0], ("date",)),
            1.0,
            as_xtensor(weights, dims=("component",)),
            as_xtensor(pm.math.exp(log_kappa), dims=("component",)),
            xt([5.0, 5.0], ("component",)),
        )
        pm.Deterministic("curve", curve.values)
        pm.Normal("y", mu=curve.values, sigma=0.1, observed=[0.0, 0.0, 1.0])
    point = model.initial_point()
    # far below kappa, hill(x) / hill(1) = x**slope for every component
    np.testing.assert_allclose(
        model.compile_fn(
            model["curve"], inputs=model.value_vars, on_unused_input="ignore"
        )(point),
        [0.0, 0.5**5, 1.0],
        rtol=1e-9,
    )
    assert np.isfinite(model.compile_logp()(point))
    assert np.isfinite(model.compile_dlogp()(point)).all()
    # NumPyro differentiates the JAX log-density itself
    jax_logp = get_jaxified_logp(model)
    values = [point[var.name] for var in model.value_vars]
    for gradient in jax.grad(jax_logp)(values):
        assert np.isfinite(gradient).all()


def test_model_config_priors_are_checked_too():
    from pymc_marketing.mmm import MMM, GeometricAdstock

    def mmm(model_config):
        return MMM(
            date_column="date",
            channel_columns=CHANNELS,
            target_column="y",
            adstock=GeometricAdstock(l_max=2),
            saturation=MixtureHillSaturation(n_components=3),
            model_config=model_config,
        )

    unordered = Prior("HalfNormal", dims=("channel", COMPONENT_DIM))
    with pytest.raises(ValueError, match="cannot be ordered"):
        mmm({"saturation_kappa": unordered})
    replaced = mmm({"saturation_slope": PooledSlope(log_mu=Prior("Normal", mu=1))})
    assert replaced.saturation.function_priors["slope"].parameters["log_mu"] == Prior(
        "Normal", mu=1
    )


# ---------------------------------------------------------------------------
# PyMC-Marketing's contract for saturations (scripts/upstream/contract_tests.sh
# runs upstream's own tests on the mixture). Each test below failed before the
# fix it is named after; the MMM names test guards what must not change.
# ---------------------------------------------------------------------------

BETA = np.array([2.0, 0.5])
WEIGHTS = np.array([[0.2, 0.5, 0.3], [0.6, 0.4, 0.0]])
KAPPA = np.array([[0.1, 0.4, 1.2], [0.3, 0.9, 2.0]])
SLOPE = np.array([[3.0, 1.0, 2.0], [0.8, 4.0, 1.5]])


def mixture_parameters():
    return {
        "beta": xt(BETA, ("channel",)),
        "weights": xt(WEIGHTS, ("channel", COMPONENT_DIM)),
        "kappa": xt(KAPPA, ("channel", COMPONENT_DIM)),
        "slope": xt(SLOPE, ("channel", COMPONENT_DIM)),
    }


@pytest.mark.parametrize(
    "dims", [("date", "channel"), ("channel", "date"), ("date", "geo", "channel")]
)
def test_output_keeps_the_input_dim_order(dims):
    expected = numpy_mixture(X_GRID, BETA, WEIGHTS, KAPPA, SLOPE)  # (date, channel)
    x = xr.DataArray(np.tile(X_GRID[:, None], (1, 2)), dims=("date", "channel"))
    if "geo" in dims:
        x = x.expand_dims(geo=2)
        expected = expected[:, :, None].repeat(2, axis=-1)
    values = x.transpose(*dims).values
    y = MixtureHillSaturation(n_components=3).function(
        xt(values, dims), **mixture_parameters()
    )
    assert y.type.dims == dims
    np.testing.assert_allclose(
        y.transpose("date", "channel", ...).eval(),
        expected,
        rtol=1e-12,
    )


def test_apply_keeps_the_input_dim_order():
    saturation = MixtureHillSaturation(n_components=2).with_default_prior_dims(
        "channel"
    )
    with pm.Model(coords={"channel": CHANNELS}):
        y = saturation.apply(xt(np.ones((5, 2)), ("date", "channel")), core_dim="date")
    assert y.type.dims == ("date", "channel")


def test_string_dims_are_one_dim():
    saturation = MixtureHillSaturation(n_components=2).set_dims_for_all_priors(
        "channel"
    )
    priors = saturation.function_priors
    assert priors["beta"].dims == ("channel",)
    for name in ("weights", "kappa", "slope"):
        assert priors[name].dims == ("channel", COMPONENT_DIM), name
    with pm.Model(coords={"channel": CHANNELS}) as model:
        saturation.apply(xt(np.ones((3, 2)), ("date", "channel")), core_dim="date")
    assert model.named_vars_to_dims["saturation_kappa_log_gap"] == ("channel", STEP_DIM)
    # with_default_prior_dims reads a string as one dim too
    defaults = MixtureHillSaturation().with_default_prior_dims("channel")
    assert defaults.function_priors["beta"].dims == ("channel",)
    assert defaults.function_priors["kappa"].dims == ("channel", COMPONENT_DIM)


def test_set_dims_for_all_priors_keeps_the_component_dim():
    kappa = Prior("HalfNormal", dims=("channel", COMPONENT_DIM))
    saturation = MixtureHillSaturation(n_components=1, priors={"kappa": kappa})
    saturation.set_dims_for_all_priors(("geo", "channel"))
    priors = saturation.function_priors
    assert priors["beta"].dims == ("geo", "channel")
    assert priors["kappa"].dims == ("geo", "channel", COMPONENT_DIM)
    assert priors["weights"].dims == ("geo", "channel", COMPONENT_DIM)
    assert priors["slope"].dims == ("geo", "channel", COMPONENT_DIM)
    assert kappa.dims == ("channel", COMPONENT_DIM)  # the user's prior is a copy


def test_sample_prior_without_coords():
    saturation = MixtureHillSaturation(n_components=3)
    prior = saturation.sample_prior(draws=10, random_seed=1)
    assert prior["saturation_beta"].dims == ("chain", "draw")
    assert prior["saturation_weights"].dims == ("chain", "draw", COMPONENT_DIM)
    np.testing.assert_allclose(prior["saturation_weights"].sum(COMPONENT_DIM), 1.0)
    curve = saturation.sample_curve(prior, num_points=7)
    assert curve.dims == ("chain", "draw", "x")
    # beta is the response at x = 1 whatever the components
    np.testing.assert_allclose(curve.isel(x=-1), prior["saturation_beta"], rtol=1e-10)


def test_sample_prior_names_the_missing_coords():
    saturation = MixtureHillSaturation(
        priors={"beta": Prior("HalfNormal", dims=("geo", "channel"))}
    )
    with pytest.raises(
        ValueError,
        match=r"needs coords for the dims \['geo'\] of its priors \(beta\): pass "
        r"them as coords=\{'geo': \[\.\.\.\]\}",
    ):
        saturation.sample_prior(coords={"channel": CHANNELS})


def test_parameters_without_the_component_dim():
    # upstream's broadcast test: every parameter per channel, none per
    # component; the curve is then one Hill curve with beta at x = 1
    beta, kappa, slope = np.array([1.3, 0.4]), np.array([0.3, 0.8]), [2.5, 0.7]
    per_channel = {
        "beta": xt(beta, ("channel",)),
        "weights": xt([0.3, 0.5], ("channel",)),
        "kappa": xt(kappa, ("channel",)),
        "slope": xt(slope, ("channel",)),
    }
    x = xt(np.tile(X_GRID[:, None], (1, 2)), ("x", "channel"))
    y = MixtureHillSaturation(n_components=3).function(x, **per_channel)
    assert y.type.dims == ("x", "channel")
    expected = numpy_mixture(
        X_GRID, beta, np.ones((2, 1)), kappa[:, None], np.array(slope)[:, None]
    )
    np.testing.assert_allclose(y.eval(), expected, rtol=1e-12)
    # plain numbers too (upstream's time-varying lift-test check)
    scalar = MixtureHillSaturation().function(
        xr.DataArray(X_GRID, dims=("x",)), beta=0.5, weights=0.5, kappa=0.5, slope=0.5
    )
    np.testing.assert_allclose(
        scalar.eval(),
        numpy_mixture(X_GRID, 0.5, np.ones(1), np.full(1, 0.5), np.full(1, 0.5))[:, 0],
        rtol=1e-12,
    )


def test_one_component_with_plain_channel_priors():
    saturation = MixtureHillSaturation(
        n_components=1,
        priors={
            "kappa": Prior("HalfNormal", sigma=1.0, dims="channel"),
            "slope": Prior("Gamma", alpha=3.0, beta=2.0, dims="channel"),
        },
    )
    prior = saturation.sample_prior(
        coords={"channel": CHANNELS}, draws=20, random_seed=2
    )
    assert prior["saturation_kappa"].dims == ("chain", "draw", "channel")
    curve = saturation.sample_curve(prior, max_value=2.0, num_points=9)
    x = curve["x"]
    beta, kappa = prior["saturation_beta"], prior["saturation_kappa"]
    slope = prior["saturation_slope"]
    hill = x**slope / (kappa**slope + x**slope)
    expected = beta * (1 + kappa**slope) * hill  # HillSaturation, beta at x = 1
    xr.testing.assert_allclose(curve, expected.transpose(*curve.dims), rtol=1e-9)


def test_slope_shared_by_the_components():
    saturation = MixtureHillSaturation(
        n_components=3, priors={"slope": Prior("Gamma", alpha=3.0, beta=2.0)}
    ).with_default_prior_dims("channel")
    assert saturation.function_priors["slope"].dims == ("channel",)
    prior = saturation.sample_prior(coords={"channel": CHANNELS}, draws=5)
    assert prior["saturation_slope"].dims == ("chain", "draw", "channel")
    shared = np.array([2.0, 0.9])
    y = saturation.function(
        xt(np.tile(X_GRID[:, None], (1, 2)), ("x", "channel")),
        **{**mixture_parameters(), "slope": xt(shared, ("channel",))},
    )
    expected = numpy_mixture(
        X_GRID, BETA, WEIGHTS, KAPPA, np.repeat(shared[:, None], 3, axis=1)
    )
    np.testing.assert_allclose(y.eval(), expected, rtol=1e-12)


def test_component_dims_follow_the_prefix():
    default = MixtureHillSaturation()
    assert (default.component_dim, default.step_dim) == (COMPONENT_DIM, STEP_DIM)
    saturation = MixtureHillSaturation(
        n_components=1,
        prefix="tv_sat",
        priors={
            "kappa": Prior("HalfNormal", dims=("channel", COMPONENT_DIM)),
            "weights": StickBreakingWeights(),
        },
    )
    assert saturation.component_dim == "tv_sat_component"
    assert saturation.reduced_dims == {"tv_sat_component", "tv_sat_component_step"}
    assert saturation.function_priors["kappa"].dims == ("channel", "tv_sat_component")
    assert saturation.function_priors["weights"].dims == ("channel", "tv_sat_component")
    data = json.loads(json.dumps(serialization.serialize(saturation)))
    assert serialization.deserialize(data) == saturation


def draw_named(model, names, seed):
    """One prior draw of model variables, as DataArrays with their dims."""
    tensors = [getattr(model[n], "values", model[n]) for n in names]
    values = pm.draw(tensors, random_seed=seed)
    return {
        n: xr.DataArray(v, dims=model.named_vars_to_dims[n])
        for n, v in zip(names, values, strict=True)
    }


def test_two_mixtures_in_one_model():
    import pymc.dims as pmd

    x = np.tile(X_GRID[:, None], (1, 2))
    first = MixtureHillSaturation(n_components=2).with_default_prior_dims("channel")
    second = MixtureHillSaturation(
        n_components=3, prefix="saturation_b"
    ).with_default_prior_dims("channel")
    coords = {"channel": CHANNELS, "date": range(len(X_GRID))}
    with pm.Model(coords=coords) as model:
        data = xt(x, ("date", "channel"))
        pmd.Deterministic("first", first.apply(data, core_dim="date"))
        pmd.Deterministic("second", second.apply(data, core_dim="date"))
    dims = model.named_vars_to_dims
    assert dims["saturation_weights"] == ("channel", COMPONENT_DIM)
    assert dims["saturation_weights_stick"] == ("channel", STEP_DIM)
    assert dims["saturation_b_weights"] == ("channel", "saturation_b_component")
    assert dims["saturation_b_weights_stick"] == (
        "channel",
        "saturation_b_component_step",
    )
    assert dims["saturation_b_kappa_log_gap"] == (
        "channel",
        "saturation_b_component_step",
    )
    assert len(model.coords[COMPONENT_DIM]) == 2
    assert len(model.coords["saturation_b_component"]) == 3
    assert dims["first"] == dims["second"] == ("date", "channel")

    for prefix, name in (("saturation", "first"), ("saturation_b", "second")):
        params = [f"{prefix}_{p}" for p in ("beta", "weights", "kappa", "slope")]
        draw = draw_named(model, [*params, name], seed=5)
        beta, weights, kappa, slope = (
            draw[p].transpose("channel", ...).values for p in params
        )
        np.testing.assert_allclose(
            draw[name].values,
            numpy_mixture(X_GRID, beta, weights, kappa, slope),
            rtol=1e-10,
        )


def test_mmm_variable_names_and_dims_unchanged():
    # what cached fits, summary code and notebooks read (default prefix)
    import pandas as pd
    from pymc_marketing.mmm import MMM, GeometricAdstock

    rng = np.random.default_rng(0)
    n = 12
    X = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="W-MON"),
            "tv": rng.uniform(0.1, 1.0, n),
            "search": rng.uniform(0.1, 1.0, n),
        }
    )
    y = pd.Series(rng.uniform(1.0, 2.0, n), name="y")
    mmm = MMM(
        date_column="date",
        channel_columns=CHANNELS,
        target_column="y",
        adstock=GeometricAdstock(l_max=2),
        saturation=MixtureHillSaturation(n_components=3),
    )
    mmm.build_model(X, y)
    expected = {
        "saturation_beta": ("channel",),
        "saturation_weights": ("channel", COMPONENT_DIM),
        "saturation_weights_stick": ("channel", STEP_DIM),
        "saturation_kappa": ("channel", COMPONENT_DIM),
        "saturation_kappa_log_first": ("channel",),
        "saturation_kappa_log_gap": ("channel", STEP_DIM),
        "saturation_slope": ("channel", COMPONENT_DIM),
        "saturation_slope_log_mu": ("channel",),
        "saturation_slope_offset": ("channel", COMPONENT_DIM),
    }
    dims = mmm.model.named_vars_to_dims
    assert {name: dims.get(name) for name in expected} == expected
    assert "saturation_slope_log_sigma" in mmm.model.named_vars
    assert mmm.model.coords[COMPONENT_DIM] == (0, 1, 2)
    assert dims["channel_contribution"] == ("date", "channel")
