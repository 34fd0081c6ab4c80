import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pymc_extras.deserialize import deserialize
from pymc_extras.prior import Prior
from pymc_marketing.mmm import MMM, GeometricAdstock

from pmm_mixture import MixtureHillSaturation
from pmm_mixture.pooled_weights import (
    PartiallyPooledWeights,
    log_stick_breaking_weights,
)
from pmm_mixture.priors import STEP_DIM, StickBreakingWeights, ensure_component_coords

GEOS = ["a", "b", "c", "d"]
CHANNELS = ["tv", "search"]


def draw_prior(prior, n_components=3, draws=1000, seed=1):
    coords = {"geo": GEOS, "channel": CHANNELS}
    with pm.Model(coords=coords) as model:
        ensure_component_coords(model, n_components)
        prior.create_variable("w")
    names = ["w", "w_shared"]
    values = pm.draw([model[n] for n in names], draws=draws, random_seed=seed)
    return dict(zip(names, values, strict=True))


def test_weights_on_the_simplex_per_geo():
    out = draw_prior(PartiallyPooledWeights(alpha=0.5))
    assert out["w"].shape == (1000, len(GEOS), len(CHANNELS), 3)
    assert (out["w"] >= 0).all()
    np.testing.assert_allclose(out["w"].sum(-1), 1.0, atol=1e-12)
    assert out["w_shared"].shape == (1000, len(CHANNELS), 3)


def test_shared_mix_is_the_stick_breaking_prior():
    # Same breaks distribution: the shared mix must match StickBreakingWeights'
    # E[w_k] = (1 / (1 + a)) (a / (1 + a))^(k-1), remainder for the last.
    alpha, n = 0.5, 20_000
    shared = draw_prior(PartiallyPooledWeights(alpha=alpha), draws=n)["w_shared"]
    p = alpha / (1 + alpha)
    expected = [(1 - p), (1 - p) * p, p**2]
    mc_se = shared.std(axis=0).max() / np.sqrt(n * len(CHANNELS))
    np.testing.assert_allclose(shared.mean(axis=(0, 1)), expected, atol=5 * mc_se)


def test_small_spread_pools_every_geo_onto_the_shared_mix():
    tight = draw_prior(PartiallyPooledWeights(sigma=1e-4), draws=200)
    np.testing.assert_allclose(
        tight["w"],
        np.broadcast_to(tight["w_shared"][:, None], tight["w"].shape),
        atol=1e-3,
    )
    loose = draw_prior(PartiallyPooledWeights(alpha=1.0, sigma=1.0), draws=200)
    spread = loose["w"].std(axis=1).mean()
    # log-shares spread by 1 move active shares by tens of percentage points
    assert spread > 0.05


def test_pruned_components_stay_pruned_in_every_geo():
    out = draw_prior(PartiallyPooledWeights(alpha=0.15, sigma=0.5), draws=2000)
    pruned = out["w_shared"] < 1e-8
    assert pruned.any()
    geo_weights = np.moveaxis(out["w"], 1, -1)  # (draw, channel, component, geo)
    assert (geo_weights[pruned] < 1e-5).all()


def test_log_weights_are_finite_where_weights_underflow():
    import pytensor.xtensor as ptx

    breaks = ptx.as_xtensor(np.array([[800.0, 1.0]]), dims=("channel", "component"))
    log_w = log_stick_breaking_weights(breaks).eval()
    assert np.isfinite(log_w).all()
    np.testing.assert_allclose(np.exp(log_w).sum(), 1.0)
    np.testing.assert_allclose(log_w[0, 0], 0.0, atol=1e-12)  # v_1 = 1 - e^-800


def test_stick_breaking_and_log_weights_agree():
    with pm.Model(coords={"channel": CHANNELS}) as model:
        ensure_component_coords(model, 4)
        StickBreakingWeights(alpha=0.7).create_variable("w")
    stick, weights = pm.draw([model["w_stick"], model["w"]], draws=50, random_seed=3)
    import pytensor.xtensor as ptx

    log_w = log_stick_breaking_weights(
        ptx.as_xtensor(stick, dims=("draw", "channel", "component"))
    ).eval()
    np.testing.assert_allclose(np.exp(log_w), weights, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.0}, "alpha must be positive"),
        ({"pooled_dim": "region"}, "pooled_dim 'region'"),
        ({"dims": ("channel", "component")}, "pooled_dim 'geo'"),
        ({"dims": ("geo", "channel")}, "dims ending in 'component'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PartiallyPooledWeights(**kwargs)


def test_serialization_round_trip():
    prior = PartiallyPooledWeights(alpha=0.3, sigma=Prior("HalfNormal", sigma=0.2))
    restored = deserialize(prior.to_dict())
    assert restored == prior
    saturation = MixtureHillSaturation(n_components=3, priors={"weights": prior})
    from pymc_marketing.serialization import serialization

    again = serialization.deserialize(serialization.serialize(saturation))
    assert again.function_priors["weights"] == prior


def test_geo_mmm_prior_predictive():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    X = pd.concat(
        [
            pd.DataFrame(
                {
                    "date": dates,
                    "geo": geo,
                    "tv": rng.uniform(0, 100, 30),
                    "search": rng.uniform(0, 50, 30),
                }
            )
            for geo in GEOS
        ],
        ignore_index=True,
    )
    y = pd.Series(rng.normal(500, 10, len(X)), name="y")
    mmm = MMM(
        date_column="date",
        channel_columns=CHANNELS,
        target_column="y",
        dims=("geo",),
        adstock=GeometricAdstock(l_max=3),
        saturation=MixtureHillSaturation(
            n_components=3, priors={"weights": PartiallyPooledWeights()}
        ),
    )
    mmm.build_model(X, y)
    assert STEP_DIM in mmm.model.coords
    prior = mmm.sample_prior_predictive(X, y, samples=50, random_seed=1)
    weights = mmm.idata.prior["saturation_weights"]
    assert set(weights.dims) >= {"geo", "channel", "component"}
    np.testing.assert_allclose(weights.sum("component"), 1.0, atol=1e-10)
    assert np.isfinite(prior["y"]).all()
