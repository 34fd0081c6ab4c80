"""The geo probe's report of where slow chains sit (no model is fitted)."""

import sys
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import geo_probe


def test_far_coordinates_names_the_coordinate_a_slow_chain_sits_apart_on():
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {
            "sigma": (("chain", "draw"), rng.normal(size=(4, 200))),
            "kappa": (("chain", "draw", "component"), rng.normal(size=(4, 200, 3))),
        }
    )
    posterior["kappa"][1, :, 2] += 10.0  # chain 1 sits apart on kappa[2]
    slow = np.array([False, True, False, False])
    lines = geo_probe.far_coordinates(posterior, slow)
    assert "kappa[2]" in lines[0]
    assert float(lines[0].split()[0]) > 8.0  # about 10 sd
    assert all(float(line.split()[0]) < 1.0 for line in lines[1:])


def test_unconstrained_starts_put_each_chain_at_its_point_on_the_sampler_scale():
    import pymc as pm
    import pymc.dims as pmd
    from pymc.sampling.jax import get_jaxified_logp

    with pm.Model(coords={"g": range(3)}) as model:
        mu = pmd.Normal("mu", dims="g")
        scale = pmd.HalfNormal("scale", dims="g")
        share = pmd.Uniform("share", lower=0.0, upper=1.0)
        pmd.Normal(
            "y",
            mu=mu * share,
            sigma=scale,
            observed=pmd.as_xtensor(np.array([0.5, -1.0, 2.0]), dims="g"),
        )
    points = [
        {
            "mu": np.array([0.1, 0.2, 0.3]),
            "scale": np.array([1.0, 2.0, 3.0]),
            "share": np.array(0.25),
        },
        {"mu": np.zeros(3), "scale": np.full(3, 0.5), "share": np.array(0.9)},
    ]
    starts = geo_probe.unconstrained_starts(model, points)
    by_name = dict(zip([v.name for v in model.value_vars], starts, strict=True))
    np.testing.assert_allclose(by_name["scale_log__"][0], np.log([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(by_name["share_interval__"][1], np.log(0.9 / 0.1))
    np.testing.assert_allclose(by_name["mu"][1], 0.0)
    # the same points on the log density PyMC compiles and the JAX one sampled
    minus_logp = get_jaxified_logp(model, negative_logp=False)
    logp = model.compile_logp()
    for chain in range(2):
        start = [x[chain] for x in starts]
        expected = logp({name: x[chain] for name, x in by_name.items()})
        np.testing.assert_allclose(-float(minus_logp(start)), expected, rtol=1e-10)


def test_inverse_mass_diagonal_is_the_draws_variance_in_the_samplers_order():
    import pymc as pm
    import pymc.dims as pmd

    with pm.Model(coords={"g": range(2)}) as model:
        pmd.Normal("mu", dims="g")
        pmd.HalfNormal("scale", dims="g")
    rng = np.random.default_rng(0)
    draws = {
        "mu": rng.normal([0.0, 5.0], [1.0, 3.0], size=(400, 2)),
        "scale": np.exp(rng.normal([0.0, 1.0], [0.5, 0.1], size=(400, 2))),
    }
    diagonal = geo_probe.inverse_mass_diagonal(model, draws)
    order = [v.name for v in model.value_vars]
    variance = {
        "mu": draws["mu"].var(axis=0),
        "scale_log__": np.log(draws["scale"]).var(axis=0),
    }
    np.testing.assert_allclose(diagonal, np.concatenate([variance[n] for n in order]))
    # the log scale's spread, not the scale's: 0.5 and 0.1 by construction
    np.testing.assert_allclose(np.sqrt(variance["scale_log__"]), [0.5, 0.1], rtol=0.1)


def test_bounded_pooled_slope_keeps_small_slopes_and_caps_large_ones():
    import pymc as pm
    from pymc_extras.prior import Prior

    coords = {"channel": ["a", "b"], "component": range(5)}
    wide = {"log_mu": Prior("Normal", mu=2.0, sigma=1.0)}
    with pm.Model(coords=coords) as model:
        geo_probe.bounded_pooled_slope(10.0, **wide).create_variable("slope")
    draws = pm.draw(
        [model["slope"], model["slope_unbounded"]], draws=2000, random_seed=3
    )
    bounded, unbounded = (np.asarray(d) for d in draws)
    assert (unbounded > 30).mean() > 0.05  # the prior does reach far past 10
    assert bounded.max() < 10.0
    small = unbounded < 3.0
    np.testing.assert_allclose(bounded[small], unbounded[small], rtol=0.01)


def test_posterior_shift_is_the_largest_mean_difference_in_pooled_sd():
    rng = np.random.default_rng(0)

    def draws(beta_means):
        beta = rng.normal(beta_means, 1.0, size=(4, 2000, 3))
        return xr.Dataset(
            {
                "saturation_beta_log__": (("chain", "draw", "b"), beta),
                "saturation_kappa_log_gap": (("chain", "draw"), beta[..., 0]),
            }
        )

    shifts = geo_probe.posterior_shift(draws([0.0, 0.0, 0.0]), draws([0, 0.5, 2]))
    assert set(shifts) == {"saturation_beta_log__"}  # kappa depends on labels
    assert abs(shifts["saturation_beta_log__"] - 2.0) < 0.1
