"""LaggedGeometricAdstock equals GeometricAdstock, without a convolution."""

import json

import numpy as np
import pandas as pd
import pytensor.tensor as pt
import pytensor.xtensor as ptx
import pytest
from pymc_marketing.mmm import MMM, GeometricAdstock, HillSaturation
from pymc_marketing.mmm.transformers import ConvMode
from pymc_marketing.serialization import serialization

from pmm_mixture import LaggedGeometricAdstock, MixtureHillSaturation
from pmm_mixture.adstock import convolve_by_lags

SIZES = {"date": 12, "channel": 3, "geo": 2}


def xtensor(rng, dims):
    values = rng.uniform(0.05, 0.95, size=[SIZES[d] for d in dims])
    return ptx.as_xtensor(pt.as_tensor(values), dims=dims)


@pytest.mark.parametrize("mode", list(ConvMode))
@pytest.mark.parametrize("l_max", [1, 2, 5])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize(
    ("x_dims", "alpha_dims"),
    [
        (("date", "channel"), ("channel",)),
        (("date", "channel", "geo"), ("geo", "channel")),
        (("geo", "date", "channel"), ()),
    ],
)
def test_same_values_and_dims_as_geometric_adstock(
    mode, l_max, normalize, x_dims, alpha_dims
):
    rng = np.random.default_rng(l_max)
    x, alpha = xtensor(rng, x_dims), xtensor(rng, alpha_dims)
    settings = {"l_max": l_max, "normalize": normalize, "mode": mode}
    expected = GeometricAdstock(**settings).function(x, alpha=alpha, dim="date")
    got = LaggedGeometricAdstock(**settings).function(x, alpha=alpha, dim="date")
    assert got.type.dims == expected.type.dims
    np.testing.assert_allclose(got.eval(), expected.eval(), rtol=1e-12, atol=1e-14)


def test_halflife_parametrization():
    rng = np.random.default_rng(0)
    x, halflife = xtensor(rng, ("date", "channel")), xtensor(rng, ("channel",))
    expected = GeometricAdstock(l_max=4, parametrization="halflife").function(
        x, halflife=halflife, dim="date"
    )
    adstock = LaggedGeometricAdstock(l_max=4, parametrization="halflife")
    got = adstock.function(x, halflife=halflife, dim="date")
    np.testing.assert_allclose(got.eval(), expected.eval(), rtol=1e-12)


@pytest.mark.parametrize("adstock", [GeometricAdstock, LaggedGeometricAdstock])
def test_alpha_outside_the_unit_interval_raises(adstock):
    x = ptx.as_xtensor(np.ones((4, 2)), dims=("date", "channel"))
    alpha = ptx.as_xtensor(np.array([0.5, 1.5]), dims=("channel",))
    with pytest.raises(Exception, match="0 < alpha <= 1"):
        adstock(l_max=3).function(x, alpha=alpha, dim="date").eval()


def test_weights_need_a_static_lag_length():
    x = ptx.as_xtensor(pt.vector("x"), dims=("date",))
    w = ptx.as_xtensor(pt.vector("w"), dims=("lag",))
    with pytest.raises(ValueError, match="length of 'lag'"):
        convolve_by_lags(x, w, dim="date", kernel_dim="lag")


def test_serialization_round_trip():
    adstock = LaggedGeometricAdstock(l_max=6, normalize=False, prefix="carry")
    data = json.loads(json.dumps(serialization.serialize(adstock)))
    restored = serialization.deserialize(data)
    assert type(restored) is LaggedGeometricAdstock
    assert restored == adstock


def panel(n_weeks=30, geos=("a", "b"), channels=("x1", "x2")):
    rng = np.random.default_rng(1)
    dates = pd.date_range("2024-01-01", periods=n_weeks, freq="W-MON")
    rows = [
        {"date": d, "geo": g, **{c: rng.uniform(0, 10) for c in channels}}
        for g in geos
        for d in dates
    ]
    X = pd.DataFrame(rows)
    y = pd.Series(rng.uniform(5, 10, len(X)), name="y")
    return X, y


def jax_value_and_grad(adstock, saturation, X, y):
    import jax
    from pymc.model.transform.optimization import freeze_dims_and_data
    from pymc.sampling.jax import get_jaxified_logp

    mmm = MMM(
        date_column="date",
        channel_columns=["x1", "x2"],
        target_column="y",
        dims=("geo",),
        adstock=adstock,
        saturation=saturation,
    )
    mmm.build_model(X, y)
    model = freeze_dims_and_data(mmm.model)
    logp = get_jaxified_logp(model, negative_logp=False)
    point = model.initial_point()
    rng = np.random.default_rng(2)
    values = [
        point[v.name] + rng.uniform(-0.5, 0.5, np.shape(point[v.name]))
        for v in model.value_vars
    ]
    function = jax.jit(jax.value_and_grad(logp))
    value, grads = function(values)
    return float(value), [np.asarray(g) for g in grads], function.lower(values)


@pytest.mark.parametrize(
    "saturation",
    [HillSaturation(), MixtureHillSaturation(n_components=2)],
    ids=["hill", "mixture"],
)
def test_jax_log_density_and_gradient_match_in_a_geo_mmm(saturation):
    X, y = panel()
    value, grads, lowered = jax_value_and_grad(
        LaggedGeometricAdstock(l_max=4), saturation, X, y
    )
    expected, expected_grads, expected_lowered = jax_value_and_grad(
        GeometricAdstock(l_max=4), saturation, X, y
    )
    assert value == pytest.approx(expected, rel=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    # what makes it cheaper: no convolution in the compiled gradient
    assert "convolution(" in expected_lowered.as_text(dialect="hlo")
    assert "convolution(" not in lowered.as_text(dialect="hlo")


def test_vectorizes_over_posterior_draws():
    # PyMC-Marketing's budget optimizer and counterfactuals batch the graph
    # over draws with xtensor's vectorize_graph; symbolic slice bounds cannot be
    from pytensor.xtensor.vectorization import vectorize_graph

    x = ptx.as_xtensor(pt.matrix("x"), dims=("date", "channel"))
    alpha = ptx.as_xtensor(pt.vector("alpha"), dims=("channel",))
    y = LaggedGeometricAdstock(l_max=3).function(x, alpha=alpha, dim="date")
    x_draws = ptx.as_xtensor(pt.tensor3("x_draws"), dims=("draw", "date", "channel"))
    alpha_draws = ptx.as_xtensor(pt.matrix("alpha_draws"), dims=("draw", "channel"))
    batched = vectorize_graph(y, replace={x: x_draws, alpha: alpha_draws})
    rng = np.random.default_rng(4)
    xs, alphas = rng.uniform(size=(2, 6, 3)), rng.uniform(size=(2, 3))
    got = batched.transpose("draw", "date", "channel").eval(
        {"x_draws": xs, "alpha_draws": alphas}
    )
    one = y.transpose("date", "channel")
    for i in range(2):
        want = one.eval({"x": xs[i], "alpha": alphas[i]})
        np.testing.assert_allclose(got[i], want, rtol=1e-12)
