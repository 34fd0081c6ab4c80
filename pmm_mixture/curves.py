"""Posterior response curves of a fitted mixture, total and per component.

The saturation is evaluated on a spend grid for every posterior draw, in the
model's scale (``x`` in units of the channel scale, response in units of the
target scale) or in original units. Each component's own curve is
``beta * w_k * hill_k / m(1)`` with ``m(1) = sum_k w_k hill_k(1)`` (``beta`` is
the response at the largest scaled spend); the components add up to the
channel's curve.

Examples
--------
One draw of a two-component channel; the components add up to the total,
which is ``beta`` at the largest scaled spend (``x = 1``):

>>> import numpy as np, xarray as xr
>>> from pmm_mixture.curves import mixture_curves
>>> dims = ("chain", "draw", "channel", "component")
>>> posterior = xr.Dataset(
...     {
...         "saturation_beta": (dims[:3], np.full((1, 1, 1), 2.0)),
...         "saturation_weights": (dims, np.array([[[[0.4, 0.6]]]])),
...         "saturation_kappa": (dims, np.array([[[[0.2, 0.8]]]])),
...         "saturation_slope": (dims, np.array([[[[2.0, 3.0]]]])),
...     },
...     coords={"channel": ["tv"]},
... )
>>> idata = xr.DataTree.from_dict({"/posterior": posterior})
>>> curves = mixture_curves(idata, n_points=3)
>>> curves["total"].sel(channel="tv").values.round(3).tolist()
[[[0.0, 1.184, 2.0]]]
>>> bool(np.allclose(curves["components"].sum("component"), curves["total"]))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from pmm_mixture.hill import hill
from pmm_mixture.posterior import get_posterior, mixture_variable
from pmm_mixture.priors import COMPONENT_DIM


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
    at_reference = (weights * hill(1.0, slope, kappa)).sum(COMPONENT_DIM)
    components = beta / at_reference * weights * hill(x, slope, kappa)
    channel_scale, target_scale = _scales(model)
    if original_scale:
        components = components * target_scale
    total = components.sum(COMPONENT_DIM)
    spend = x * channel_scale
    return xr.Dataset({"total": total, "components": components}).assign_coords(
        spend=spend
    )
