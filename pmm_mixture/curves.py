"""Posterior response curves of a fitted mixture, total and per component.

The saturation is evaluated on a spend grid for every posterior draw, in the
model's scale (``x`` in units of the channel scale, response in units of the
target scale) or in original units. Each component's own curve is
``beta * w_k * hill_k / m(1)`` with ``m(1) = sum_k w_k hill_k(1)`` (``beta`` is
the response at the largest scaled spend); the components add up to the
channel's curve.

Examples
--------
.. code-block:: python

    from pmm_mixture.curves import mixture_curves

    # mmm: a fitted MMM with saturation=MixtureHillSaturation(...)
    curves = mixture_curves(mmm, n_points=50)
    curves["total"].mean(("chain", "draw"))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from pmm_mixture.posterior import get_posterior, mixture_variable
from pmm_mixture.priors import COMPONENT_DIM


def hill(x: xr.DataArray, slope: xr.DataArray, kappa: xr.DataArray) -> xr.DataArray:
    """Hill function ``x^s / (kappa^s + x^s)`` in log space; 0 at ``x = 0``.

    Same convention as PyMC-Marketing's ``hill_function``, on xarray objects.

    Examples
    --------
    >>> import xarray as xr
    >>> float(hill(xr.DataArray(2.0), xr.DataArray(3.0), xr.DataArray(2.0)))
    0.5
    """
    safe_x = np.log(x.where(x > 0, 1.0))
    z = slope * (safe_x - np.log(kappa))
    return xr.where(x > 0, 1.0 / (1.0 + np.exp(-z)), 0.0)


def _scales(model: Any) -> tuple[xr.DataArray | float, xr.DataArray | float]:
    idata = getattr(model, "idata", model)
    try:
        constant = idata["constant_data"]
        return constant["channel_scale"], constant["target_scale"]
    except (KeyError, TypeError):
        return 1.0, 1.0


def observed_spend_range(model: Any) -> xr.DataArray | None:
    """Smallest positive and largest observed spend per channel, original units.

    Returns ``None`` when the model's ``constant_data`` has no channel data.
    """
    idata = getattr(model, "idata", model)
    try:
        data = idata["constant_data"]["channel_data"]
    except (KeyError, TypeError):
        return None
    reduce = [d for d in data.dims if d != "channel"]
    low = data.where(data > 0).min(reduce)
    high = data.max(reduce)
    return xr.concat([low, high], dim="bound").assign_coords(bound=["low", "high"])


def mixture_curves(
    model: Any,
    *,
    max_value: float = 1.0,
    n_points: int = 100,
    original_scale: bool = True,
    prefix: str = "saturation",
) -> xr.Dataset:
    """Evaluate the fitted mixture curve and its components on a spend grid.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    max_value : float, default 1.0
        Grid end in the model's channel scale (1.0 = the largest scaled spend
        under PyMC-Marketing's default max scaling).
    n_points : int, default 100
    original_scale : bool, default True
        Multiply the response by the target scale; the grid's ``spend``
        coordinate is always in original units.
    prefix : str, default "saturation"

    Returns
    -------
    xr.Dataset
        ``total`` (chain, draw, channel, [extra dims], x) and ``components``
        (the same with ``component``); coordinates ``x`` (scaled grid) and
        ``spend`` (x times the channel scale).
    """
    if not max_value > 0 or n_points < 2:
        raise ValueError("max_value must be positive and n_points at least 2.")
    posterior = get_posterior(model)
    beta = posterior[f"{prefix}_beta"]
    weights = mixture_variable(posterior, prefix, "weights")
    kappa = mixture_variable(posterior, prefix, "kappa")
    slope = mixture_variable(posterior, prefix, "slope")

    x = xr.DataArray(np.linspace(0.0, max_value, n_points), dims=("x",))
    x = x.assign_coords(x=x.values)
    at_reference = (weights * hill(xr.DataArray(1.0), slope, kappa)).sum(COMPONENT_DIM)
    components = beta / at_reference * weights * hill(x, slope, kappa)
    channel_scale, target_scale = _scales(model)
    if original_scale:
        components = components * target_scale
    total = components.sum(COMPONENT_DIM)
    spend = x * channel_scale
    return xr.Dataset({"total": total, "components": components}).assign_coords(
        spend=spend
    )
