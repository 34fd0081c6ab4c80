r"""How many distinct segments a channel has, and whether the data could tell.

A mixture fit with more components than segments spreads one segment over
neighbouring components with nearly equal half-saturation points, so counting
components overstates the segments. Here a draw's segments are its
components above a weight threshold, with components whose ``kappa`` is
within a factor ``merge`` of the previous counted one taken as the same
segment (two Hill curves of equal slope 2x apart or less are hard to tell
from one).

Whether a second segment was resolvable is a comparison of the posterior with
the prior: the Bayes factor of "two or more distinct segments" against "one",

.. math::

    BF = \frac{P(n \ge 2 \mid y) / P(n = 1 \mid y)}{P(n \ge 2) / P(n = 1)},

with the prior probability from draws of the saturation's own priors. A
posterior that did not move from the prior (BF near 1) means the data could
not show a second segment, whatever the count says.

Examples
--------
>>> import numpy as np
>>> from pmm_mixture.evidence import distinct_segments
>>> weights = np.array([[0.5, 0.45, 0.05], [0.5, 0.0, 0.5]])
>>> kappa = np.array([[0.1, 0.12, 0.5], [0.1, 0.2, 0.5]])
>>> distinct_segments(weights, kappa).tolist()
[1, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from pmm_mixture.posterior import SAMPLE_DIMS, get_posterior, mixture_variable
from pmm_mixture.priors import COMPONENT_DIM

__all__ = [
    "bayes_factor",
    "distinct_segment_draws",
    "distinct_segments",
    "segment_evidence",
]

#: Bayes factor from which a second segment counts as supported.
SUPPORTED_BF = 3.0
#: Bayes factor below which the data count against a second segment: they
#: lowered its odds by a third or more (one-segment data of the resolvability
#: study give about 0.5; a posterior equal to the prior gives 1).
NOT_SUPPORTED_BF = 2.0 / 3.0


def distinct_segments(
    weights: np.ndarray,
    kappa: np.ndarray,
    *,
    merge: float = 2.0,
    threshold: float = 0.05,
) -> np.ndarray:
    """Distinct segments of each draw, components along the last axis.

    Parameters
    ----------
    weights, kappa : np.ndarray
        Same shape, components last, ``kappa`` increasing along it.
    merge : float, default 2.0
        A component above the threshold whose ``kappa`` is less than
        ``merge`` times that of the last counted component joins it.
    threshold : float, default 0.05
        Smallest weight of a counted component.

    Returns
    -------
    np.ndarray
        Integer counts, the shape of ``weights`` without its last axis.
    """
    weights, kappa = np.asarray(weights), np.asarray(kappa)
    if weights.shape != kappa.shape:
        raise ValueError(
            f"weights and kappa must have the same shape, got {weights.shape} "
            f"and {kappa.shape}."
        )
    if not merge >= 1:
        raise ValueError(f"merge must be >= 1, got {merge}.")
    counts = np.zeros(weights.shape[:-1], dtype=int)
    last = np.full(weights.shape[:-1], np.nan)
    for k in range(weights.shape[-1]):
        new = (weights[..., k] > threshold) & ~(kappa[..., k] < merge * last)
        counts += new
        last = np.where(new, kappa[..., k], last)
    return counts


def distinct_segment_draws(
    weights: xr.DataArray, kappa: xr.DataArray, **kwargs: Any
) -> xr.DataArray:
    """:func:`distinct_segments` of every draw, on named dims.

    ``weights`` and ``kappa`` need the ``component`` dim; the result has the
    other dims of ``weights`` (a dim only ``kappa`` has, such as a per-geo
    kappa, is reduced by the maximum). Keyword arguments go to
    :func:`distinct_segments`.
    """
    keep = set(weights.dims)
    weights, kappa = xr.broadcast(weights, kappa)
    dims = [d for d in weights.dims if d != COMPONENT_DIM]
    weights = weights.transpose(*dims, COMPONENT_DIM)
    kappa = kappa.transpose(*dims, COMPONENT_DIM)
    values = distinct_segments(weights.values, kappa.values, **kwargs)
    counts = xr.DataArray(values, dims=dims, coords={d: weights[d] for d in dims})
    # where kappa varies over a dim the weights do not have (e.g. geo), a
    # draw has as many segments as its count in any of those
    return counts.max([d for d in dims if d not in keep])


def _prior_draws(model: Any, posterior: xr.Dataset, draws: int, seed: int):
    saturation = model.saturation
    coords = {
        dim: posterior[dim].values
        for dim in posterior.dims
        if dim not in (*SAMPLE_DIMS, COMPONENT_DIM) and dim in posterior.coords
    }
    return saturation.sample_prior(coords=coords, draws=draws, random_seed=seed)


def segment_evidence(
    model: Any,
    *,
    merge: float = 2.0,
    threshold: float = 0.05,
    prior_draws: int = 4000,
    random_seed: int = 0,
    prefix: str = "saturation",
) -> pd.DataFrame:
    """Distinct segments per channel and whether the data could show a second.

    Parameters
    ----------
    model : MMM
        A fitted MMM with the mixture saturation (its prior is sampled from
        ``model.saturation``).
    merge, threshold : float
        See :func:`distinct_segments`.
    prior_draws : int, default 4000
        Draws of the saturation's priors for the prior probability.
    random_seed : int, default 0
    prefix : str, default "saturation"

    Returns
    -------
    pd.DataFrame
        One row per channel (and other dim of the weights): ``segments``
        (posterior median of the distinct segments), ``p_two_prior`` and
        ``p_two_posterior`` (probability of two or more), ``bayes_factor``
        and ``second_segment``: ``"supported"`` (BF >= 3 and posterior
        probability >= 1/2), ``"not supported"`` (BF <= 2/3: the data
        lowered the odds of a second segment) or ``"undetermined"`` (the
        data could not tell).
    """
    posterior = get_posterior(model)
    weights = mixture_variable(posterior, prefix, "weights")
    kappa = mixture_variable(posterior, prefix, "kappa")
    options = {"merge": merge, "threshold": threshold}
    counts = distinct_segment_draws(weights, kappa, **options)
    prior = _prior_draws(model, posterior, prior_draws, random_seed)
    prior_counts = distinct_segment_draws(
        prior[f"{prefix}_weights"], prior[f"{prefix}_kappa"], **options
    )
    p_post = (counts >= 2).mean(SAMPLE_DIMS)
    p_prior = (prior_counts >= 2).mean(SAMPLE_DIMS)
    p_prior, p_post = xr.broadcast(p_prior, p_post)
    n_draws = counts.sizes["chain"] * counts.sizes["draw"]
    odds = bayes_factor(p_post, p_prior, n_draws)
    table = xr.Dataset(
        {
            "segments": counts.median(SAMPLE_DIMS),
            "p_two_prior": p_prior,
            "p_two_posterior": p_post,
            "bayes_factor": odds,
        }
    ).to_dataframe()
    table = table[["segments", "p_two_prior", "p_two_posterior", "bayes_factor"]]
    table["second_segment"] = [
        verdict(bf, p)
        for bf, p in zip(table["bayes_factor"], table["p_two_posterior"], strict=True)
    ]
    return table


def bayes_factor(p_two_posterior: Any, p_two_prior: Any, n_draws: int) -> Any:
    """Posterior odds of two or more segments over their prior odds.

    Both probabilities are kept half a draw away from 0 and 1 (``0.5 /
    n_draws``), so a probability estimated as 0 or 1 gives a large but finite
    factor. Works on floats, arrays and ``DataArray``.

    Examples
    --------
    >>> round(float(bayes_factor(0.8, 0.5, 1000)), 6)
    4.0
    """
    eps = 0.5 / n_draws
    post = np.clip(p_two_posterior, eps, 1 - eps)
    prior = np.clip(p_two_prior, eps, 1 - eps)
    return (post / (1 - post)) / (prior / (1 - prior))


def verdict(bayes_factor: float, p_two_posterior: float) -> str:
    """Words for the evidence on a second segment (see :func:`segment_evidence`).

    Examples
    --------
    >>> verdict(8.0, 0.9), verdict(0.4, 0.1), verdict(0.9, 0.3)
    ('supported', 'not supported', 'undetermined')
    """
    if bayes_factor >= SUPPORTED_BF and p_two_posterior >= 0.5:
        return "supported"
    if bayes_factor <= NOT_SUPPORTED_BF:
        return "not supported"
    return "undetermined"
