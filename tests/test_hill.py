import numpy as np
import pytest
import xarray as xr
from pytensor.xtensor import as_xtensor

from pmm_mixture import MixtureHillSaturation
from pmm_mixture.hill import hill, mixture_hill
from pmm_mixture.priors import COMPONENT_DIM


def test_hill_is_the_closed_form_and_zero_at_zero():
    x = np.array([0.0, 0.5, 1.0, 3.0])
    expected = np.array([0.0, 0.5**2 / (1 + 0.5**2), 0.5, 9 / 10])
    np.testing.assert_allclose(hill(x, 2.0, 1.0), expected)


def test_hill_does_not_overflow_far_beyond_the_data():
    assert 0.0 <= hill(np.array([1.0]), 80.0, 1e6)[0] < 1e-200
    assert hill(np.array([1e6]), 50.0, 1.0)[0] == 1.0


def test_mixture_hill_is_the_component_on_random_parameters():
    rng = np.random.default_rng(4)
    weights = rng.dirichlet(np.ones(3), size=2)
    kappa = np.sort(rng.uniform(0.05, 2.0, size=(2, 3)), axis=-1)
    slope = rng.uniform(0.5, 4.0, size=(2, 3))
    beta = rng.uniform(0.5, 2.0, size=2)
    x = np.linspace(0.0, 1.5, 7)
    dims = ("channel", COMPONENT_DIM)
    tensor = MixtureHillSaturation(n_components=3).function(
        as_xtensor(np.tile(x[:, None], (1, 2)), dims=("x", "channel")),
        beta=as_xtensor(beta, dims=("channel",)),
        weights=as_xtensor(weights, dims=dims),
        kappa=as_xtensor(kappa, dims=dims),
        slope=as_xtensor(slope, dims=dims),
    )
    numpy = mixture_hill(x[:, None, None], beta, weights, kappa, slope, axis=-1)
    as_x = mixture_hill(
        xr.DataArray(x, dims="x"),
        xr.DataArray(beta, dims="channel"),
        xr.DataArray(weights, dims=dims),
        xr.DataArray(kappa, dims=dims),
        xr.DataArray(slope, dims=dims),
        dim=COMPONENT_DIM,
    )
    assert numpy.shape == (7, 2)
    np.testing.assert_allclose(
        tensor.transpose("x", "channel").eval(), numpy, rtol=1e-10
    )
    np.testing.assert_allclose(as_x.transpose("x", "channel"), numpy, rtol=1e-12)
    np.testing.assert_allclose(numpy[4], beta)  # x[4] = 1


def test_mixture_hill_is_beta_at_one():
    curve = mixture_hill(
        np.array([1.0]),
        1.7,
        np.array([0.3, 0.7]),
        np.array([0.2, 3.0]),
        np.array([1.0, 2.5]),
        axis=-1,
    )
    np.testing.assert_allclose(curve, 1.7)


def test_mixture_hill_needs_one_of_dim_or_axis():
    with pytest.raises(ValueError, match="exactly one of dim"):
        mixture_hill(1.0, 1.0, np.ones(1), np.ones(1), np.ones(1))
