"""Per-channel component tables for a fitted mixture saturation.

How many audience segments does each channel have, how big is each, and at
what spend does it saturate? :func:`component_table` answers per component,
:func:`effective_components` per channel.

Every table gives posterior medians as point estimates, with HDIs, so that
the same quantity reads the same in each (``component_table`` lists the
posterior mean beside the median as ``*_mean``).

Examples
--------
On a fitted MMM with ``saturation=MixtureHillSaturation(...)``:

.. code-block:: python

    print(component_table(mmm))
    print(effective_components(mmm))
    print(segment_report(mmm))

The functions also take an ``idata``; here a hand-made posterior of one
channel whose second component is pruned:

>>> import numpy as np, xarray as xr
>>> from pmm_mixture.summary import effective_components
>>> weights = np.array([[0.9, 0.1], [0.96, 0.04], [0.98, 0.02], [0.99, 0.01]])
>>> dims = ("chain", "draw", "channel", "component")
>>> posterior = xr.Dataset(
...     {"saturation_weights": (dims, weights[None, :, None, :])},
...     coords={"channel": ["tv"], "component": [0, 1]},
... )
>>> table = effective_components(xr.DataTree.from_dict({"/posterior": posterior}))
>>> int(table.loc["tv", "n_active"]), float(table.loc["tv", "n_active_mean"])
(1, 1.25)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from pmm_mixture.evidence import distinct_segment_draws, segment_evidence
from pmm_mixture.posterior import (
    SAMPLE_DIMS,
    channel_scale,
    get_posterior,
    mixture_variable,
)
from pmm_mixture.priors import COMPONENT_DIM


def _point_and_hdi(
    name: str, draws: xr.DataArray, hdi_prob: float, point: str = "median"
) -> dict[str, xr.DataArray]:
    """Columns ``name`` (posterior median or mean), ``name_hdi_low``/``_high``."""
    hdi = az.hdi(draws, prob=hdi_prob, dim=list(SAMPLE_DIMS))
    return {
        name: getattr(draws, point)(SAMPLE_DIMS),
        f"{name}_hdi_low": hdi.sel(ci_bound="lower", drop=True),
        f"{name}_hdi_high": hdi.sel(ci_bound="upper", drop=True),
    }


def active_components(weights: xr.DataArray, threshold: float = 0.05) -> xr.DataArray:
    """Components whose posterior **median** weight exceeds ``threshold``.

    The median, not the mean: a pruned component's weight has a long right
    tail (draws where it borrows weight), so its mean overstates it. On the
    built-in example the one-segment ``tv`` channel's second component has
    mean weight 0.13 but median 0.01. Equivalently, a component is active when
    its weight exceeds ``threshold`` with posterior probability above 1/2.

    Parameters
    ----------
    weights : xr.DataArray
        Posterior draws with ``chain``, ``draw`` and ``component`` dims.
    threshold : float, default 0.05

    Returns
    -------
    xr.DataArray
        Boolean, without the sample dims.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}.")
    return weights.median(SAMPLE_DIMS) > threshold


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

    - ``n_active``: the number of active components (posterior median weight
      above ``threshold``, see :func:`active_components`), and
      ``n_active_mean``: the posterior mean of the per-draw count of weights
      above it;
    - ``n_entropy``: exp of the entropy of the weights (perplexity), with its
      posterior median (the point estimate, as in every table here), HDI and
      mean.

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
        ``n_active_mean``, ``n_entropy_median``, ``n_entropy_hdi_low``,
        ``n_entropy_hdi_high``, ``n_entropy_mean``.
    """
    weights = mixture_variable(get_posterior(model), prefix, "weights")
    active = active_components(weights, threshold)
    entropy = weights_entropy_components(weights)
    n_entropy = _point_and_hdi("n_entropy", entropy, hdi_prob)
    table = xr.Dataset(
        {
            "n_active": active.sum(COMPONENT_DIM),
            "n_active_mean": (weights > threshold).sum(COMPONENT_DIM).mean(SAMPLE_DIMS),
            "n_entropy_median": n_entropy.pop("n_entropy"),
            **n_entropy,
            "n_entropy_mean": entropy.mean(SAMPLE_DIMS),
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
    """Posterior median, HDI and mean of each component's weight, kappa and slope.

    The median is the point estimate here as in :func:`segment_report`, whose
    ``share``, ``half_saturation_spend`` and ``slope`` of an active segment are
    this table's ``weight_median``, ``kappa_spend_median`` and
    ``slope_median``. The posterior mean is listed beside it (``*_mean``): a
    weight's posterior is skewed (toward 0 for a pruned component, away from
    it for its neighbours), so the two can differ by several points.
    Components appear in order of increasing ``kappa``. ``kappa_spend`` is the
    half-saturation point in the channel's original spend units (kappa times
    the MMM's channel scale; per period of adstocked spend when adstock comes
    first). ``active`` marks components whose posterior median weight exceeds
    ``threshold`` (see :func:`active_components`).

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
        ``<param>_median``, ``<param>_hdi_low``, ``<param>_hdi_high`` and
        ``<param>_mean`` for ``weight``, ``kappa``, ``kappa_spend`` (if the
        channel scale is known) and ``slope``, plus ``active``.

    Examples
    --------
    A hand-made posterior: one channel, two components, four draws.

    >>> import numpy as np, xarray as xr
    >>> from pmm_mixture.summary import component_table
    >>> w0 = np.array([0.53, 0.53, 0.53, 0.30])  # median 0.53, mean 0.4725
    >>> weights = np.stack([w0, 1 - w0], axis=-1)[None, :, None, :]
    >>> dims = ("chain", "draw", "channel", "component")
    >>> posterior = xr.Dataset(
    ...     {
    ...         "saturation_weights": (dims, weights),
    ...         "saturation_kappa": (dims, np.full(weights.shape, [0.2, 0.8])),
    ...         "saturation_slope": (dims, np.full(weights.shape, 2.0)),
    ...     },
    ...     coords={"channel": ["search"], "component": [0, 1]},
    ... )
    >>> idata = xr.DataTree.from_dict({"/posterior": posterior})
    >>> table = component_table(idata)
    >>> search = table.loc["search"].round(4)
    >>> search["weight_median"].tolist(), search["weight_mean"].tolist()
    ([0.53, 0.47], [0.4725, 0.5275])
    >>> search["kappa_median"].tolist(), search["active"].tolist()
    ([0.2, 0.8], [True, True])
    """
    posterior = get_posterior(model)
    parameters = {
        "weight": mixture_variable(posterior, prefix, "weights"),
        "kappa": mixture_variable(posterior, prefix, "kappa"),
        "slope": mixture_variable(posterior, prefix, "slope"),
    }
    scale = channel_scale(model)
    if scale is not None:
        parameters["kappa_spend"] = parameters["kappa"] * scale

    columns = {}
    for name, samples in parameters.items():
        point = _point_and_hdi(name, samples, hdi_prob)
        columns[f"{name}_median"] = point.pop(name)
        columns |= point
        columns[f"{name}_mean"] = samples.mean(SAMPLE_DIMS)
    table = xr.Dataset(columns)
    table["active"] = active_components(parameters["weight"], threshold)
    order = [d for d in ("channel",) if d in table.dims]
    order += [d for d in table.dims if d not in ("channel", COMPONENT_DIM)]
    order.append(COMPONENT_DIM)
    return table.to_dataframe(dim_order=order)


@dataclass(frozen=True)
class SegmentReport:
    """Audience segments found per channel; see :func:`segment_report`.

    Attributes
    ----------
    segments : pd.DataFrame
        One row per active segment, posterior medians with HDIs (the
        ``*_median`` columns of :func:`component_table`): ``share`` of the
        channel's maximum effect, ``half_saturation_spend`` and
        ``saturation_90_spend`` (spend per period at which the segment reaches
        50 % and 90 % of its own maximum), and ``slope``.
    channels : pd.DataFrame
        One row per channel: ``n_segments``, the segments the data support
        (``distinct_segments`` where a second segment is "supported", else
        1; without the evidence, for a bare ``idata``, ``distinct_segments``);
        ``distinct_segments``, the posterior median number of distinct
        segments (components above the weight threshold, those whose kappas
        are within 2x of each other counted once, see
        :func:`pmm_mixture.evidence.distinct_segments`); the
        ``n_active_components``, effective number of
        components (exp-entropy median, HDI and mean), the ``pruned``
        components and, for a fitted MMM, the evidence on a second segment
        (``p_two_prior``, ``p_two_posterior``,
        ``bayes_factor``, ``second_segment``; see
        :func:`pmm_mixture.evidence.segment_evidence`).
    hdi_prob : float
        Probability mass of the HDIs.
    """

    segments: pd.DataFrame
    channels: pd.DataFrame
    hdi_prob: float = 0.94

    def __str__(self) -> str:
        """Plain-words report, one paragraph per channel."""
        paragraphs = []
        for key, row in self.channels.iterrows():
            name = key if isinstance(key, str) else ", ".join(map(str, key))
            lines = [
                f"{name}: {row['n_segments']} segment(s) "
                f"({row['n_active_components']} active component(s), "
                f"effective number {row['n_entropy_median']:.2f}, "
                f"{self.hdi_prob:.0%} HDI "
                f"{row['n_entropy_hdi_low']:.2f}-{row['n_entropy_hdi_high']:.2f})"
            ]
            levels = list(self.channels.index.names)
            extra = [n for n in self.segments.index.names if n not in levels]
            keys = self.segments.index.droplevel(extra).to_flat_index()
            for index, seg in self.segments[keys == key].iterrows():
                where = dict(zip(self.segments.index.names, index, strict=True))
                label = f"segment {where.pop(COMPONENT_DIM)}"
                if other := [str(where[n]) for n in extra if n != COMPONENT_DIM]:
                    label += f" ({', '.join(other)})"
                lines.append(
                    f"  {label}: {seg['share']:.0%} of the channel's "
                    f"maximum effect ({seg['share_hdi_low']:.0%}-"
                    f"{seg['share_hdi_high']:.0%}); half-saturates at "
                    f"{seg['half_saturation_spend']:,.0f} per period "
                    f"({seg['half_saturation_spend_hdi_low']:,.0f}-"
                    f"{seg['half_saturation_spend_hdi_high']:,.0f}), 90% saturated "
                    f"at {seg['saturation_90_spend']:,.0f}"
                )
            if row["pruned"]:
                lines.append(f"  pruned components: {row['pruned']}")
            if "second_segment" in row.index:
                lines.append(_evidence_line(row))
            paragraphs.append("\n".join(lines))
        return "\n\n".join(paragraphs)


def _evidence_line(row: pd.Series) -> str:
    """One line on whether the data could show a second distinct segment."""
    probabilities = (
        f"probability of two or more distinct segments "
        f"{row['p_two_posterior']:.2f} against {row['p_two_prior']:.2f} a priori, "
        f"Bayes factor {row['bayes_factor']:.2g}"
    )
    meaning = {
        "supported": "the data show a second segment",
        "not supported": "the data speak against a second segment",
        "undetermined": "these data cannot tell whether there is a second segment",
    }[row["second_segment"]]
    return f"  {meaning} ({probabilities})"


def segment_report(
    model: Any,
    *,
    threshold: float = 0.05,
    hdi_prob: float = 0.94,
    prefix: str = "saturation",
    evidence: bool = True,
) -> SegmentReport:
    """How many audience segments each channel has, how big, where they saturate.

    The count of segments is the posterior median of the distinct segments
    per draw: components whose weight exceeds ``threshold``, with components
    whose kappas lie within 2x of each other counted once (one segment
    spread over neighbouring components). For a fitted MMM a second segment
    is counted only when the data support it against the prior (Bayes factor
    >= 3, see :func:`pmm_mixture.evidence.segment_evidence`); in the
    resolvability study this rule found a second segment 4x or more apart
    in 5 of 6 fits and one on 1 of 30 one-segment data sets. The table
    lists every active component (posterior median weight above
    ``threshold``, see :func:`active_components`); the others are reported
    as pruned. Spend is in the
    channel's original units per period (adstocked spend when adstock comes
    first); without a channel scale in the model's data it is in model units.

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    threshold : float, default 0.05
    hdi_prob : float, default 0.94
    prefix : str, default "saturation"
    evidence : bool, default True
        For a fitted MMM (which carries its saturation's priors), add per
        channel whether the data could show a second segment
        (:func:`pmm_mixture.evidence.segment_evidence`: distinct segments, the
        prior and posterior probability of two or more, their Bayes factor
        and a verdict). Skipped for a bare ``idata``.

    Returns
    -------
    SegmentReport
        Tables of segments and channels; ``print(report)`` reads as text.

    Examples
    --------
    A hand-made posterior: one channel with channel scale 1000, two
    components, four draws.

    >>> import numpy as np, xarray as xr
    >>> from pmm_mixture.summary import segment_report
    >>> w0 = np.array([0.53, 0.53, 0.53, 0.30])
    >>> weights = np.stack([w0, 1 - w0], axis=-1)[None, :, None, :]
    >>> dims = ("chain", "draw", "channel", "component")
    >>> posterior = xr.Dataset(
    ...     {
    ...         "saturation_weights": (dims, weights),
    ...         "saturation_kappa": (dims, np.full(weights.shape, [0.2, 0.8])),
    ...         "saturation_slope": (dims, np.full(weights.shape, 2.0)),
    ...     },
    ...     coords={"channel": ["search"], "component": [0, 1]},
    ... )
    >>> scale = xr.Dataset({"channel_scale": ("channel", [1000.0])},
    ...                    coords={"channel": ["search"]})
    >>> idata = xr.DataTree.from_dict(
    ...     {"/posterior": posterior, "/constant_data": scale}
    ... )
    >>> print(segment_report(idata, hdi_prob=0.5))  # doctest: +NORMALIZE_WHITESPACE
    search: 2 segment(s) (2 active component(s), effective number 2.00,
    50% HDI 2.00-2.00)
      segment 0: 53% of the channel's maximum effect (53%-53%); half-saturates at
      200 per period (200-200), 90% saturated at 600
      segment 1: 47% of the channel's maximum effect (47%-47%); half-saturates at
      800 per period (800-800), 90% saturated at 2,400
    """
    posterior = get_posterior(model)
    weights = mixture_variable(posterior, prefix, "weights")
    is_active = active_components(weights, threshold)
    kappa = mixture_variable(posterior, prefix, "kappa")
    slope = mixture_variable(posterior, prefix, "slope")
    scale = channel_scale(model)
    scale = 1.0 if scale is None else scale
    # Hill curve reaches a fraction q of its maximum at kappa * (q / (1 - q))^(1/s)
    draws = {
        "share": weights,
        "half_saturation_spend": kappa * scale,
        "saturation_90_spend": kappa * scale * 9.0 ** (1.0 / slope),
        "slope": slope,
    }
    # medians, as in component_table: spend points of weak segments are
    # heavy-tailed and weights skewed
    columns = {}
    for name, values in draws.items():
        columns |= _point_and_hdi(name, values, hdi_prob)
    table = xr.Dataset(columns)
    table["active"] = is_active
    order = ["channel", *[d for d in table.dims if d not in ("channel", COMPONENT_DIM)]]
    segments = table.to_dataframe(dim_order=[*order, COMPONENT_DIM])
    active = segments.pop("active")

    channels = effective_components(
        model, threshold=threshold, hdi_prob=hdi_prob, prefix=prefix
    ).rename(columns={"n_active": "n_active_components"})
    channel_levels = list(channels.index.names)
    evidence_table = None
    if evidence and hasattr(model, "saturation"):
        evidence_table = segment_evidence(model, threshold=threshold, prefix=prefix)
        distinct = evidence_table.pop("segments")
    else:
        distinct = (
            distinct_segment_draws(weights, kappa, threshold=threshold)
            .median(SAMPLE_DIMS)
            .to_series()
        )
    if distinct.index.nlevels > 1:
        distinct = distinct.reorder_levels(channel_levels)
    distinct = distinct.round().astype(int)
    channels.insert(0, "n_segments", distinct)
    channels.insert(1, "distinct_segments", distinct)
    extra = [
        n for n in segments.index.names if n not in (*channel_levels, COMPONENT_DIM)
    ]
    segments = segments.reorder_levels([*channel_levels, *extra, COMPONENT_DIM])
    active = active.reorder_levels(segments.index.names)
    components = segments.index.get_level_values(COMPONENT_DIM)
    pruned = (
        pd.Series(np.where(active, None, components), index=segments.index)
        .groupby(level=channel_levels)
        .agg(lambda values: sorted({v for v in values if v is not None}))
    )
    channels["pruned"] = pruned.reindex(channels.index)
    if evidence_table is not None:
        if evidence_table.index.nlevels > 1:
            evidence_table = evidence_table.reorder_levels(channel_levels)
        channels = channels.join(evidence_table)
        # a second segment counts only where the data support it
        supported = channels["second_segment"] == "supported"
        channels["n_segments"] = channels["n_segments"].where(supported, 1)
    return SegmentReport(
        segments=segments[active.to_numpy()], channels=channels, hdi_prob=hdi_prob
    )
