"""Convergence diagnostics that do not depend on component labels.

R-hat on a mixture's component parameters is misleading: a pruned component
wanders over its prior, and components can trade places between chains while
the channel's curve stays the same. The quantities checked here are invariant
to component labels: each channel's curve on a spend grid, the channel
contributions, ``beta``, and the pointwise log-likelihood when it was stored.

Examples
--------
.. code-block:: python

    from pmm_mixture.diagnostics import label_invariant_diagnostics

    # mmm: a fitted MMM with saturation=MixtureHillSaturation(...)
    table = label_invariant_diagnostics(mmm)
    assert (table["r_hat_max"] <= 1.01).all()
"""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from pmm_mixture.curves import SAMPLE_DIMS, mixture_curves
from pmm_mixture.summary import _posterior


def n_divergences(model: Any) -> int:
    """Count the divergent transitions after tuning."""
    idata = getattr(model, "idata", model)
    try:
        diverging = idata["sample_stats"]["diverging"]
    except (KeyError, TypeError) as error:
        raise ValueError(
            "No sample_stats with 'diverging' found: fit first."
        ) from error
    return int(diverging.sum())


def label_invariant_quantities(
    model: Any, *, n_points: int = 20, prefix: str = "saturation"
) -> dict[str, xr.DataArray]:
    """Posterior draws of the label-invariant quantities.

    Returns
    -------
    dict of str to xr.DataArray
        ``curve`` (the channel curves on ``n_points`` positive grid points up
        to the largest scaled spend), ``channel_contribution``, ``beta``, and
        ``log_likelihood`` if the idata has that group.
    """
    posterior = _posterior(model)
    curve = mixture_curves(
        model, n_points=n_points + 1, original_scale=False, prefix=prefix
    )["total"]
    quantities = {
        "curve": curve.isel(x=slice(1, None)).drop_vars("spend"),
        f"{prefix}_beta": posterior[f"{prefix}_beta"],
    }
    if "channel_contribution" in posterior:
        quantities["channel_contribution"] = posterior["channel_contribution"]
    idata = getattr(model, "idata", model)
    try:
        log_likelihood = idata["log_likelihood"]
    except (KeyError, TypeError):
        log_likelihood = None
    if log_likelihood is not None:
        for name, values in log_likelihood.data_vars.items():
            quantities[f"log_likelihood_{name}"] = values
    return quantities


def label_invariant_diagnostics(
    model: Any, *, n_points: int = 20, prefix: str = "saturation"
) -> pd.DataFrame:
    """Worst R-hat and lowest bulk and tail ESS of each label-invariant quantity.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    n_points : int, default 20
        Grid points (excluding 0) at which the channel curves are checked.
    prefix : str, default "saturation"

    Returns
    -------
    pd.DataFrame
        Index: quantity; columns ``r_hat_max``, ``ess_bulk_min``,
        ``ess_tail_min``.
    """
    rows = {}
    for name, draws in label_invariant_quantities(
        model, n_points=n_points, prefix=prefix
    ).items():
        rows[name] = {
            "r_hat_max": _finite_max(az.rhat(draws, sample_dims=list(SAMPLE_DIMS))),
            "ess_bulk_min": _finite_min(
                az.ess(draws, sample_dims=list(SAMPLE_DIMS), method="bulk")
            ),
            "ess_tail_min": _finite_min(
                az.ess(draws, sample_dims=list(SAMPLE_DIMS), method="tail")
            ),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _finite_max(values: xr.DataArray) -> float:
    finite = np.asarray(values)[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _finite_min(values: xr.DataArray) -> float:
    finite = np.asarray(values)[np.isfinite(values)]
    return float(finite.min()) if finite.size else float("nan")
