"""Does the mixture beat one curve on your data? ELPD-LOO model comparison.

Fits of PyMC-Marketing's MMM on the same data, with the mixture and with
single-curve saturations, are compared by PSIS-LOO (ArviZ): the expected log
predictive density of each, the difference to a reference model with its
standard error, and Pareto-k warnings.

Examples
--------
.. code-block:: python

    from pmm_mixture.comparison import compare_models

    models = {"mixture": mmm_mixture, "hill": mmm_hill}
    result = compare_models(models, reference="hill")
    print(result.verdict)
    result.table
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

PARETO_K_THRESHOLD = 0.7


def log_likelihood(mmm: Any) -> xr.DataTree:
    """Return the posterior and pointwise log-likelihood of ``mmm`` as a DataTree.

    Uses the stored ``log_likelihood`` group when there is one; otherwise
    computes it from the model without touching ``mmm.idata``. ``mmm`` may
    also be a DataTree with a ``log_likelihood`` group.

    Raises
    ------
    ValueError
        If the model has not been fitted.
    """
    idata = getattr(mmm, "idata", mmm)
    if not isinstance(idata, xr.DataTree) or "posterior" not in idata.children:
        raise ValueError("The model has no posterior: fit it before comparing.")
    if "log_likelihood" in idata.children:
        return idata
    model = getattr(mmm, "model", None)
    if model is None:
        raise ValueError(
            "The idata has no log_likelihood group and there is no model to "
            "compute it from: build the model (mmm.build_model) first."
        )
    computed = pm.compute_log_likelihood(
        idata, model=model, extend_inferencedata=False, progressbar=False
    )
    groups = {
        "/posterior": idata["posterior"].to_dataset(),
        "/log_likelihood": _as_dataset(computed),
    }
    if "observed_data" in idata.children:
        groups["/observed_data"] = idata["observed_data"].to_dataset()
    return xr.DataTree.from_dict(groups)


def _as_dataset(computed: Any) -> xr.Dataset:
    if isinstance(computed, xr.Dataset):
        return computed
    try:
        return computed["log_likelihood"].to_dataset()
    except (KeyError, TypeError, AttributeError):
        return computed.to_dataset()


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare_models`.

    Attributes
    ----------
    table : pd.DataFrame
        One row per model: ``elpd``, ``se``, ``p_loo``, ``elpd_diff`` and
        ``diff_se`` against the reference, ``z`` (difference over its standard
        error), ``n_bad_pareto_k`` (observations with k > 0.7).
    reference : str
    verdict : str
        One line in words.
    """

    table: pd.DataFrame
    reference: str
    verdict: str

    def __str__(self) -> str:
        """Table and verdict."""
        return f"{self.table.round(2).to_string()}\n{self.verdict}"


def compare_models(
    models: Mapping[str, Any], *, reference: str | None = None, var_name: str = "y"
) -> ComparisonResult:
    """Compare fitted MMMs on the same data by ELPD-LOO.

    Parameters
    ----------
    models : mapping of name to fitted MMM (or DataTree with log-likelihood)
        At least two models fitted on the same data.
    reference : str, optional
        Model the differences are taken against; default the first one.
    var_name : str, default "y"
        The observed variable.

    Returns
    -------
    ComparisonResult
        The table and a one-line verdict: a difference counts when it exceeds
        twice its standard error.
    """
    if len(models) < 2:
        raise ValueError("compare_models needs at least two fitted models.")
    names = list(models)
    reference = names[0] if reference is None else reference
    if reference not in models:
        raise ValueError(f"reference {reference!r} is not one of {names}.")

    trees = {name: log_likelihood(mmm) for name, mmm in models.items()}
    n_obs = {name: _n_observations(tree, var_name) for name, tree in trees.items()}
    if len(set(n_obs.values())) > 1:
        raise ValueError(
            f"The models were not fitted on the same data: observations {n_obs}."
        )
    loos = {
        name: az.loo(tree, var_name=var_name, pointwise=True)
        for name, tree in trees.items()
    }
    pointwise = {name: np.asarray(loo.elpd_i).ravel() for name, loo in loos.items()}
    rows = {}
    for name, loo in loos.items():
        diff = pointwise[name] - pointwise[reference]
        diff_se = (
            float(np.sqrt(diff.size) * diff.std(ddof=1)) if name != reference else 0.0
        )
        elpd_diff = float(diff.sum())
        rows[name] = {
            "elpd": float(loo.elpd),
            "se": float(loo.se),
            "p_loo": float(loo.p),
            "elpd_diff": elpd_diff,
            "diff_se": diff_se,
            "z": elpd_diff / diff_se if diff_se > 0 else 0.0,
            "n_bad_pareto_k": int(
                (np.asarray(loo.pareto_k) > PARETO_K_THRESHOLD).sum()
            ),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values(
        "elpd", ascending=False
    )
    return ComparisonResult(
        table=table, reference=reference, verdict=_verdict(table, reference)
    )


def _n_observations(tree: xr.DataTree, var_name: str) -> int:
    try:
        return int(tree["log_likelihood"][var_name].isel(chain=0, draw=0).size)
    except KeyError as error:
        raise ValueError(
            f"No log-likelihood for {var_name!r}; pass var_name= the observed name."
        ) from error


def _verdict(table: pd.DataFrame, reference: str) -> str:
    best = table.index[0]
    warnings = table.index[table["n_bad_pareto_k"] > 0].tolist()
    note = (
        f" Pareto-k > {PARETO_K_THRESHOLD} for some observations of {warnings}: "
        "their LOO estimates are unreliable."
        if warnings
        else ""
    )
    if best == reference:
        runner_up = table.index[1]
        z = -table.loc[runner_up, "z"]
        strength = "clearly" if z > 2 else "but not clearly (within 2 SE)"
        return (
            f"{reference} predicts best, {strength}, ahead of {runner_up} by "
            f"{-table.loc[runner_up, 'elpd_diff']:.1f} ELPD ({z:.1f} SE).{note}"
        )
    row = table.loc[best]
    if row["z"] > 2:
        return (
            f"{best} beats {reference} by {row['elpd_diff']:.1f} ELPD "
            f"(SE {row['diff_se']:.1f}, {row['z']:.1f} SE).{note}"
        )
    return (
        f"No clear difference: {best} is ahead of {reference} by "
        f"{row['elpd_diff']:.1f} ELPD, within 2 SE ({row['diff_se']:.1f}).{note}"
    )
