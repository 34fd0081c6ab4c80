import json

import numpy as np
import pymc as pm
import pytest
from pymc_extras.deserialize import deserialize
from pymc_extras.prior import Prior
from pymc_marketing.special_priors import SpecialPrior
from scipy import stats

from pmm_mixture.priors import (
    COMPONENT_DIM,
    KAPPA_FLOOR,
    STEP_DIM,
    DirichletWeights,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
    component_dims_for_prefix,
    ensure_component_coords,
    rename_component_dims,
)

CHANNELS = ["tv", "search", "social"]


def draw(factory, n_components, draws=2000, coords=None, seed=1):
    coords = {"channel": CHANNELS, **(coords or {})}
    with pm.Model(coords=coords) as model:
        ensure_component_coords(model, n_components)
        var = factory.create_variable("v")
    return pm.draw(var, draws=draws, random_seed=seed)


@pytest.mark.parametrize("n_components", [2, 3, 5])
def test_stick_breaking_weights_on_simplex(n_components):
    w = draw(StickBreakingWeights(alpha=0.5), n_components)
    assert w.shape == (2000, len(CHANNELS), n_components)
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.15, 1.0])
def test_stick_breaking_matches_truncated_process_moments(alpha):
    # E[w_k] = (1 / (1 + a)) (a / (1 + a))^(k-1) for k < K, remainder for K.
    n_components = 4
    w = draw(StickBreakingWeights(alpha=alpha), n_components, draws=20_000)
    p = alpha / (1 + alpha)
    expected = [(1 - p) * p**k for k in range(n_components - 1)]
    expected.append(p ** (n_components - 1))
    mc_se = w.std(axis=0).max() / np.sqrt(w.shape[0] * len(CHANNELS))
    np.testing.assert_allclose(w.mean(axis=(0, 1)), expected, atol=5 * mc_se)


def test_stick_breaking_first_break_is_beta():
    # The first weight is the first break, which must be Beta(1, alpha).
    w = draw(StickBreakingWeights(alpha=0.3), 3, draws=5000)
    result = stats.kstest(w[:, 0, 0], stats.beta(1, 0.3).cdf)
    assert result.pvalue > 0.01


@pytest.mark.parametrize("alpha", [0.15, 1.0])
def test_stick_breaking_min_remainder_truncates_the_breaks(alpha):
    # S = -log(1 - v) must follow Exponential(alpha) truncated at -log(1e-4),
    # and no break may leave less than 1e-4 of the stick.
    min_remainder = 1e-4
    factory = StickBreakingWeights(alpha=alpha, min_remainder=min_remainder)
    w = draw(factory, 3, draws=5000)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-12)
    breaks = -np.log1p(-w[..., 0])
    s_max = -np.log(min_remainder)
    assert breaks.max() <= s_max + 1e-9
    truncated = stats.truncexpon(b=alpha * s_max, scale=1 / alpha)
    assert stats.kstest(breaks[:, 0], truncated.cdf).pvalue > 0.01
    # the last weight, (1 - v_1)(1 - v_2), is at least min_remainder ** 2
    assert w[..., -1].min() >= min_remainder**2 * (1 - 1e-9)


def test_stick_breaking_min_remainder_samples_a_uniform():
    factory = StickBreakingWeights(
        alpha=Prior("Gamma", alpha=2, beta=4), min_remainder=1e-6
    )
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 3)
        factory.create_variable("w")
    assert [rv.name for rv in model.free_RVs] == ["w_alpha", "w_stick_u"]
    assert model.named_vars_to_dims["w_stick_u"] == ("channel", STEP_DIM)
    assert "w_stick" in model.named_vars
    assert np.isfinite(model.compile_logp()(model.initial_point()))


@pytest.mark.parametrize("min_remainder", [0, 1, -0.5, 2])
def test_stick_breaking_min_remainder_is_checked(min_remainder):
    with pytest.raises(ValueError, match="min_remainder must be between 0 and 1"):
        StickBreakingWeights(min_remainder=min_remainder)


def test_stick_breaking_single_component_is_one():
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 1)
        StickBreakingWeights().create_variable("w")
    assert not model.free_RVs
    np.testing.assert_array_equal(pm.draw(model["w"]), np.ones((3, 1)))


def test_stick_breaking_learned_alpha():
    factory = StickBreakingWeights(alpha=Prior("Gamma", alpha=2, beta=4))
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 3)
        factory.create_variable("w")
    assert "w_alpha" in model.named_vars
    assert model.named_vars_to_dims["w_stick"] == ("channel", STEP_DIM)


def test_dirichlet_weights_per_component():
    w = draw(DirichletWeights(concentration=[8.0, 2.0]), 2, draws=4000)
    np.testing.assert_allclose(w.mean(axis=(0, 1)), [0.8, 0.2], atol=0.01)
    with pytest.raises(ValueError, match="2 concentrations for 3 components"):
        draw(DirichletWeights(concentration=[8.0, 2.0]), 3, draws=1)


def test_dirichlet_weights_on_simplex():
    w = draw(DirichletWeights(concentration=0.3), 4)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-12)
    # symmetric: every component has the same mean weight
    np.testing.assert_allclose(w.mean(axis=(0, 1)), 0.25, atol=0.02)


@pytest.mark.parametrize("n_components", [1, 2, 5])
def test_ordered_kappa_strictly_increasing(n_components):
    kappa = draw(OrderedKappa(), n_components)
    assert (kappa > 0).all()
    assert (np.diff(kappa, axis=-1) > 0).all()


def test_ordered_kappa_first_and_gap_priors():
    kappa = draw(
        OrderedKappa(
            log_first=Prior("Normal", mu=np.log(0.3), sigma=0.1),
            log_gap=Prior("Gamma", alpha=50, beta=100),
        ),
        3,
        draws=4000,
    )
    log_kappa = np.log(kappa)
    np.testing.assert_allclose(np.median(log_kappa[..., 0]), np.log(0.3), atol=0.02)
    np.testing.assert_allclose(np.diff(log_kappa, axis=-1).mean(), 0.5, atol=0.01)


def test_ordered_kappa_default_first_kappa_interval():
    # The documented default: the smallest kappa is 95 % within [0.06, 0.8]
    # of the largest (max-scaled) spend and never below the floor, so a step
    # at zero spend (every kappa ~ 0.02) is outside the prior.
    kappa = draw(OrderedKappa(), 3, draws=5000)
    first = kappa[..., 0].ravel()
    low, high = np.quantile(first, [0.025, 0.975])
    assert low == pytest.approx(0.057, rel=0.06)
    assert high == pytest.approx(0.80, rel=0.06)
    assert first.min() >= KAPPA_FLOOR == 0.04
    assert (first < 0.05).mean() > 0.005  # a floor, not a wall far above it


def test_ordered_kappa_rejects_gap_without_positive_support():
    with pytest.raises(ValueError, match="positive support"):
        OrderedKappa(log_gap=Prior("Normal", mu=1, sigma=1))


def test_pooled_slope_is_non_centred_and_pooled():
    factory = PooledSlope(
        log_mu=Prior("Normal", mu=np.log(2.0), sigma=0.01),
        log_sigma=Prior("HalfNormal", sigma=0.01),
    )
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 3)
        factory.create_variable("slope")
    assert model.named_vars_to_dims["slope_log_mu"] == ("channel",)
    assert model.named_vars_to_dims["slope_offset"] == ("channel", COMPONENT_DIM)
    slope = pm.draw(model["slope"], draws=500, random_seed=2)
    np.testing.assert_allclose(slope, 2.0, rtol=0.1)


def test_pooled_slope_default_keeps_channel_slopes_away_from_zero():
    # The documented default: a channel's median slope is 95 % within [0.75, 3].
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 3)
        PooledSlope().create_variable("slope")
    median_slope = np.exp(pm.draw(model["slope_log_mu"], draws=20000, random_seed=3))
    low, high = np.quantile(median_slope, [0.025, 0.975])
    assert low == pytest.approx(0.75, rel=0.05)
    assert high == pytest.approx(3.0, rel=0.05)
    assert (median_slope < 0.3).mean() < 1e-3


def test_pooled_slope_model_level_mean():
    factory = PooledSlope(log_mu=Prior("Normal", mu=0.0, sigma=1.0, dims=()))
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 2)
        factory.create_variable("slope")
    assert model.named_vars_to_dims.get("slope_log_mu", ()) == ()


def test_extra_dims():
    coords = {"geo": ["a", "b"]}
    dims = ("geo", "channel", COMPONENT_DIM)
    for factory in (
        StickBreakingWeights(dims=dims),
        OrderedKappa(dims=dims),
        PooledSlope(dims=dims),
    ):
        values = draw(factory, 3, draws=10, coords=coords)
        assert values.shape == (10, 2, 3, 3)


def test_dims_must_end_with_component():
    with pytest.raises(ValueError, match="dims ending in 'component'"):
        OrderedKappa(dims=("channel",))
    with pytest.raises(ValueError, match="dims ending in 'component'"):
        StickBreakingWeights(dims=(COMPONENT_DIM, "channel"))
    with pytest.raises(ValueError, match="no other component dim"):
        OrderedKappa(dims=("channel", STEP_DIM, COMPONENT_DIM))
    with pytest.raises(ValueError, match="dims ending in 'component'"):
        PooledSlope(dims=("b_component", COMPONENT_DIM))


@pytest.mark.parametrize("factory", [StickBreakingWeights, OrderedKappa, PooledSlope])
def test_string_dims_are_one_dim(factory):
    # a string used to be stored as it was and read letter by letter
    assert factory(dims=COMPONENT_DIM).dims == (COMPONENT_DIM,)
    prior = factory()
    prior.dims = ["geo", COMPONENT_DIM]  # any sequence, stored as a tuple
    assert prior.dims == ("geo", COMPONENT_DIM)
    values = draw(prior, 2, draws=3, coords={"geo": ["a", "b"]})
    assert values.shape == (3, 2, 2)
    # as Transformation.set_dims_for_all_priors assigns: one dim, refused
    # because the component dim is missing (not stored as "c", "h", ...)
    with pytest.raises(ValueError, match=r"got dims=\('channel',\)"):
        prior.dims = "channel"
    assert prior.dims == ("geo", COMPONENT_DIM)


def test_unset_outer_dims():
    prior = StickBreakingWeights(dims=None)
    assert (prior.dims, prior.outer_dims, prior.outer_dims_set) == (
        (COMPONENT_DIM,),
        (),
        False,
    )
    assert deserialize(json.loads(json.dumps(prior.to_dict()))) == prior
    assert prior != StickBreakingWeights(dims=(COMPONENT_DIM,))
    values = draw(prior, 3, draws=20)
    assert values.shape == (20, 3)
    np.testing.assert_allclose(values.sum(-1), 1.0)
    # the class default keeps its explicit dims (and serialized form)
    assert StickBreakingWeights(alpha=0.3).to_dict()["dims"] == [
        "channel",
        COMPONENT_DIM,
    ]


def test_component_dims_for_a_prefix():
    assert component_dims_for_prefix("saturation") == (COMPONENT_DIM, STEP_DIM)
    assert component_dims_for_prefix("tv") == ("tv_component", "tv_component_step")


@pytest.mark.parametrize(
    "factory",
    [
        StickBreakingWeights(alpha=0.5, dims=("channel", "tv_component")),
        StickBreakingWeights(alpha=0.5, min_remainder=0.01, dims="tv_component"),
        DirichletWeights(concentration=[0.5, 1.0, 2.0], dims="tv_component"),
        OrderedKappa(dims=("channel", "tv_component")),
        PooledSlope(dims=("channel", "tv_component")),
    ],
)
def test_prefixed_component_dims(factory):
    coords = {"channel": CHANNELS}
    with pm.Model(coords=coords) as model:
        ensure_component_coords(model, 3, "tv_component")
        variable = factory.create_variable("v")
    assert set(model.coords) == {"channel", "tv_component", "tv_component_step"}
    used = {d for dims in model.named_vars_to_dims.values() for d in dims}
    assert not used & {COMPONENT_DIM, STEP_DIM}
    values = pm.draw(variable, draws=5, random_seed=1)
    assert values.shape[-1] == 3
    if isinstance(factory, OrderedKappa):
        assert (np.diff(values, axis=-1) > 0).all()


def test_rename_component_dims():
    hyper = Prior("Normal", mu=0.0, sigma=1.0, dims=(COMPONENT_DIM,))
    prior = Prior("Normal", mu=hyper, sigma=1.0, dims=("channel", COMPONENT_DIM))
    renamed = rename_component_dims(prior, "tv_component")
    assert renamed.dims == ("channel", "tv_component")
    assert renamed.parameters["mu"].dims == ("tv_component",)
    assert prior.dims == ("channel", COMPONENT_DIM)  # not mutated
    kappa = OrderedKappa(
        log_gap=Prior("Gamma", alpha=2, beta=2, dims=("channel", STEP_DIM))
    )
    renamed = rename_component_dims(kappa, "tv_component")
    assert renamed.dims == ("channel", "tv_component")
    assert renamed.parameters["log_gap"].dims == ("channel", "tv_component_step")
    assert kappa.dims == ("channel", COMPONENT_DIM)
    unset = rename_component_dims(PooledSlope(dims=None), "tv_component")
    assert (unset.dims, unset.outer_dims_set) == (("tv_component",), False)
    # nothing to rename: the same object
    assert rename_component_dims(kappa, COMPONENT_DIM) is kappa


def test_invalid_hyperparameters():
    with pytest.raises(ValueError, match="alpha must be positive"):
        StickBreakingWeights(alpha=0)
    with pytest.raises(ValueError, match="concentration must be a positive"):
        DirichletWeights(concentration=-1)
    with pytest.raises(ValueError, match="concentration must be a positive"):
        DirichletWeights(concentration=[[1.0, 2.0]])


def test_missing_component_coordinate():
    with pm.Model(coords={"channel": CHANNELS}):
        with pytest.raises(ValueError, match="no 'component' coordinate"):
            OrderedKappa().create_variable("kappa")


def test_component_coordinate_length_mismatch():
    with pm.Model(coords={"channel": CHANNELS, COMPONENT_DIM: [0, 1]}) as model:
        with pytest.raises(ValueError, match=r"length 2.*n_components=3"):
            ensure_component_coords(model, 3)


@pytest.mark.parametrize(
    "factory",
    [
        StickBreakingWeights(alpha=Prior("Gamma", alpha=2, beta=3)),
        StickBreakingWeights(alpha=0.3, min_remainder=1e-6),
        DirichletWeights(concentration=0.2),
        OrderedKappa(dims=("geo", "channel", COMPONENT_DIM)),
        PooledSlope(log_sigma=Prior("HalfNormal", sigma=0.2)),
    ],
)
def test_serialization_round_trip(factory):
    data = json.loads(json.dumps(factory.to_dict()))
    restored = deserialize(data)
    assert type(restored) is type(factory)
    assert restored == factory


@pytest.mark.parametrize(
    "factory",
    [
        StickBreakingWeights(alpha=0.3),
        DirichletWeights(concentration=[0.5, 1.0]),
        OrderedKappa(dims=None),
        PooledSlope(),
    ],
)
def test_component_priors_are_pymc_marketing_special_priors(factory):
    assert isinstance(factory, SpecialPrior)
    data = factory.to_dict()
    assert data["special_prior"] == type(factory).__name__
    # PyMC-Marketing's own SpecialPrior deserializer (by class name) rebuilds it
    without_type = {k: v for k, v in data.items() if k != "__type__"}
    assert deserialize(json.loads(json.dumps(without_type))) == factory
    assert hash(deserialize(data)) == hash(factory)


def test_special_prior_sample_prior():
    coords = {"channel": CHANNELS, COMPONENT_DIM: [0, 1, 2], STEP_DIM: [0, 1]}
    prior = StickBreakingWeights(alpha=0.5).sample_prior(
        coords=coords, draws=50, random_seed=3
    )
    weights = prior["variable"]
    assert weights.dims == ("chain", "draw", "channel", COMPONENT_DIM)
    np.testing.assert_allclose(weights.sum(COMPONENT_DIM), 1.0, atol=1e-12)


def test_earlier_serialized_format_still_loads():
    legacy = {
        "__type__": "pmm_mixture.priors.StickBreakingWeights",
        "dims": None,
        "parameters": {"alpha": 0.15},
    }
    assert deserialize(legacy) == StickBreakingWeights(alpha=0.15, dims=None)
    legacy = {
        "__type__": "pmm_mixture.priors.PooledSlope",
        "dims": ["channel", COMPONENT_DIM],
        "parameters": {
            "log_mu": Prior("Normal", mu=0.4, sigma=0.35).to_dict(),
            "log_sigma": Prior("HalfNormal", sigma=0.2).to_dict(),
        },
    }
    assert deserialize(legacy) == PooledSlope(
        log_mu=Prior("Normal", mu=0.4, sigma=0.35),
        log_sigma=Prior("HalfNormal", sigma=0.2),
    )


def test_user_priors_not_mutated():
    log_first = Prior("Normal", mu=-1.0, sigma=0.5)
    factory = OrderedKappa(log_first=log_first, dims=("geo", "channel", COMPONENT_DIM))
    draw(factory, 3, draws=2, coords={"geo": ["a"]})
    assert log_first.dims is None


def test_pooled_slope_with_one_component_has_nothing_to_pool():
    factory = PooledSlope()
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 1)
        factory.create_variable("slope")
    assert "slope_offset" not in model.named_vars
    assert "slope_log_sigma" not in model.named_vars
    assert model.named_vars_to_dims["slope"] == ("channel", COMPONENT_DIM)
    log_mu, slope = pm.draw([model["slope_log_mu"], model["slope"]], random_seed=3)
    np.testing.assert_allclose(slope[:, 0], np.exp(log_mu))


def test_pooled_slope_with_one_component_still_pools_a_shared_mean():
    factory = PooledSlope(log_mu=Prior("Normal", mu=0.4, sigma=0.3, dims=()))
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 1)
        factory.create_variable("slope")
    assert model.named_vars_to_dims["slope_offset"] == ("channel", COMPONENT_DIM)
