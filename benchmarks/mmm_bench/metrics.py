"""Metric functions of the benchmark: arrays in, floats out.

Everything here is pure (no model, no I/O) so that it can be unit-tested with
hand-computed numbers. Where a library already does the job it is used:
PyMC-Marketing's ``crps`` for the CRPS, scikit-learn's RMSE, ArviZ's ``rhat``
and ``ess`` for convergence. What no library offers (interval coverage of
posterior draws, recovery errors against a known truth, budget regret, the
pairwise ELPD difference from stored pointwise values) is written here.

Conventions: posterior draws put the sample axis first (``sample_axis=0``),
the same convention as :func:`pymc_marketing.metrics.crps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import arviz as az
import numpy as np
import numpy.typing as npt
import xarray as xr
from pymc_marketing.metrics import crps as pmm_crps
from sklearn.metrics import root_mean_squared_error

SAMPLE_DIMS = ("chain", "draw")

__all__ = [
    "SAMPLE_DIMS",
    "budget_regret",
    "contribution_recovery_error",
    "crps",
    "curve_recovery_error",
    "draws_diagnostics",
    "elpd_difference",
    "interval_coverage",
    "relative_rmse",
    "rmse",
]


def interval_coverage(
    y_true: npt.ArrayLike,
    y_draws: npt.ArrayLike,
    prob: float,
    *,
    sample_axis: int = 0,
) -> float:
    """Share of observations inside the central ``prob`` interval of the draws.

    The interval of observation ``i`` runs from the ``(1 - prob) / 2`` to the
    ``(1 + prob) / 2`` quantile of its draws (linear interpolation, NumPy's
    default); both ends count as inside.

    Parameters
    ----------
    y_true : array_like
        Observed values, shape ``(n,)`` (or any shape matching the draws
        without their sample axis).
    y_draws : array_like
        Predictive draws with one extra sample axis.
    prob : float
        Nominal coverage in ``(0, 1)``, e.g. 0.5 or 0.9.
    sample_axis : int, default 0
        Axis of ``y_draws`` holding the draws.

    Returns
    -------
    float
        Fraction of observations inside their interval.
    """
    if not 0.0 < prob < 1.0:
        raise ValueError(f"prob must be in (0, 1), got {prob}.")
    y_true = np.asarray(y_true, dtype=float)
    draws = np.moveaxis(np.asarray(y_draws, dtype=float), sample_axis, 0)
    if draws.shape[1:] != y_true.shape:
        raise ValueError(
            f"y_draws without its sample axis has shape {draws.shape[1:]}, "
            f"y_true has shape {y_true.shape}."
        )
    lower, upper = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    inside = (y_true >= lower) & (y_true <= upper)
    return float(inside.mean())


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Root mean squared error (scikit-learn's ``root_mean_squared_error``).

    Parameters
    ----------
    y_true, y_pred : array_like
        Same shape; flattened.

    Returns
    -------
    float
    """
    return float(
        root_mean_squared_error(np.ravel(y_true), np.ravel(np.asarray(y_pred)))
    )


def crps(
    y_true: npt.ArrayLike, y_draws: npt.ArrayLike, *, sample_axis: int = 0
) -> float:
    """Mean CRPS of predictive draws (PyMC-Marketing's ``metrics.crps``).

    Parameters
    ----------
    y_true : array_like
        Observed values.
    y_draws : array_like
        Predictive draws with one extra sample axis.
    sample_axis : int, default 0
        Axis of ``y_draws`` holding the draws.

    Returns
    -------
    float
        Average CRPS, in the units of ``y_true`` (lower is better).
    """
    draws = np.moveaxis(np.asarray(y_draws, dtype=float), sample_axis, 0)
    return float(pmm_crps(np.asarray(y_true, dtype=float), draws))


def relative_rmse(truth: npt.ArrayLike, estimate: npt.ArrayLike) -> float:
    """RMSE of ``estimate`` divided by the root mean square of ``truth``.

    0 is perfect; 1 is as bad as estimating zero everywhere.

    Parameters
    ----------
    truth, estimate : array_like
        Same shape; flattened.

    Returns
    -------
    float
        ``nan`` when ``truth`` is identically zero.
    """
    truth = np.ravel(np.asarray(truth, dtype=float))
    estimate = np.ravel(np.asarray(estimate, dtype=float))
    if truth.shape != estimate.shape:
        raise ValueError(f"Shapes differ: {truth.shape} and {estimate.shape}.")
    norm = float(np.sqrt(np.mean(truth**2)))
    if norm == 0.0:
        return float("nan")
    return float(np.sqrt(np.mean((estimate - truth) ** 2)) / norm)


def curve_recovery_error(
    true_curve: npt.ArrayLike, fitted_curve: npt.ArrayLike
) -> dict[str, float]:
    """Error of a fitted response curve against the true one on a spend grid.

    Both curves are evaluated on the same grid (the observed spend range).
    Errors are relative to the true curve's maximum over that grid, so 0.05
    means "off by 5 % of the largest true response".

    Parameters
    ----------
    true_curve : array_like
        True response at the grid points, shape ``(n_points,)``.
    fitted_curve : array_like
        Fitted (e.g. posterior-mean) response at the same points.

    Returns
    -------
    dict
        ``max``: largest absolute error / max true response; ``mean``: mean
        absolute error / max true response.
    """
    truth = np.asarray(true_curve, dtype=float)
    fitted = np.asarray(fitted_curve, dtype=float)
    if truth.shape != fitted.shape or truth.ndim != 1 or truth.size == 0:
        raise ValueError(
            "true_curve and fitted_curve must be non-empty 1-D arrays of the same "
            f"length, got {truth.shape} and {fitted.shape}."
        )
    scale = float(np.max(np.abs(truth)))
    if scale == 0.0:
        return {"max": float("nan"), "mean": float("nan")}
    error = np.abs(fitted - truth) / scale
    return {"max": float(error.max()), "mean": float(error.mean())}


def contribution_recovery_error(
    true_contributions: npt.ArrayLike, fitted_contributions: npt.ArrayLike
) -> np.ndarray:
    """Relative RMSE of fitted channel contributions, one value per channel.

    Parameters
    ----------
    true_contributions : array_like
        Shape ``(n_dates, n_channels)``, target units.
    fitted_contributions : array_like
        Same shape (e.g. posterior-mean contributions times the target scale).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_channels,)``: :func:`relative_rmse` of each column.
    """
    truth = np.asarray(true_contributions, dtype=float)
    fitted = np.asarray(fitted_contributions, dtype=float)
    if truth.shape != fitted.shape or truth.ndim != 2:
        raise ValueError(
            "Contributions must be 2-D (date, channel) arrays of the same shape, "
            f"got {truth.shape} and {fitted.shape}."
        )
    return np.array(
        [relative_rmse(truth[:, c], fitted[:, c]) for c in range(truth.shape[1])]
    )


def budget_regret(
    response: Callable[[Any], float],
    recommended: Mapping[str, float] | Sequence[float] | np.ndarray,
    optimal: Mapping[str, float] | Sequence[float] | np.ndarray,
) -> dict[str, float]:
    """True response lost by following a recommended allocation.

    Parameters
    ----------
    response : callable
        True incremental response of an allocation (0 at zero spend), e.g.
        ``SyntheticMMMData.true_response``.
    recommended : mapping or array_like
        The model's recommended spend per channel.
    optimal : mapping or array_like
        The true optimum under the same total budget and bounds.

    Returns
    -------
    dict
        ``regret_pct``: ``100 * (R(optimal) - R(recommended)) / R(optimal)``
        (can be slightly negative when ``optimal`` is not exactly optimal);
        ``response_recommended`` and ``response_optimal``: the two responses.
    """
    r_rec = float(response(recommended))
    r_opt = float(response(optimal))
    if r_opt <= 0.0:
        raise ValueError(f"The optimal response must be positive, got {r_opt}.")
    return {
        "regret_pct": 100.0 * (r_opt - r_rec) / r_opt,
        "response_recommended": r_rec,
        "response_optimal": r_opt,
    }


def elpd_difference(
    elpd_i: npt.ArrayLike, elpd_i_reference: npt.ArrayLike
) -> tuple[float, float]:
    """ELPD difference to a reference model and its standard error.

    Same estimator as ``arviz.compare``: the difference of the summed
    pointwise values, with standard error ``sqrt(n * var(d_i))`` (population
    variance) of the pointwise differences ``d_i``. Positive means the model
    predicts better than the reference.

    Parameters
    ----------
    elpd_i : array_like
        Pointwise ELPD-LOO of the model, shape ``(n,)``.
    elpd_i_reference : array_like
        Pointwise ELPD-LOO of the reference on the same observations.

    Returns
    -------
    tuple of float
        ``(difference, standard_error)``.
    """
    a = np.ravel(np.asarray(elpd_i, dtype=float))
    b = np.ravel(np.asarray(elpd_i_reference, dtype=float))
    if a.shape != b.shape or a.size == 0:
        raise ValueError(
            "Pointwise ELPD arrays must be non-empty and of the same length "
            f"(same observations), got {a.size} and {b.size}."
        )
    diff = a - b
    return float(diff.sum()), float(np.sqrt(diff.size * np.var(diff)))


def draws_diagnostics(
    quantities: Mapping[str, xr.DataArray],
    sample_dims: Sequence[str] = SAMPLE_DIMS,
) -> dict[str, dict[str, float]]:
    """Worst R-hat and lowest bulk and tail ESS of each set of posterior draws.

    The same numbers as :func:`pmm_mixture.diagnostics.label_invariant_diagnostics`
    (ArviZ's rank-normalised R-hat and bulk/tail ESS), for any quantities:
    used for the single-curve models, whose curves, contributions and ``beta``
    are the counterparts of the mixture's label-invariant quantities.

    Parameters
    ----------
    quantities : mapping of str to xarray.DataArray
        Draws with the ``sample_dims`` plus any other dims.
    sample_dims : sequence of str, default ("chain", "draw")

    Returns
    -------
    dict
        Per quantity: ``r_hat_max``, ``ess_bulk_min``, ``ess_tail_min`` (over
        the non-sample dims, ignoring non-finite values such as those of a
        constant quantity).
    """
    dims = list(sample_dims)
    table = {}
    for name, draws in quantities.items():
        table[name] = {
            "r_hat_max": _finite_reduce(az.rhat(draws, sample_dims=dims), np.max),
            "ess_bulk_min": _finite_reduce(
                az.ess(draws, sample_dims=dims, method="bulk"), np.min
            ),
            "ess_tail_min": _finite_reduce(
                az.ess(draws, sample_dims=dims, method="tail"), np.min
            ),
        }
    return table


def _finite_reduce(values: Any, reduce: Callable[[np.ndarray], Any]) -> float:
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    return float(reduce(finite)) if finite.size else float("nan")
