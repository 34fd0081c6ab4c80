"""Per-channel component tables for a fitted mixture saturation.

How many audience segments does each channel have, how big is each, and at
what spend does it saturate? :func:`component_table` answers per component,
:func:`effective_components` per channel.

Examples
--------
.. code-block:: python

    from pmm_mixture.summary import component_table, effective_components

    # mmm: a fitted MMM with saturation=MixtureHillSaturation(...)
    print(component_table(mmm))
    print(effective_components(mmm))
"""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from pmm_mixture.priors import COMPONENT_DIM

SAMPLE_DIMS = ("chain", "draw")


def _posterior(model: Any) -> xr.Dataset:
    idata = getattr(model, "idata", model)
    posterior = None
    if idata is not None:
        try:
            posterior = idata["posterior"]
        except (KeyError, TypeError):
            posterior = None
    if posterior is None:
        raise ValueError(
            "No posterior found: fit the model first (mmm.fit(...)) or pass an "
            "InferenceData/DataTree with a posterior group."
        )
    return posterior.to_dataset() if hasattr(posterior, "to_dataset") else posterior


def _mixture_variable(posterior: xr.Dataset, prefix: str, name: str) -> xr.DataArray:
    var = f"{prefix}_{name}"
    if var not in posterior or COMPONENT_DIM not in posterior[var].dims:
        raise ValueError(
            f"The posterior has no {var!r} with a {COMPONENT_DIM!r} dim: this "
            "model was not fitted with MixtureHillSaturation (or uses another "
            "prefix)."
        )
    return posterior[var]


def _channel_scale(model: Any) -> xr.DataArray | None:
    idata = getattr(model, "idata", model)
    try:
        return idata["constant_data"]["channel_scale"]
    except (KeyError, TypeError):
        return None


def weights_entropy_components(weights: xr.DataArray) -> xr.DataArray:
    """Exp of the entropy of the weights: 1 for one segment, K for K equal ones.

    Parameters
    ----------
    weights : xr.DataArray
        Weights with a ``component`` dim that sum to one along it.

    Returns
    -------
    xr.DataArray
        The weights' perplexity, without the ``component`` dim.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> w = xr.DataArray(np.array([0.5, 0.5, 0.0]), dims=("component",))
    >>> round(float(weights_entropy_components(w)), 6)
    2.0
    """
    w = weights.clip(min=0.0)
    plogp = xr.where(w > 0, w * np.log(w.where(w > 0, 1.0)), 0.0)
    return np.exp(-plogp.sum(COMPONENT_DIM))


def effective_components(
    model: Any,
    *,
    threshold: float = 0.05,
    hdi_prob: float = 0.94,
    prefix: str = "saturation",
) -> pd.DataFrame:
    """Effective number of components per channel.

    Two measures, each summarised over the posterior:

    - ``n_active``: the number of components whose **posterior mean** weight
      exceeds ``threshold``, and ``n_active_mean``: the posterior mean of the
      per-draw count of weights above it;
    - ``n_entropy``: exp of the entropy of the weights (perplexity), with its
      posterior mean and HDI.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM, or its ``idata``.
    threshold : float, default 0.05
        Weight above which a component counts as active.
    hdi_prob : float, default 0.94
    prefix : str, default "saturation"

    Returns
    -------
    pd.DataFrame
        One row per channel (and extra dim), columns ``n_active``,
        ``n_active_mean``, ``n_entropy_mean``, ``n_entropy_hdi_low``,
        ``n_entropy_hdi_high``.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}.")
    weights = _mixture_variable(_posterior(model), prefix, "weights")
    entropy = weights_entropy_components(weights)
    entropy_hdi = az.hdi(entropy, prob=hdi_prob, dim=list(SAMPLE_DIMS))
    table = xr.Dataset(
        {
            "n_active": (weights.mean(SAMPLE_DIMS) > threshold).sum(COMPONENT_DIM),
            "n_active_mean": (weights > threshold).sum(COMPONENT_DIM).mean(SAMPLE_DIMS),
            "n_entropy_mean": entropy.mean(SAMPLE_DIMS),
            "n_entropy_hdi_low": entropy_hdi.sel(ci_bound="lower", drop=True),
            "n_entropy_hdi_high": entropy_hdi.sel(ci_bound="upper", drop=True),
        }
    )
    return table.to_dataframe()


def component_table(
    model: Any,
    *,
    threshold: float = 0.05,
    hdi_prob: float = 0.94,
    prefix: str = "saturation",
) -> pd.DataFrame:
    """Posterior mean and HDI of each component's weight, kappa and slope.

    Components appear in order of increasing ``kappa``. ``kappa_spend`` is the
    half-saturation point in the channel's original spend units (kappa times
    the MMM's channel scale; per period of adstocked spend when adstock comes
    first). ``active`` marks components whose posterior mean weight exceeds
    ``threshold``.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM, or its ``idata``.
    threshold : float, default 0.05
    hdi_prob : float, default 0.94
    prefix : str, default "saturation"

    Returns
    -------
    pd.DataFrame
        One row per (channel, [extra dims], component) with columns
        ``<param>_mean``, ``<param>_hdi_low``, ``<param>_hdi_high`` for
        ``weight``, ``kappa``, ``kappa_spend`` (if the channel scale is known)
        and ``slope``, plus ``active``.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}.")
    posterior = _posterior(model)
    parameters = {
        "weight": _mixture_variable(posterior, prefix, "weights"),
        "kappa": _mixture_variable(posterior, prefix, "kappa"),
        "slope": _mixture_variable(posterior, prefix, "slope"),
    }
    scale = _channel_scale(model)
    if scale is not None:
        parameters["kappa_spend"] = parameters["kappa"] * scale

    columns = {}
    for name, samples in parameters.items():
        hdi = az.hdi(samples, prob=hdi_prob, dim=list(SAMPLE_DIMS))
        columns[f"{name}_mean"] = samples.mean(SAMPLE_DIMS)
        columns[f"{name}_hdi_low"] = hdi.sel(ci_bound="lower", drop=True)
        columns[f"{name}_hdi_high"] = hdi.sel(ci_bound="upper", drop=True)
    table = xr.Dataset(columns)
    table["active"] = table["weight_mean"] > threshold
    order = [d for d in ("channel",) if d in table.dims]
    order += [d for d in table.dims if d not in ("channel", COMPONENT_DIM)]
    order.append(COMPONENT_DIM)
    return table.to_dataframe(dim_order=order)
