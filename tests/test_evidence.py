"""Distinct segments and the evidence for a second one, on known posteriors."""

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from pmm_mixture import MixtureHillSaturation
from pmm_mixture.evidence import distinct_segments, segment_evidence, verdict

CHANNELS = ["tv", "search"]


def test_distinct_segments_merges_near_kappas_and_drops_small_weights():
    weights = np.array(
        [
            [0.5, 0.45, 0.05, 0.0],  # 1.2x apart: one segment
            [0.5, 0.0, 0.5, 0.0],  # 5x apart: two
            [0.9, 0.04, 0.03, 0.03],  # one above the threshold
            [0.3, 0.3, 0.3, 0.1],  # 1.2x, 2.5x, 1.5x: two at merge 2
        ]
    )
    kappa = np.array(
        [
            [0.1, 0.12, 0.5, 0.9],
            [0.1, 0.2, 0.5, 0.9],
            [0.1, 0.2, 0.5, 0.9],
            [0.1, 0.12, 0.3, 0.45],
        ]
    )
    assert distinct_segments(weights, kappa).tolist() == [1, 2, 1, 2]
    assert distinct_segments(weights, kappa, merge=1.0).tolist() == [2, 2, 1, 4]
    assert distinct_segments(weights, kappa, threshold=0.01).tolist() == [2, 2, 3, 2]


def test_distinct_segments_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        distinct_segments(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="merge"):
        distinct_segments(np.ones((2, 3)), np.ones((2, 3)), merge=0.5)


def fake_model(weights, kappa, n_components=3):
    shape = weights.shape[:2]
    coords = {
        "chain": np.arange(shape[0]),
        "draw": np.arange(shape[1]),
        "channel": CHANNELS,
        "component": np.arange(n_components),
    }
    dims = ("chain", "draw", "channel", "component")
    posterior = xr.Dataset(
        {"saturation_weights": (dims, weights), "saturation_kappa": (dims, kappa)},
        coords=coords,
    )
    return SimpleNamespace(
        idata=xr.DataTree.from_dict({"/posterior": posterior}),
        saturation=MixtureHillSaturation(n_components=n_components),
    )


def test_segment_evidence_on_one_and_two_segment_posteriors():
    rng = np.random.default_rng(0)
    shape = (2, 200)
    base = np.array([[0.97, 0.02, 0.01], [0.5, 0.48, 0.02]])
    weights = np.clip(base + rng.normal(0, 0.005, size=(*shape, 2, 3)), 1e-6, None)
    weights /= weights.sum(-1, keepdims=True)
    kappa = np.array([[0.3, 0.9, 2.0], [0.1, 0.5, 1.5]]) * np.ones((*shape, 2, 3))
    table = segment_evidence(fake_model(weights, kappa), prior_draws=2000)
    assert table.loc["tv", "segments"] == 1
    assert table.loc["search", "segments"] == 2
    assert table.loc["tv", "p_two_posterior"] == 0
    assert table.loc["search", "p_two_posterior"] == 1
    # the default prior gives a second distinct segment some, not all, mass
    assert 0.05 < table.loc["tv", "p_two_prior"] < 0.95
    assert table.loc["tv", "second_segment"] == "not supported"
    assert table.loc["search", "second_segment"] == "supported"


def test_segment_evidence_is_undetermined_when_the_posterior_is_the_prior():
    saturation = MixtureHillSaturation(n_components=3)
    draws = saturation.sample_prior(
        coords={"channel": CHANNELS}, draws=4000, random_seed=7
    )
    channel = xr.DataArray(np.zeros(len(CHANNELS)), coords={"channel": CHANNELS})
    order = ("chain", "draw", "channel", "component")
    weights, kappa = (
        (draws[f"saturation_{name}"] + channel).transpose(*order).values
        for name in ("weights", "kappa")
    )
    shape = (2, 2000, len(CHANNELS), 3)
    model = fake_model(weights.reshape(shape), kappa.reshape(shape))
    table = segment_evidence(model, prior_draws=4000, random_seed=1)
    # Monte Carlo error of two estimates of one probability: BF within ~15 %
    assert table["bayes_factor"].between(0.8, 1.25).all()
    assert (table["second_segment"] == "undetermined").all()


def test_verdict_bands():
    assert verdict(3.0, 0.5) == "supported"
    assert verdict(10.0, 0.3) == "undetermined"  # large BF, still unlikely
    assert verdict(0.6, 0.2) == "not supported"
    assert verdict(1.0, 0.4) == "undetermined"


def test_segment_report_states_the_evidence():
    from pmm_mixture.summary import segment_report

    rng = np.random.default_rng(2)
    shape = (2, 200)
    base = np.array([[0.97, 0.02, 0.01], [0.5, 0.48, 0.02]])
    weights = np.clip(base + rng.normal(0, 0.005, size=(*shape, 2, 3)), 1e-6, None)
    weights /= weights.sum(-1, keepdims=True)
    kappa = np.array([[0.3, 0.9, 2.0], [0.1, 0.5, 1.5]]) * np.ones((*shape, 2, 3))
    model = fake_model(weights, kappa)
    slope = xr.full_like(model.idata.posterior["saturation_weights"], 2.0)
    model.idata.posterior["saturation_slope"] = slope
    report = segment_report(model)
    assert report.channels.loc["search", "second_segment"] == "supported"
    assert report.channels.loc["tv", "distinct_segments"] == 1
    text = str(report)
    assert "search: 2 segment(s)" in text
    assert "the data show a second segment" in text
    assert "the data speak against a second segment" in text
    # a bare idata has no priors to compare with: no evidence, no error
    bare = segment_report(model.idata)
    assert "second_segment" not in bare.channels
