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

from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from pmm_mixture.curves import mixture_curves
from pmm_mixture.posterior import SAMPLE_DIMS, get_posterior, mixture_variable
from pmm_mixture.summary import active_components


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
    posterior = get_posterior(model)
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
    rows = {
        name: _summarise(draws)
        for name, draws in label_invariant_quantities(
            model, n_points=n_points, prefix=prefix
        ).items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


def _summarise(draws: xr.DataArray) -> dict[str, float]:
    """Worst R-hat and lowest ESS over all elements; NaN elements are skipped."""
    return {
        "r_hat_max": _finite_max(az.rhat(draws, sample_dims=list(SAMPLE_DIMS))),
        "ess_bulk_min": _finite_min(
            az.ess(draws, sample_dims=list(SAMPLE_DIMS), method="bulk")
        ),
        "ess_tail_min": _finite_min(
            az.ess(draws, sample_dims=list(SAMPLE_DIMS), method="tail")
        ),
    }


def _finite_max(values: xr.DataArray) -> float:
    finite = np.asarray(values)[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _finite_min(values: xr.DataArray) -> float:
    finite = np.asarray(values)[np.isfinite(values)]
    return float(finite.min()) if finite.size else float("nan")


def active_component_diagnostics(
    model: Any, *, threshold: float = 0.05, prefix: str = "saturation"
) -> pd.DataFrame:
    """R-hat and ESS of the parameters of active components only.

    A component is active when its posterior median weight exceeds
    ``threshold`` (:func:`pmm_mixture.summary.active_components`); active
    components are ordered by kappa, so their labels are identified even when
    pruned ones are not.

    Returns
    -------
    pd.DataFrame
        Index: ``weights``, ``kappa``, ``slope``; columns as in
        :func:`label_invariant_diagnostics`.
    """
    posterior = get_posterior(model)
    weights = mixture_variable(posterior, prefix, "weights")
    active = active_components(weights, threshold)
    rows = {}
    for name in ("weights", "kappa", "slope"):
        draws = mixture_variable(posterior, prefix, name)
        mask = active.broadcast_like(draws.isel(chain=0, draw=0, drop=True))
        rows[name] = _summarise(draws.where(mask))
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class ConvergenceReport:
    """Result of :func:`check_convergence`.

    Attributes
    ----------
    passed : bool
        Every check met its threshold.
    divergences : int
    table : pd.DataFrame
        One row per checked quantity with ``r_hat_max``, ``ess_bulk_min``,
        ``ess_tail_min``, ``kind`` (label-invariant or active component) and
        ``passed``.
    messages : list of str
        What failed, in words, and what to try.
    """

    passed: bool
    divergences: int
    table: pd.DataFrame
    messages: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        """Readable report."""
        verdict = "PASSED" if self.passed else "FAILED"
        lines = [
            f"Convergence check {verdict}: {self.divergences} divergences",
            self.table.round(3).to_string(),
            *self.messages,
        ]
        return "\n".join(lines)


def check_convergence(
    model: Any,
    *,
    max_divergences: int = 0,
    max_r_hat: float = 1.01,
    min_ess: float = 400.0,
    threshold: float = 0.05,
    n_points: int = 20,
    prefix: str = "saturation",
) -> ConvergenceReport:
    """Check a fitted mixture MMM's convergence on quantities that can be trusted.

    Divergences; R-hat, bulk and tail ESS of the label-invariant quantities
    (channel curves on a spend grid, channel contributions, ``beta``, the
    pointwise log-likelihood when stored); and the same on the parameters of
    the active components (posterior median weight above ``threshold``).

    Parameters
    ----------
    model : MMM or DataTree
        A fitted MMM with the mixture saturation, or its ``idata``.
    max_divergences : int, default 0
    max_r_hat : float, default 1.01
    min_ess : float, default 400
        Minimum bulk and tail ESS.
    threshold : float, default 0.05
        Posterior median weight above which a component is active.
    n_points : int, default 20
    prefix : str, default "saturation"

    Returns
    -------
    ConvergenceReport
        ``passed``, the table, and messages saying what failed and what to try.

    Examples
    --------
    .. code-block:: python

        report = check_convergence(mmm)
        print(report)
        assert report.passed
    """
    divergences = n_divergences(model)
    invariant = label_invariant_diagnostics(model, n_points=n_points, prefix=prefix)
    invariant["kind"] = "label-invariant"
    components = active_component_diagnostics(model, threshold=threshold, prefix=prefix)
    components.index = [f"{prefix}_{name} (active)" for name in components.index]
    components["kind"] = "active components"
    table = pd.concat([invariant, components])
    table["passed"] = (
        (table["r_hat_max"] <= max_r_hat)
        & (table["ess_bulk_min"] >= min_ess)
        & (table["ess_tail_min"] >= min_ess)
    )

    messages = []
    if divergences > max_divergences:
        messages.append(
            f"{divergences} divergent transitions (allowed {max_divergences}): the "
            "sampler met curvature it could not follow, so the posterior may be "
            "biased. Raise target_accept (0.95 to 0.99), check that the "
            "channel's spend is not mostly zero or constant, or use fewer "
            "components; with custom priors, a wider OrderedKappa log_gap or a "
            "narrower PooledSlope log_sigma (the defaults' reasons are in their "
            "docstrings)."
        )
    bad_r_hat = table.index[table["r_hat_max"] > max_r_hat].tolist()
    if bad_r_hat:
        messages.append(
            f"R-hat above {max_r_hat} for {bad_r_hat}: chains disagree. Run longer "
            "or more chains; if it persists the number of segments is ambiguous "
            "(chains settle on different explanations): use fewer components or a "
            "sparser weights prior (smaller StickBreakingWeights alpha)."
        )
    low_ess = table.index[
        (table["ess_bulk_min"] < min_ess) | (table["ess_tail_min"] < min_ess)
    ].tolist()
    if low_ess:
        messages.append(
            f"ESS below {min_ess:g} for {low_ess}: too few effective draws for "
            "stable estimates. Increase draws (and chains)."
        )
    passed = divergences <= max_divergences and bool(table["passed"].all())
    if passed:
        messages.append(
            f"All checks passed: {divergences} divergences, R-hat <= {max_r_hat}, "
            f"ESS >= {min_ess:g} on every checked quantity."
        )
    return ConvergenceReport(
        passed=passed, divergences=divergences, table=table, messages=messages
    )
