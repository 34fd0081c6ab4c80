"""Where the fitted mixture's draws are: one lookup for every reader.

The tables, curves, diagnostics, plots and segment evidence all read a fitted
MMM (or its ``idata``) through these functions. A mixture's component dim
follows its prefix (``"component"`` for the default ``"saturation"``,
``"<prefix>_component"`` otherwise); :func:`mixture_variable` returns it as
``"component"``, so the readers work for any prefix.

Examples
--------
>>> import numpy as np, xarray as xr
>>> from pmm_mixture.posterior import get_posterior, mixture_variable
>>> dims = ("chain", "draw", "channel", "tv_mix_component")
>>> posterior = xr.Dataset({"tv_mix_weights": (dims, np.full((1, 2, 1, 2), 0.5))})
>>> idata = xr.DataTree.from_dict({"/posterior": posterior})
>>> mixture_variable(get_posterior(idata), "tv_mix", "weights").dims
('chain', 'draw', 'channel', 'component')
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from pmm_mixture.priors import COMPONENT_DIM, component_dims_for_prefix

__all__ = ["SAMPLE_DIMS", "channel_scale", "get_posterior", "mixture_variable"]

SAMPLE_DIMS = ("chain", "draw")


def get_posterior(model: Any) -> xr.Dataset:
    """Return the posterior of a fitted MMM, or of an InferenceData / DataTree.

    Raises
    ------
    ValueError
        If there is no posterior (the model was not fitted).
    """
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


def mixture_variable(posterior: xr.Dataset, prefix: str, name: str) -> xr.DataArray:
    """Return the draws of ``<prefix>_<name>``, component dim named ``component``.

    Raises
    ------
    ValueError
        If the posterior has no such variable with the prefix's component dim.
    """
    var = f"{prefix}_{name}"
    dim = component_dims_for_prefix(prefix)[0]
    if var not in posterior or dim not in posterior[var].dims:
        raise ValueError(
            f"The posterior has no {var!r} with a {dim!r} dim: this model was "
            "not fitted with MixtureHillSaturation (or uses another prefix)."
        )
    draws = posterior[var]
    return draws if dim == COMPONENT_DIM else draws.rename({dim: COMPONENT_DIM})


def channel_scale(model: Any) -> xr.DataArray | None:
    """Return the MMM's channel scale (``constant_data``), or ``None``."""
    idata = getattr(model, "idata", model)
    try:
        return idata["constant_data"]["channel_scale"]
    except (KeyError, TypeError):
        return None
