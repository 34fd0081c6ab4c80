"""One step size for all NumPyro chains after warmup (benchmark-only)."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pymc as pm
import pymc.sampling.jax as pymc_jax
import pytest
from pymc_marketing.mmm import MMM, GeometricAdstock

from pmm_mixture import MixtureHillSaturation
from pmm_mixture.synthetic import make_mixture_mmm_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
common_step_size = importlib.import_module("mmm_bench.step_size").common_step_size

SAMPLE = {
    "draws": 300,
    "tune": 300,
    "chains": 4,
    "nuts_sampler": "numpyro",
    "progressbar": False,
    "random_seed": 11,
}


def normal_model() -> pm.Model:
    # scales 100x apart: the chains' adapted step sizes differ
    with pm.Model() as model:
        pm.Normal("x", 0.0, np.array([0.1, 1.0, 10.0]))
    return model


@pytest.fixture(scope="module")
def per_chain():
    with normal_model():
        return pm.sample(**SAMPLE)


@pytest.mark.parametrize("statistic", ["min", "median"])
def test_chains_share_the_statistic_of_their_adapted_step_sizes(per_chain, statistic):
    with normal_model(), common_step_size(statistic):
        idata = pm.sample(**SAMPLE)
    stats = idata.sample_stats
    # warmup is NumPyro's own: same seed, same adapted step size per chain
    adapted = stats["adapted_step_size"].values
    np.testing.assert_allclose(adapted, per_chain.sample_stats["step_size"].values)
    assert np.ptp(adapted[:, 0]) > 0.01 * adapted.max()
    expected = {"min": np.min, "median": np.median}[statistic](adapted[:, 0])
    np.testing.assert_allclose(stats["step_size"].values, expected)


def test_posterior_unchanged_in_distribution():
    with normal_model(), common_step_size():
        idata = pm.sample(**{**SAMPLE, "draws": 1000})
    sd = idata.posterior["x"].std(("chain", "draw")).values
    # 4,000 draws: the sd estimate's relative error is about 1/sqrt(2 ESS)
    np.testing.assert_allclose(sd, [0.1, 1.0, 10.0], rtol=0.1)
    assert int(idata.sample_stats["diverging"].sum()) == 0


def test_restores_pymc_sampler_even_after_an_error():
    original = pymc_jax._sample_numpyro_nuts
    with pytest.raises(RuntimeError, match="boom"), common_step_size():
        assert pymc_jax._sample_numpyro_nuts is not original
        raise RuntimeError("boom")
    assert pymc_jax._sample_numpyro_nuts is original


def test_rejects_unknown_statistic_before_patching():
    original = pymc_jax._sample_numpyro_nuts
    with pytest.raises(ValueError, match="statistic must be one of"):
        with common_step_size("mean"):
            pass
    assert pymc_jax._sample_numpyro_nuts is original


def test_refuses_a_pymc_whose_hook_has_other_arguments(monkeypatch):
    def changed(model, draws, tune):  # a hypothetical future signature
        raise AssertionError("must not be called")

    monkeypatch.setattr(pymc_jax, "_sample_numpyro_nuts", changed)
    with pytest.raises(RuntimeError, match="has changed"):
        with common_step_size():
            pass
    assert pymc_jax._sample_numpyro_nuts is changed


def test_mmm_fit_samples_with_one_step_size():
    sim = make_mixture_mmm_data((2, 1), n_weeks=60, seed=5, noise=0.05)
    mmm = MMM(
        date_column="date",
        channel_columns=["x1", "x2"],
        adstock=GeometricAdstock(l_max=4),
        saturation=MixtureHillSaturation(n_components=2),
    )
    with common_step_size():
        mmm.fit(sim.X, sim.y, **{**SAMPLE, "draws": 50, "tune": 100, "chains": 2})
    stats = mmm.idata.sample_stats
    adapted = stats["adapted_step_size"].values[:, 0]
    np.testing.assert_allclose(stats["step_size"].values, adapted.min())
