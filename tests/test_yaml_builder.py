"""PyMC-Marketing's YAML model builder builds a mixture MMM from a config file."""

from pathlib import Path

import numpy as np
import pytest
from pymc_extras.prior import Prior
from pymc_marketing.mmm.builders.yaml import build_mmm_from_yaml

from pmm_mixture import MixtureHillSaturation, OrderedKappa, StickBreakingWeights
from pmm_mixture.synthetic import example_two_segment_data

CONFIG = Path(__file__).resolve().parents[1] / "docs" / "config" / "mixture_mmm.yml"


@pytest.fixture(scope="module")
def built():
    data = example_two_segment_data()
    return build_mmm_from_yaml(CONFIG, X=data.X, y=data.y), data


def test_config_builds_the_mixture_with_its_priors(built):
    saturation = built[0].saturation
    assert isinstance(saturation, MixtureHillSaturation)
    assert saturation.n_components == 4
    weights = saturation.function_priors["weights"]
    assert isinstance(weights, StickBreakingWeights)
    assert weights.parameters["alpha"] == 0.5
    kappa = saturation.function_priors["kappa"]
    assert isinstance(kappa, OrderedKappa)
    assert kappa.parameters["log_gap"] == Prior("Gamma", alpha=2.0, beta=3.0)


def test_config_model_has_the_mixture_variables(built):
    mmm, data = built
    model = mmm.model
    assert model.named_vars_to_dims["saturation_weights"] == ("channel", "component")
    assert len(model.coords["component"]) == 4
    draws = mmm.sample_prior_predictive(data.X, data.y, samples=20, random_seed=1)
    assert np.isfinite(draws["y"]).all()


def test_config_model_fits_with_numpyro(built):
    # plumbing, not the posterior: a short fit of the model the config built
    mmm, data = built
    mmm.fit(
        data.X,
        data.y,
        nuts_sampler="numpyro",
        chains=2,
        tune=50,
        draws=20,
        random_seed=3,
        progressbar=False,
    )
    weights = mmm.idata.posterior["saturation_weights"]
    assert weights.sizes == {"chain": 2, "draw": 20, "channel": 3, "component": 4}
    np.testing.assert_allclose(weights.sum("component"), 1.0, rtol=1e-9)
