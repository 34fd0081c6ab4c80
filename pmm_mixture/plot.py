"""Plots of a fitted mixture saturation, in original units.

:func:`plot_channel_curves` draws, per channel, the fitted response curve with
its HDI band and each active component's own curve, the observed spend range
shaded, and, when given, the true curve and segments.

Examples
--------
.. code-block:: python

    from pmm_mixture.plot import plot_channel_curves

    # mmm: a fitted MMM with saturation=MixtureHillSaturation(...)
    fig, axes = plot_channel_curves(mmm)
    fig.savefig("curves.png")
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pmm_mixture.curves import mixture_curves, observed_spend_range
from pmm_mixture.posterior import SAMPLE_DIMS, get_posterior, mixture_variable
from pmm_mixture.priors import COMPONENT_DIM
from pmm_mixture.summary import (
    active_components,
    weights_entropy_components,
)


def plot_channel_curves(
    model: Any,
    truth: Mapping[str, Any] | None = None,
    *,
    hdi_prob: float = 0.94,
    threshold: float = 0.05,
    max_value: float = 1.2,
    n_points: int = 120,
    axes: np.ndarray | None = None,
    figsize: tuple[float, float] | None = None,
    prefix: str = "saturation",
) -> tuple[Figure, np.ndarray]:
    """Fitted curve per channel with its HDI band and its active components.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    truth : mapping of channel name to truth, optional
        Objects with ``curve(spend)`` and ``segment_curves(spend)`` in original
        units (e.g. :class:`pmm_mixture.synthetic.ChannelTruth`), drawn dashed.
    hdi_prob : float, default 0.94
    threshold : float, default 0.05
        Components whose posterior median weight is at most this are not drawn
        (see :func:`pmm_mixture.summary.active_components`).
    max_value : float, default 1.2
        Grid end in the model's channel scale.
    n_points : int, default 120
    axes : array of Axes, optional
        One per panel (channel times extra-dim combination).
    figsize : tuple, optional
    prefix : str, default "saturation"

    Returns
    -------
    tuple[Figure, np.ndarray]
        The figure and its axes.
    """
    curves = mixture_curves(
        model, max_value=max_value, n_points=n_points, prefix=prefix
    )
    total, components = curves["total"], curves["components"]
    weight_median = model_weights_median(model, prefix)
    active = active_components(
        mixture_variable(get_posterior(model), prefix, "weights"), threshold
    )
    observed = observed_spend_range(model)
    hdi = az.hdi(total, prob=hdi_prob, dim=list(SAMPLE_DIMS))

    extra_dims = [d for d in total.dims if d not in (*SAMPLE_DIMS, "channel", "x")]
    extra_values = [total[d].values for d in extra_dims]
    panels = [
        {"channel": channel, **dict(zip(extra_dims, combo, strict=True))}
        for combo in itertools.product(*extra_values)
        for channel in total["channel"].values
    ]
    n_channels = total.sizes["channel"]
    n_rows = max(len(panels) // n_channels, 1)
    if axes is None:
        figsize = figsize or (4.2 * n_channels, 3.4 * n_rows)
        fig, axes = plt.subplots(n_rows, n_channels, figsize=figsize, squeeze=False)
    else:
        axes = np.asarray(axes)
        fig = axes.flat[0].get_figure()
        if axes.size < len(panels):
            raise ValueError(f"Need {len(panels)} axes, got {axes.size}.")

    for ax, sel in zip(axes.flat, panels, strict=False):
        _plot_panel(
            ax,
            sel,
            total=total,
            components=components,
            hdi=hdi,
            weight_median=weight_median,
            active=active,
            observed=observed,
            truth=None if truth is None else truth.get(str(sel["channel"])),
            hdi_prob=hdi_prob,
        )
    fig.tight_layout()
    return fig, axes


def model_weights_median(model: Any, prefix: str = "saturation") -> xr.DataArray:
    """Posterior median of the component weights (as the tables report)."""
    return mixture_variable(get_posterior(model), prefix, "weights").median(SAMPLE_DIMS)


def _plot_panel(
    ax: Axes,
    sel: dict[str, Any],
    *,
    total: xr.DataArray,
    components: xr.DataArray,
    hdi: xr.DataArray,
    weight_median: xr.DataArray,
    active: xr.DataArray,
    observed: xr.DataArray | None,
    truth: Any,
    hdi_prob: float,
) -> None:
    spend = total["spend"].sel(_only(sel, total["spend"].dims)).values
    band = hdi.sel(sel)
    ax.fill_between(
        spend,
        band.sel(ci_bound="lower").values,
        band.sel(ci_bound="upper").values,
        color="C0",
        alpha=0.25,
        label=f"{hdi_prob:.0%} HDI",
    )
    ax.plot(spend, total.sel(sel).mean(SAMPLE_DIMS).values, color="C0", label="fitted")
    weights = weight_median.sel(_only(sel, weight_median.dims))
    is_active = active.sel(_only(sel, active.dims))
    component_mean = components.sel(sel).mean(SAMPLE_DIMS)
    for k in component_mean[COMPONENT_DIM].values:
        w = float(weights.sel({COMPONENT_DIM: k}))
        if not bool(is_active.sel({COMPONENT_DIM: k})):
            continue
        ax.plot(
            spend,
            component_mean.sel({COMPONENT_DIM: k}).values,
            color="C0",
            linestyle=":",
            linewidth=1.2,
            label=f"component {k} (w={w:.2f})",
        )
    if truth is not None:
        ax.plot(spend, truth.curve(spend), color="k", linestyle="--", label="truth")
        segments = truth.segment_curves(spend)
        if len(segments) > 1:
            for j, segment in enumerate(segments):
                ax.plot(
                    spend,
                    segment,
                    color="0.4",
                    linestyle="-.",
                    linewidth=0.9,
                    label="true segments" if j == 0 else None,
                )
    if observed is not None:
        bounds = observed.sel(_only(sel, observed.dims))
        ax.axvspan(
            float(bounds.sel(bound="low")),
            float(bounds.sel(bound="high")),
            color="0.9",
            zorder=0,
            label="observed spend",
        )
    title = ", ".join(str(v) for v in sel.values())
    ax.set(title=title, xlabel="spend per period", ylabel="contribution")
    ax.legend(fontsize=7, loc="lower right")


def _only(sel: dict[str, Any], dims: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in sel.items() if k in dims}


def plot_weights_forest(
    model: Any,
    *,
    hdi_prob: float = 0.94,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
    prefix: str = "saturation",
) -> tuple[Figure, Axes]:
    """Forest plot of the component weights: posterior median and HDI per channel.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    hdi_prob : float, default 0.94
    ax : Axes, optional
    figsize : tuple, optional
    prefix : str, default "saturation"

    Returns
    -------
    tuple[Figure, Axes]
    """
    weights = mixture_variable(get_posterior(model), prefix, "weights")
    other = [d for d in weights.dims if d not in (*SAMPLE_DIMS, COMPONENT_DIM)]
    stacked = weights.stack(row=[*other, COMPONENT_DIM])
    hdi = az.hdi(stacked, prob=hdi_prob, dim=list(SAMPLE_DIMS))
    median = stacked.median(SAMPLE_DIMS)
    n_rows = stacked.sizes["row"]
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (6.0, 0.35 * n_rows + 1.2))
    else:
        fig = ax.get_figure()
    labels = [", ".join(map(str, key)) for key in stacked["row"].values]
    positions = np.arange(n_rows)[::-1]
    groups = [key[:-1] for key in stacked["row"].values]
    colors = {group: f"C{i}" for i, group in enumerate(dict.fromkeys(groups))}
    for y, group, low, high, m in zip(
        positions,
        groups,
        hdi.sel(ci_bound="lower").values,
        hdi.sel(ci_bound="upper").values,
        median.values,
        strict=True,
    ):
        ax.hlines(y, low, high, color=colors[group], linewidth=2)
        ax.plot(m, y, "o", color=colors[group])
    ax.set_yticks(positions, labels)
    ax.set_xlim(-0.02, 1.02)
    ax.set(
        xlabel=f"weight (median and {hdi_prob:.0%} HDI)",
        title="Component weights per channel",
    )
    fig.tight_layout()
    return fig, ax


def plot_effective_components(
    model: Any,
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
    prefix: str = "saturation",
) -> tuple[Figure, Axes]:
    """Posterior of each channel's effective number of components.

    The effective number is the exp of the entropy of the weights, per draw:
    1 for one segment, K for K equal segments.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    ax : Axes, optional
    figsize : tuple, optional
    prefix : str, default "saturation"

    Returns
    -------
    tuple[Figure, Axes]
    """
    weights = mixture_variable(get_posterior(model), prefix, "weights")
    effective = weights_entropy_components(weights)
    other = [d for d in effective.dims if d not in SAMPLE_DIMS]
    stacked = (
        effective.stack(panel=other) if other else effective.expand_dims(panel=[""])
    )
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or (6.0, 3.5))
    else:
        fig = ax.get_figure()
    n_components = weights.sizes[COMPONENT_DIM]
    bins = np.linspace(1.0, n_components, 8 * (n_components - 1) + 1)
    for key in stacked["panel"].values:
        values = stacked.sel(panel=key).values.ravel()
        label = ", ".join(map(str, key)) if isinstance(key, tuple) else str(key)
        ax.hist(
            values,
            bins=bins,
            histtype="step",
            density=True,
            linewidth=1.6,
            label=f"{label} (median {np.median(values):.2f})",
        )
    ax.set(
        xlabel="effective number of components (exp entropy of the weights)",
        ylabel="posterior density",
        title="Segments per channel",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, ax
