"""Synthetic weekly marketing-mix data with a known mixture-of-Hill truth.

The generator in this module produces realistic weekly spend for several media
channels, pushes it through a normalised geometric adstock and a per-channel
mixture of Hill curves, and adds an intercept, a linear trend, yearly
seasonality and Gaussian noise. Every true parameter is returned alongside the
data, so the module can be used to check that a model (or a whole modelling
set-up) recovers what was put in.

Truth for channel ``c`` with ``K_c`` segments and spend ``x_c(t)`` in original
units (e.g. dollars):

* adstock: ``a_c(t) = sum_{l=0}^{l_max-1} w_l x_c(t - l)`` with
  ``w_l = alpha_c**l / sum_j alpha_c**j`` and ``x_c(t) = 0`` for ``t < 0``.
  This is PyMC-Marketing's ``GeometricAdstock(l_max=l_max, normalize=True)``.
* Hill curve: ``hill(a; s, kappa) = a**s / (kappa**s + a**s)`` (``pmm_mixture.hill``).
* ``"aggregate"`` mode:
  ``r_c(t) = beta_c * sum_k w_ck * hill(a_c(t); s_ck, kappa_ck)``.
* ``"latent"`` mode: every week one segment ``z ~ Categorical(w_c)`` is drawn
  and ``r_c(t) = beta_c * hill(a_c(t); s_cz, kappa_cz)``.
* ``y(t) = intercept + trend(t) + seasonality(t) + sum_c r_c(t) + eps(t)``
  with ``eps(t) ~ Normal(0, noise_sigma)``.

``kappa`` is expressed in the units of the adstocked spend, i.e. in original
spend units (not in the max-abs scaled units PyMC-Marketing uses internally).

Examples
--------
>>> from pmm_mixture.synthetic import example_two_segment_data
>>> sim = example_two_segment_data(seed=0)
>>> sim.channel_columns
['tv', 'search', 'social']
>>> sim.channels["search"].n_segments
2
>>> X_train, y_train, X_test, y_test = sim.split(n_test=12)
>>> len(X_train), len(X_test)
(144, 12)

"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import ndtr

from pmm_mixture.hill import hill

__all__ = [
    "ChannelTruth",
    "GeoPanelData",
    "SyntheticMMMData",
    "example_two_segment_data",
    "geometric_adstock_numpy",
    "hill",
    "make_geo_panel_data",
    "make_mixture_mmm_data",
    "make_two_segment_data",
    "min_segment_share",
]

_MODES = ("aggregate", "latent")
_START_DATE = "2021-01-04"  # a Monday, so that freq "W-MON" starts right there
_DAYS_PER_YEAR = 365.25


# ---------------------------------------------------------------------------
# Elementary transformations
# ---------------------------------------------------------------------------
def _hill_derivative(
    x: np.ndarray, kappa: np.ndarray | float, slope: np.ndarray | float
) -> np.ndarray:
    """Return d hill / d x, used by the optimiser."""
    x_arr = np.asarray(x, dtype=float)
    h = hill(x_arr, slope, kappa)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = slope * h * (1.0 - h) / x_arr
    slope_b = np.broadcast_to(slope, d.shape)
    kappa_b = np.broadcast_to(kappa, d.shape)
    at_zero = np.where(
        slope_b > 1.0, 0.0, np.where(slope_b == 1.0, 1.0 / kappa_b, np.inf)
    )
    return np.where(x_arr > 0.0, d, at_zero)


def geometric_adstock_numpy(
    x: np.ndarray,
    alpha: float,
    l_max: int = 6,
    *,
    normalize: bool = True,
    axis: int = 0,
) -> np.ndarray:
    """Geometric adstock, identical to PyMC-Marketing's ``geometric_adstock``.

    Uses the "After" convolution mode: ``a(t) = sum_{l=0}^{l_max-1} w_l x(t-l)``
    with ``x(t) = 0`` before the first observation and ``w_l = alpha**l``
    (divided by ``sum_l alpha**l`` when ``normalize``).

    Parameters
    ----------
    x : numpy.ndarray
        Spend series; the time axis is ``axis``.
    alpha : float
        Retention rate in ``[0, 1)``.
    l_max : int, default 6
        Number of weights (current week plus ``l_max - 1`` past weeks).
    normalize : bool, default True
        Whether the weights sum to one (so a constant spend is left unchanged
        once ``l_max - 1`` weeks have passed).
    axis : int, default 0
        Time axis of ``x``.

    Returns
    -------
    numpy.ndarray
        Adstocked series, same shape as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from pmm_mixture.synthetic import geometric_adstock_numpy
    >>> geometric_adstock_numpy(np.array([1.0, 0.0, 0.0]), 0.5, l_max=2).round(4)
    array([0.6667, 0.3333, 0.    ])

    """
    if not isinstance(l_max, Integral) or isinstance(l_max, bool) or l_max < 1:
        raise ValueError(f"l_max must be a positive integer, got {l_max!r}.")
    if not 0.0 <= float(alpha) < 1.0:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha!r}.")
    x_arr = np.moveaxis(np.asarray(x, dtype=float), axis, 0)
    weights = np.power(float(alpha), np.arange(int(l_max), dtype=float))
    if normalize:
        weights = weights / weights.sum()
    out = np.zeros_like(x_arr)
    n = x_arr.shape[0]
    for lag in range(min(int(l_max), n)):
        out[lag:] += weights[lag] * x_arr[: n - lag]
    return np.moveaxis(out, 0, axis)


def min_segment_share(n_segments: int) -> float:
    """Smallest share of a channel's maximum effect given to any segment.

    ``0.15`` for up to four segments, ``0.4 / K`` beyond that (``0.08`` for 5).

    Parameters
    ----------
    n_segments : int
        Number of segments ``K``.

    Returns
    -------
    float
        The minimum weight the generator assigns to every segment.

    Examples
    --------
    >>> from pmm_mixture.synthetic import min_segment_share
    >>> min_segment_share(2), min_segment_share(5)
    (0.15, 0.08)

    """
    k = _check_positive_int(n_segments, "n_segments")
    return 0.15 if k <= 4 else 0.4 / k


# ---------------------------------------------------------------------------
# Truth containers
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ChannelTruth:
    """True saturation parameters of one channel.

    Parameters
    ----------
    name : str
        Channel (column) name.
    beta : float
        Asymptotic maximum weekly effect of the channel, in target units.
    weights : numpy.ndarray
        Shape ``(K,)``, on the simplex: share of ``beta`` owned by each segment.
    kappa : numpy.ndarray
        Shape ``(K,)``, strictly increasing half-saturation points in original
        (adstocked) spend units.
    slope : numpy.ndarray
        Shape ``(K,)``, positive Hill exponents.
    adstock_alpha : float
        Retention rate of the normalised geometric adstock.

    Examples
    --------
    >>> import numpy as np
    >>> from pmm_mixture.synthetic import ChannelTruth
    >>> ch = ChannelTruth(
    ...     name="search",
    ...     beta=1000.0,
    ...     weights=np.array([0.5, 0.5]),
    ...     kappa=np.array([100.0, 400.0]),
    ...     slope=np.array([3.0, 3.0]),
    ...     adstock_alpha=0.3,
    ... )
    >>> round(float(ch.curve(100.0)), 6)  # 1000 * (0.5 * 0.5 + 0.5 * 1 / 65)
    257.692308
    >>> ch.segment_curves(np.zeros(3)).shape
    (2, 3)

    """

    name: str
    beta: float
    weights: np.ndarray
    kappa: np.ndarray
    slope: np.ndarray
    adstock_alpha: float

    def __post_init__(self) -> None:
        """Validate and freeze the parameter arrays (inputs are copied)."""
        arrays = {}
        for attr in ("weights", "kappa", "slope"):
            arr = np.array(getattr(self, attr), dtype=float, copy=True).reshape(-1)
            arr.setflags(write=False)
            arrays[attr] = arr
        w, kappa, slope = arrays["weights"], arrays["kappa"], arrays["slope"]
        if w.size == 0 or not (w.size == kappa.size == slope.size):
            raise ValueError(
                f"Channel {self.name!r}: weights, kappa and slope must be non-empty "
                f"and of equal length, got {w.size}, {kappa.size}, {slope.size}."
            )
        if np.any(~np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1.0) > 1e-8:
            raise ValueError(
                f"Channel {self.name!r}: weights must be non-negative and sum to 1, "
                f"got {w.tolist()}."
            )
        if np.any(~np.isfinite(kappa)) or np.any(kappa <= 0):
            raise ValueError(
                f"Channel {self.name!r}: kappa must be positive and finite, "
                f"got {kappa.tolist()}."
            )
        if np.any(np.diff(kappa) <= 0):
            raise ValueError(
                f"Channel {self.name!r}: kappa must be strictly increasing, "
                f"got {kappa.tolist()}."
            )
        if np.any(~np.isfinite(slope)) or np.any(slope <= 0):
            raise ValueError(
                f"Channel {self.name!r}: slope must be positive and finite, "
                f"got {slope.tolist()}."
            )
        beta = float(self.beta)
        if not np.isfinite(beta) or beta < 0:
            raise ValueError(
                f"Channel {self.name!r}: beta must be finite and >= 0, got {beta}."
            )
        alpha = float(self.adstock_alpha)
        if not 0.0 <= alpha < 1.0:
            raise ValueError(
                f"Channel {self.name!r}: adstock_alpha must lie in [0, 1), got {alpha}."
            )
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "adstock_alpha", alpha)
        for attr, arr in arrays.items():
            object.__setattr__(self, attr, arr)

    def __eq__(self, other: object) -> bool:
        """Compare all parameters exactly (arrays element-wise)."""
        if not isinstance(other, ChannelTruth):
            return NotImplemented
        return (
            self.name == other.name
            and self.beta == other.beta
            and self.adstock_alpha == other.adstock_alpha
            and np.array_equal(self.weights, other.weights)
            and np.array_equal(self.kappa, other.kappa)
            and np.array_equal(self.slope, other.slope)
        )

    def __hash__(self) -> int:
        """Hash consistent with :meth:`__eq__`."""
        return hash(
            (
                self.name,
                self.beta,
                self.adstock_alpha,
                tuple(self.weights.tolist()),
                tuple(self.kappa.tolist()),
                tuple(self.slope.tolist()),
            )
        )

    @property
    def n_segments(self) -> int:
        """Number of Hill segments ``K``."""
        return int(self.weights.size)

    def _hill_matrix(self, x: np.ndarray | float) -> np.ndarray:
        x_arr = np.asarray(x, dtype=float)
        if np.any(x_arr < 0):
            raise ValueError(
                f"Channel {self.name!r}: spend x must be non-negative "
                f"(min was {np.nanmin(x_arr)})."
            )
        shape = (self.n_segments,) + (1,) * x_arr.ndim
        return hill(
            x_arr[None, ...], self.slope.reshape(shape), self.kappa.reshape(shape)
        )

    def segment_curves(self, x: np.ndarray | float) -> np.ndarray:
        """Per-segment contributions ``beta * w_k * hill(x; s_k, kappa_k)``.

        Parameters
        ----------
        x : array_like
            Adstocked spend in original units, any shape, non-negative.

        Returns
        -------
        numpy.ndarray
            Shape ``(K, *x.shape)``; summing over axis 0 gives :meth:`curve`.

        """
        h = self._hill_matrix(x)
        w = self.weights.reshape((self.n_segments,) + (1,) * (h.ndim - 1))
        return self.beta * w * h

    def curve(self, x: np.ndarray | float) -> np.ndarray:
        """Return the expected response ``beta * sum_k w_k hill(x; s_k, kappa_k)``.

        Parameters
        ----------
        x : array_like
            Adstocked spend in original units, any shape, non-negative.

        Returns
        -------
        numpy.ndarray
            Response in target units, same shape as ``x``.

        """
        return self.segment_curves(x).sum(axis=0)

    def curve_derivative(self, x: np.ndarray | float) -> np.ndarray:
        """Return the derivative of :meth:`curve` with respect to ``x``.

        Parameters
        ----------
        x : array_like
            Adstocked spend in original units, non-negative.

        Returns
        -------
        numpy.ndarray
            Marginal response per unit of spend.

        """
        x_arr = np.asarray(x, dtype=float)
        shape = (self.n_segments,) + (1,) * x_arr.ndim
        d = _hill_derivative(
            x_arr[None, ...], self.kappa.reshape(shape), self.slope.reshape(shape)
        )
        return self.beta * (self.weights.reshape(shape) * d).sum(axis=0)


@dataclass(frozen=True, eq=False)
class SyntheticMMMData:
    """Synthetic marketing-mix data set together with its true parameters.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``date_column``, one spend column per channel, ``target_column``.
    date_column : str
        Name of the weekly date column.
    channel_columns : list of str
        Spend columns, in channel order.
    target_column : str
        Name of the target (sales) column.
    channels : dict of str to ChannelTruth
        True parameters per channel.
    contributions : pandas.DataFrame
        True weekly contribution of every channel in target units
        (index: dates, columns: channels).
    adstocked_spend : pandas.DataFrame
        True adstocked spend (same index and columns as ``contributions``).
    noise_sigma : float
        Standard deviation of the Gaussian observation noise.
    l_max : int
        Adstock length used by the truth.
    mode : {"aggregate", "latent"}
        How the segments were combined (see module docstring).
    baseline : pandas.Series or None
        True non-media part ``intercept + trend + seasonality`` (index: dates).
    baseline_components : pandas.DataFrame or None
        Columns ``"intercept"``, ``"trend"``, ``"seasonality"`` (index: dates).
    latent_segments : pandas.DataFrame or None
        ``"latent"`` mode only: index of the segment drawn for every week and
        channel (0-based), else ``None``.

    Notes
    -----
    Equality is identity (the class holds data frames); compare fields instead.

    Examples
    --------
    >>> from pmm_mixture.synthetic import make_mixture_mmm_data
    >>> sim = make_mixture_mmm_data((1, 2, 1), seed=1)
    >>> sim.X.columns.tolist()
    ['date', 'x1', 'x2', 'x3']
    >>> sim.y.name
    'y'
    >>> budget = float(sim.data[sim.channel_columns].mean().sum())
    >>> alloc = sim.optimal_allocation(budget)
    >>> bool(abs(sum(alloc.values()) - budget) < 1e-6 * budget)
    True

    """

    data: pd.DataFrame
    date_column: str
    channel_columns: list[str]
    target_column: str
    channels: dict[str, ChannelTruth]
    contributions: pd.DataFrame
    adstocked_spend: pd.DataFrame
    noise_sigma: float
    l_max: int
    mode: str
    baseline: pd.Series | None = None
    baseline_components: pd.DataFrame | None = None
    latent_segments: pd.DataFrame | None = field(default=None)

    @property
    def X(self) -> pd.DataFrame:
        """Design matrix ``data[[date_column, *channel_columns]]`` (a copy)."""
        return self.data[[self.date_column, *self.channel_columns]].copy()

    @property
    def y(self) -> pd.Series:
        """Target series ``data[target_column]`` named ``target_column`` (a copy)."""
        return self.data[self.target_column].copy().rename(self.target_column)

    @property
    def n_weeks(self) -> int:
        """Number of weeks (rows) in :attr:`data`."""
        return len(self.data)

    def split(
        self, n_test: int
    ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
        """Chronological train/test split with the last ``n_test`` weeks as test.

        Parameters
        ----------
        n_test : int
            Number of final weeks held out, ``1 <= n_test < n_weeks``.

        Returns
        -------
        tuple
            ``(X_train, y_train, X_test, y_test)``; the original row index of
            :attr:`data` is kept.

        """
        n_test = _check_positive_int(n_test, "n_test")
        if n_test >= self.n_weeks:
            raise ValueError(
                f"n_test must be smaller than the number of weeks ({self.n_weeks}), "
                f"got {n_test}."
            )
        X, y = self.X, self.y
        cut = self.n_weeks - n_test
        return X.iloc[:cut], y.iloc[:cut], X.iloc[cut:], y.iloc[cut:]

    # -- response oracle --------------------------------------------------
    def _spend_vector(
        self, spend_per_channel: Mapping[str, float] | np.ndarray | Sequence[float]
    ) -> np.ndarray:
        names = self.channel_columns
        if isinstance(spend_per_channel, Mapping):
            unknown = sorted(set(spend_per_channel) - set(names))
            missing = [c for c in names if c not in spend_per_channel]
            if unknown:
                raise ValueError(
                    f"spend_per_channel has unknown channels {unknown}; "
                    f"expected {names}."
                )
            if missing:
                raise ValueError(
                    f"spend_per_channel is missing channels {missing}; "
                    "pass 0.0 explicitly for channels without spend."
                )
            vec = np.array([float(spend_per_channel[c]) for c in names])
        else:
            vec = np.array(spend_per_channel, dtype=float, copy=True)
            if vec.shape != (len(names),):
                raise ValueError(
                    f"spend_per_channel array must have shape ({len(names)},) "
                    f"in the order {names}, got shape {vec.shape}."
                )
        if np.any(~np.isfinite(vec)) or np.any(vec < 0):
            raise ValueError(
                f"spend_per_channel must be finite and non-negative, got {vec}."
            )
        return vec

    def _total_response(self, spend: np.ndarray) -> np.ndarray:
        """Weekly total expected response for spend of shape ``(..., C)``."""
        spend = np.asarray(spend, dtype=float)
        total = np.zeros(spend.shape[:-1])
        for i, name in enumerate(self.channel_columns):
            total = total + self.channels[name].curve(spend[..., i])
        return total

    def true_response(
        self,
        spend_per_channel: Mapping[str, float] | np.ndarray | Sequence[float],
        n_weeks: int = 1,
    ) -> float:
        """Steady-state expected media response for a constant weekly spend.

        With a constant weekly spend the normalised adstock equals that spend,
        so the weekly response is ``sum_c curve_c(spend_c)``. In ``"latent"``
        mode this is the expectation over the weekly segment draws.

        Parameters
        ----------
        spend_per_channel : dict or array_like
            Weekly spend per channel in original units; a mapping must name
            every channel, an array must follow ``channel_columns``.
        n_weeks : int, default 1
            Number of weeks; the weekly response is multiplied by it.

        Returns
        -------
        float
            Total incremental response (target units) over ``n_weeks``.

        """
        n_weeks = _check_positive_int(n_weeks, "n_weeks")
        vec = self._spend_vector(spend_per_channel)
        return float(self._total_response(vec)) * n_weeks

    def optimal_allocation(
        self,
        total_budget: float,
        bounds: Mapping[str, tuple[float, float]] | None = None,
    ) -> dict[str, float]:
        """Weekly spend split that maximises :meth:`true_response`.

        Solves ``max_x sum_c curve_c(x_c)`` subject to ``sum_c x_c =
        total_budget`` and ``lower_c <= x_c <= upper_c`` with SLSQP, started
        from the equal split, the historical spend-share split, all-in-one
        corners and the best of a batch of random feasible points; the best
        feasible result is returned. The search is deterministic.

        Parameters
        ----------
        total_budget : float
            Total spend per week, ``> 0``.
        bounds : dict of str to (float, float), optional
            Per-channel ``(lower, upper)`` weekly spend; channels not listed
            get ``(0, total_budget)``.

        Returns
        -------
        dict of str to float
            Weekly spend per channel, in ``channel_columns`` order.

        """
        budget = float(total_budget)
        if not np.isfinite(budget) or budget <= 0:
            raise ValueError(f"total_budget must be finite and > 0, got {budget}.")
        lower, upper = self._bounds_arrays(budget, bounds)
        n_ch = len(self.channel_columns)

        def project(v: np.ndarray) -> np.ndarray:
            return _project_box_sum(v, lower, upper, budget)

        # Candidate starting points (all feasible after projection).
        hist = self.data[self.channel_columns].to_numpy(dtype=float).sum(axis=0)
        hist_share = hist / hist.sum() if hist.sum() > 0 else np.full(n_ch, 1 / n_ch)
        starts = [project(np.full(n_ch, budget / n_ch)), project(hist_share * budget)]
        starts += [project(budget * np.eye(n_ch)[i]) for i in range(n_ch)]
        search_rng = np.random.default_rng(20240601)
        random_pts = np.array(
            [project(p) for p in search_rng.dirichlet(np.ones(n_ch), 512) * budget]
        )
        random_vals = self._total_response(random_pts)
        starts += [random_pts[i] for i in np.argsort(random_vals)[::-1][:6]]

        scale = max(sum(ch.beta for ch in self.channels.values()), 1e-12)
        truths = [self.channels[c] for c in self.channel_columns]

        def neg_obj(z: np.ndarray) -> float:
            x = np.clip(z, 0.0, None) * budget
            return -float(self._total_response(x)) / scale

        def neg_grad(z: np.ndarray) -> np.ndarray:
            x = np.clip(z, 0.0, None) * budget
            g = np.array(
                [t.curve_derivative(xi) for t, xi in zip(truths, x, strict=True)]
            )
            g = np.nan_to_num(g, nan=0.0, posinf=1e12)
            return -g * budget / scale

        best_x = random_pts[int(np.argmax(random_vals))]
        best_val = float(random_vals.max())
        for x0 in starts:
            val0 = float(self._total_response(x0))
            if val0 > best_val:
                best_x, best_val = x0, val0
            if np.allclose(lower, upper):
                continue
            res = minimize(
                neg_obj,
                x0 / budget,
                jac=neg_grad,
                method="SLSQP",
                bounds=list(zip(lower / budget, upper / budget, strict=True)),
                constraints=[
                    {
                        "type": "eq",
                        "fun": lambda z: np.sum(z) - 1.0,
                        "jac": lambda z: np.ones_like(z),
                    }
                ],
                options={"maxiter": 500, "ftol": 1e-12},
            )
            x = project(np.asarray(res.x, dtype=float) * budget)
            val = float(self._total_response(x))
            if val > best_val:
                best_x, best_val = x, val
        return {c: float(v) for c, v in zip(self.channel_columns, best_x, strict=True)}

    def _bounds_arrays(
        self, budget: float, bounds: Mapping[str, tuple[float, float]] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        names = self.channel_columns
        lower = np.zeros(len(names))
        upper = np.full(len(names), budget)
        if bounds is not None:
            unknown = sorted(set(bounds) - set(names))
            if unknown:
                raise ValueError(
                    f"bounds has unknown channels {unknown}; expected {names}."
                )
            for i, name in enumerate(names):
                if name not in bounds:
                    continue
                try:
                    lo, hi = (float(v) for v in bounds[name])
                except (TypeError, ValueError) as err:
                    raise ValueError(
                        f"bounds[{name!r}] must be a (lower, upper) pair of numbers, "
                        f"got {bounds[name]!r}."
                    ) from err
                if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or lo > hi:
                    raise ValueError(
                        f"bounds[{name!r}] = ({lo}, {hi}) is invalid: need "
                        "0 <= lower <= upper < inf."
                    )
                lower[i], upper[i] = lo, hi
        tol = 1e-9 * budget
        if lower.sum() > budget + tol or upper.sum() < budget - tol:
            raise ValueError(
                f"bounds are infeasible for total_budget={budget}: the lower bounds "
                f"sum to {lower.sum()} and the upper bounds to {upper.sum()}."
            )
        return lower, upper

    def truth_table(self) -> pd.DataFrame:
        """Return all true saturation parameters as a long table (row per segment).

        Returns
        -------
        pandas.DataFrame
            Columns ``channel``, ``segment``, ``beta``, ``weight``, ``kappa``,
            ``slope``, ``adstock_alpha``, ``max_adstocked_spend``.

        """
        rows: list[dict[str, Any]] = []
        for name in self.channel_columns:
            ch = self.channels[name]
            a_max = float(self.adstocked_spend[name].max())
            for k in range(ch.n_segments):
                rows.append(
                    {
                        "channel": name,
                        "segment": k,
                        "beta": ch.beta,
                        "weight": float(ch.weights[k]),
                        "kappa": float(ch.kappa[k]),
                        "slope": float(ch.slope[k]),
                        "adstock_alpha": ch.adstock_alpha,
                        "max_adstocked_spend": a_max,
                    }
                )
        return pd.DataFrame(rows)


def _project_box_sum(
    v: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float
) -> np.ndarray:
    """Euclidean projection of ``v`` onto ``{lower <= x <= upper, sum x = total}``."""
    v = np.asarray(v, dtype=float)
    lo_lam = float(np.min(lower - v))
    hi_lam = float(np.max(upper - v))
    for _ in range(200):
        mid = 0.5 * (lo_lam + hi_lam)
        if np.clip(v + mid, lower, upper).sum() < total:
            lo_lam = mid
        else:
            hi_lam = mid
    x = np.clip(v + 0.5 * (lo_lam + hi_lam), lower, upper)
    # Remove the last rounding residue using coordinates that have room.
    diff = total - x.sum()
    room = (upper - x) if diff > 0 else (x - lower)
    if diff != 0 and room.sum() > 0:
        x = x + np.sign(diff) * room * min(abs(diff) / room.sum(), 1.0)
    return x


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------
def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _normalize_n_segments(
    n_segments: int | Sequence[int], n_channels: int | None, n_names: int | None
) -> list[int]:
    if isinstance(n_segments, np.ndarray) and n_segments.ndim == 1:
        n_segments = n_segments.tolist()
    if isinstance(n_segments, Integral) and not isinstance(n_segments, bool):
        k = _check_positive_int(n_segments, "n_segments")
        if n_channels is None:
            n_channels = n_names if n_names is not None else 4
        n_channels = _check_positive_int(n_channels, "n_channels")
        return [k] * n_channels
    if isinstance(n_segments, (str, bytes)) or not isinstance(n_segments, Sequence):
        raise ValueError(
            "n_segments must be a positive int or a sequence of positive ints, "
            f"got {n_segments!r}."
        )
    ks = list(n_segments)
    if not ks:
        raise ValueError("n_segments must not be empty (one entry per channel).")
    for i, k in enumerate(ks):
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(
                f"n_segments entries must be positive ints, entry {i} is {k!r}."
            )
    if n_channels is not None and n_channels != len(ks):
        raise ValueError(
            f"n_channels={n_channels!r} contradicts len(n_segments)={len(ks)}."
        )
    return [int(k) for k in ks]


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------
def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) series with unit marginal variance."""
    out = np.empty(n)
    out[0] = rng.normal()
    innov = rng.normal(scale=np.sqrt(1.0 - phi**2), size=n)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + innov[t]
    return out


def _flighting_mask(
    rng: np.random.Generator, n: int, mean_on: float, mean_off: float
) -> np.ndarray:
    """On/off campaign blocks; always contains at least one off week."""
    mask = np.ones(n, dtype=bool)
    t = 0
    on = bool(rng.random() < mean_on / (mean_on + mean_off))
    while t < n:
        mean = mean_on if on else mean_off
        length = 1 + int(rng.poisson(mean - 1.0))
        mask[t : t + length] = on
        t += length
        on = not on
    if mask.all():
        start = int(rng.integers(0, n - 1))
        mask[start : start + 2] = False
    return mask


def _simulate_spend(
    rng: np.random.Generator,
    dates: pd.DatetimeIndex,
    max_spend: np.ndarray,
    *,
    loading_range: tuple[float, float] = (0.45, 0.7),
    seasonal_share: float = 0.0,
    shared_dark: bool = False,
    weeks_on: tuple[float, float] = (5.0, 9.0),
    weeks_off: tuple[float, float] = (2.0, 3.0),
) -> np.ndarray:
    """Correlated, flighted weekly spend, shape ``(n_weeks, n_channels)``.

    ``loading_range`` bounds each channel's loading on the shared factor (the
    channels' correlation), ``seasonal_share`` is the share of the shared
    factor's variance that is a Q4 push, and ``shared_dark`` adds
    company-wide dark periods on top of each channel's own flighting, whose
    mean on and off block lengths are drawn from ``weeks_on`` and ``weeks_off``.
    """
    n, n_ch = len(dates), len(max_spend)
    doy = dates.dayofyear.to_numpy(dtype=float)
    # Shared factor: persistent market/budget cycle plus a Q4 push.
    season = np.sqrt(2.0) * np.cos(2.0 * np.pi * (doy - 320.0) / _DAYS_PER_YEAR)
    shared = (
        np.sqrt(1.0 - seasonal_share) * _ar1(rng, n, 0.85)
        + np.sqrt(seasonal_share) * season
    )
    loadings = rng.uniform(*loading_range, size=n_ch)
    # Company-wide dark periods (shared) and channel-specific flighting.
    shared_on = _flighting_mask(rng, n, 12.0, 2.0)
    if not shared_dark:
        shared_on[:] = True
    mean_on = rng.uniform(*weeks_on, size=n_ch)
    mean_off = rng.uniform(*weeks_off, size=n_ch)
    spend = np.empty((n, n_ch))
    for c in range(n_ch):
        idio = _ar1(rng, n, 0.5)
        z = loadings[c] * shared + np.sqrt(1.0 - loadings[c] ** 2) * idio
        level = 0.08 + 0.92 * ndtr(z)  # roughly uniform intensity in (0.08, 1)
        on = shared_on & _flighting_mask(rng, n, mean_on[c], mean_off[c])
        spend[:, c] = np.round(max_spend[c] * level * on, 2)
    return spend


def _draw_segment_params(
    rng: np.random.Generator, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, kappa (as fractions of max adstocked spend) and slopes."""
    if k == 1:
        kappa_frac = np.array([rng.uniform(0.25, 0.55)])
        slope = np.array([rng.uniform(1.5, 3.5)])
    else:
        lo, hi = rng.uniform(0.15, 0.2), rng.uniform(0.65, 0.9)
        log_frac = np.linspace(np.log(lo), np.log(hi), k)
        step = log_frac[1] - log_frac[0]
        log_frac[1:-1] += rng.uniform(-0.2, 0.2, size=k - 2) * step
        kappa_frac = np.exp(log_frac)
        slope = rng.uniform(2.0, 4.0, size=k)
    floor = min_segment_share(k)
    weights = floor + (1.0 - k * floor) * rng.dirichlet(np.full(k, 2.0))
    return weights / weights.sum(), kappa_frac, slope


def _generate(
    ks: list[int],
    *,
    n_weeks: int,
    mode: str,
    l_max: int,
    noise: float,
    seed: int | np.random.Generator | None,
    names: list[str],
    overrides: Mapping[int, Mapping[str, Any]] | None = None,
    spend_options: Mapping[str, Any] | None = None,
) -> SyntheticMMMData:
    overrides = overrides or {}
    rng = np.random.default_rng(seed)
    rng_spend, rng_params, rng_base, rng_noise, rng_latent = rng.spawn(5)
    n_ch = len(ks)
    dates = pd.date_range(_START_DATE, periods=n_weeks, freq="W-MON", name="date")

    # --- channel scales and adstock ------------------------------------------
    log_max = np.linspace(np.log10(3_000.0), np.log10(40_000.0), n_ch)
    if n_ch == 1:
        log_max = np.array([np.log10(10_000.0)])
    log_max = rng_params.permutation(log_max) + rng_params.uniform(-0.08, 0.08, n_ch)
    max_spend = 10.0**log_max
    alphas = rng_params.uniform(0.2, 0.7, size=n_ch)
    shares = rng_params.uniform(0.12, 0.25, size=n_ch)
    seg = [_draw_segment_params(rng_params, k) for k in ks]
    for c, ov in overrides.items():
        max_spend[c] = ov.get("max_spend", max_spend[c])
        alphas[c] = ov.get("alpha", alphas[c])
        shares[c] = ov.get("share", shares[c])
        w, kf, s = seg[c]
        seg[c] = (
            np.asarray(ov.get("weights", w), dtype=float),
            np.asarray(ov.get("kappa_frac", kf), dtype=float),
            np.asarray(ov.get("slope", s), dtype=float),
        )

    spend = _simulate_spend(rng_spend, dates, max_spend, **(spend_options or {}))
    adstocked = np.column_stack(
        [geometric_adstock_numpy(spend[:, c], alphas[c], l_max) for c in range(n_ch)]
    )
    a_max = adstocked.max(axis=0)
    for c, ov in overrides.items():
        if "kappa" in ov:  # in spend units, e.g. shared by the geos of a panel
            w, _, s = seg[c]
            seg[c] = (w, np.asarray(ov["kappa"], dtype=float) / a_max[c], s)

    # --- baseline ----------------------------------------------------------
    t = np.arange(n_weeks, dtype=float)
    intercept = float(rng_base.uniform(5_000.0, 10_000.0))
    growth = float(rng_base.uniform(0.03, 0.10))
    trend = intercept * growth * t / (n_weeks - 1)
    doy = dates.dayofyear.to_numpy(dtype=float)
    seasonality = np.zeros(n_weeks)
    for order, sd in ((1, 0.05), (2, 0.025)):
        a_sin, a_cos = rng_base.normal(0.0, sd * intercept, size=2)
        arg = 2.0 * np.pi * order * doy / _DAYS_PER_YEAR
        seasonality += a_sin * np.sin(arg) + a_cos * np.cos(arg)
    baseline = intercept + trend + seasonality
    base_mean = float(baseline.mean())

    # --- betas: channel max contribution = share * mean sales ------------------
    unit_max, unit_mean = np.empty(n_ch), np.empty(n_ch)
    for c in range(n_ch):
        w, kf, s = seg[c]
        unit = hill(adstocked[:, c, None], s, kf * a_max[c]) @ w
        unit_max[c], unit_mean[c] = unit.max(), unit.mean()
    media_frac = float(np.sum(shares * unit_mean / unit_max))
    if media_frac > 0.55:  # keep the media share of sales plausible
        shares = shares * 0.55 / media_frac
        media_frac = 0.55
    mean_sales = base_mean / (1.0 - media_frac)
    truths: dict[str, ChannelTruth] = {}
    for c, name in enumerate(names):
        w, kf, s = seg[c]
        truths[name] = ChannelTruth(
            name=name,
            beta=float(shares[c] * mean_sales / unit_max[c]),
            weights=w,
            kappa=kf * a_max[c],
            slope=s,
            adstock_alpha=float(alphas[c]),
        )

    # --- contributions -------------------------------------------------------
    contrib = np.empty((n_weeks, n_ch))
    latent = None
    if mode == "latent":
        latent = np.empty((n_weeks, n_ch), dtype=int)
    for c, name in enumerate(names):
        ch = truths[name]
        if mode == "aggregate":
            contrib[:, c] = ch.curve(adstocked[:, c])
        else:
            z = rng_latent.choice(ch.n_segments, size=n_weeks, p=ch.weights)
            latent[:, c] = z
            contrib[:, c] = ch.beta * hill(adstocked[:, c], ch.slope[z], ch.kappa[z])

    sigma = float(noise * mean_sales)
    eps = rng_noise.normal(0.0, 1.0, size=n_weeks) * sigma
    y = baseline + contrib.sum(axis=1) + eps

    data = pd.DataFrame({"date": dates})
    for c, name in enumerate(names):
        data[name] = spend[:, c]
    data["y"] = y
    return SyntheticMMMData(
        data=data,
        date_column="date",
        channel_columns=list(names),
        target_column="y",
        channels=truths,
        contributions=pd.DataFrame(contrib, index=dates, columns=list(names)),
        adstocked_spend=pd.DataFrame(adstocked, index=dates, columns=list(names)),
        noise_sigma=sigma,
        l_max=int(l_max),
        mode=mode,
        baseline=pd.Series(baseline, index=dates, name="baseline"),
        baseline_components=pd.DataFrame(
            {
                "intercept": np.full(n_weeks, intercept),
                "trend": trend,
                "seasonality": seasonality,
            },
            index=dates,
        ),
        latent_segments=(
            None
            if latent is None
            else pd.DataFrame(latent, index=dates, columns=list(names))
        ),
    )


def make_mixture_mmm_data(
    n_segments: int | Sequence[int] = (1, 2, 1),
    *,
    n_weeks: int = 156,
    mode: Literal["aggregate", "latent"] = "aggregate",
    l_max: int = 6,
    noise: float = 0.04,
    seed: int | np.random.Generator | None = 0,
    channel_names: Sequence[str] | None = None,
    n_channels: int | None = None,
) -> SyntheticMMMData:
    """Simulate weekly MMM data whose channels saturate as mixtures of Hill curves.

    Spend is flighted (on/off blocks, so some weeks are exactly zero), positively
    correlated across channels through a shared latent factor, and on channel
    scales between roughly 3,000 and 40,000 per week. For a channel with ``K``
    segments the half-saturation points lie between about 15% and 90% of the
    channel's maximum adstocked spend (log-spaced, so neighbours are clearly
    separated), slopes are in ``[2, 4]`` (``[1.5, 3.5]`` when ``K == 1``) and
    every weight is at least :func:`min_segment_share`. ``beta`` is chosen so
    that each channel's largest weekly contribution is 12-25% of mean sales
    (scaled down when many channels would make media exceed ~55% of sales).

    Parameters
    ----------
    n_segments : int or sequence of int, default (1, 2, 1)
        True number of segments per channel. A sequence fixes the number of
        channels; an int uses the same ``K`` for ``n_channels`` channels.
    n_weeks : int, default 156
        Number of weeks (``>= 20`` and ``> l_max``).
    mode : {"aggregate", "latent"}, default "aggregate"
        ``"aggregate"``: weekly response is the weighted sum of the segment
        curves. ``"latent"``: each week one segment ``z ~ Categorical(w)`` is
        drawn per channel and the response is ``beta * hill_z``.
    l_max : int, default 6
        Length of the normalised geometric adstock.
    noise : float, default 0.04
        Noise standard deviation as a fraction of the expected mean sales
        (``>= 0``). Values above ~0.2 may produce negative sales.
    seed : int, numpy.random.Generator or None, default 0
        Seed or generator (a passed generator is advanced). Spend, parameters,
        baseline, noise and latent draws use independent child streams, so the
        two modes share everything except the contributions for a given seed.
    channel_names : sequence of str, optional
        Channel column names; default ``"x1", "x2", ...``.
    n_channels : int, optional
        Number of channels when ``n_segments`` is an int (default: the length
        of ``channel_names`` or 4). Must agree with a sequence ``n_segments``.

    Returns
    -------
    SyntheticMMMData
        Data, true parameters, contributions and the response oracle.

    Raises
    ------
    ValueError
        If any argument is invalid (the message names the argument).

    Examples
    --------
    >>> from pmm_mixture.synthetic import make_mixture_mmm_data
    >>> sim = make_mixture_mmm_data(2, n_channels=3, n_weeks=104, seed=7)
    >>> sim.data.shape
    (104, 5)
    >>> [sim.channels[c].n_segments for c in sim.channel_columns]
    [2, 2, 2]
    >>> bool((sim.data["y"] > 0).all())
    True

    """
    names_in = None if channel_names is None else list(channel_names)
    ks = _normalize_n_segments(
        n_segments, n_channels, None if names_in is None else len(names_in)
    )
    l_max = _check_positive_int(l_max, "l_max")
    n_weeks = _check_positive_int(n_weeks, "n_weeks")
    if n_weeks < 20 or n_weeks <= l_max:
        raise ValueError(
            f"n_weeks must be >= 20 and greater than l_max={l_max}, got {n_weeks}."
        )
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}.")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, Real)
        or not np.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}.")
    if names_in is None:
        names = [f"x{i + 1}" for i in range(len(ks))]
    else:
        if len(names_in) != len(ks):
            raise ValueError(
                f"channel_names has {len(names_in)} entries but there are "
                f"{len(ks)} channels."
            )
        if not all(isinstance(n, str) and n for n in names_in):
            raise ValueError(
                f"channel_names must be non-empty strings, got {names_in}."
            )
        if len(set(names_in)) != len(names_in):
            raise ValueError(f"channel_names must be unique, got {names_in}.")
        reserved = {"date", "y"} & set(names_in)
        if reserved:
            raise ValueError(
                f"channel_names must not use the reserved column names {reserved}."
            )
        names = names_in
    return _generate(
        ks,
        n_weeks=n_weeks,
        mode=mode,
        l_max=l_max,
        noise=float(noise),
        seed=seed,
        names=names,
    )


def example_two_segment_data(seed: int = 0) -> SyntheticMMMData:
    """Built-in example: three channels, ``"search"`` has two audience segments.

    Channels ``"tv"`` (1 segment), ``"search"`` (2 segments) and ``"social"``
    (1 segment), 156 weeks, aggregate mode, noise 2% of mean sales. The
    ``"search"`` segments have weights ``(0.5, 0.5)``, half-saturation points at
    12% and 55% of the channel's maximum adstocked spend (ratio ~4.6) and slopes
    ``(4.0, 3.5)``: a steep first rise, a plateau and a second rise that no
    single Hill curve reproduces (best single-Hill fit is off by ~9% of the
    curve's maximum over the observed range).

    Parameters
    ----------
    seed : int, default 0
        Seed for spend, baseline and noise; the segment structure is fixed.

    Returns
    -------
    SyntheticMMMData
        The example data set with its truth.

    Examples
    --------
    >>> from pmm_mixture.synthetic import example_two_segment_data
    >>> sim = example_two_segment_data()
    >>> sim.channels["search"].weights.tolist()
    [0.5, 0.5]
    >>> [round(float(s), 1) for s in sim.channels["search"].slope]
    [4.0, 3.5]

    """
    overrides = {
        0: {
            "max_spend": 40_000.0,
            "alpha": 0.6,
            "share": 0.20,
            "weights": [1.0],
            "kappa_frac": [0.40],
            "slope": [2.0],
        },
        1: {
            "max_spend": 12_000.0,
            "alpha": 0.3,
            "share": 0.25,
            "weights": [0.5, 0.5],
            "kappa_frac": [0.12, 0.55],
            "slope": [4.0, 3.5],
        },
        2: {
            "max_spend": 6_000.0,
            "alpha": 0.4,
            "share": 0.15,
            "weights": [1.0],
            "kappa_frac": [0.35],
            "slope": [1.8],
        },
    }
    return _generate(
        [1, 2, 1],
        n_weeks=156,
        mode="aggregate",
        l_max=6,
        noise=0.02,
        seed=seed,
        names=["tv", "search", "social"],
        overrides=overrides,
        # Weaker cross-channel correlation than the default (0.45-0.7), so the
        # example's short single fit tells the channels apart.
        spend_options={"loading_range": (0.25, 0.45)},
    )


def make_two_segment_data(
    kappa_ratio: float | None,
    *,
    share: float = 0.5,
    slope: float = 3.0,
    noise: float = 0.02,
    n_weeks: int = 156,
    kappa_center: float = 0.25,
    channel_share: float = 0.25,
    seed: int = 0,
) -> SyntheticMMMData:
    """One channel whose audience is one segment or two, in a controlled way.

    The data of the resolvability study (``benchmarks/resolvability.py``):
    the same spend, adstock, baseline and noise as
    :func:`make_mixture_mmm_data` for one channel, with the segment structure
    set by the arguments instead of drawn.

    Parameters
    ----------
    kappa_ratio : float or None
        Ratio of the two half-saturation points (``> 1``); they lie
        symmetrically on the log scale around ``kappa_center``. ``None``
        gives one segment at ``kappa_center`` (the study's null data).
    share : float, default 0.5
        Weight of the second (higher-kappa) segment, in ``(0, 1)``; ignored
        with one segment.
    slope : float, default 3.0
        Hill slope of every segment.
    noise : float, default 0.02
        Noise standard deviation as a fraction of mean sales.
    n_weeks : int, default 156
    kappa_center : float, default 0.25
        Geometric mean of the half-saturation points, as a fraction of the
        channel's largest adstocked spend.
    channel_share : float, default 0.25
        The channel's largest weekly contribution as a fraction of mean sales.
    seed : int, default 0
        Seed of spend, baseline and noise.

    Returns
    -------
    SyntheticMMMData
        One channel named ``"x1"``, aggregate mode, ``l_max=6``.

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it).

    Examples
    --------
    >>> from pmm_mixture.synthetic import make_two_segment_data
    >>> sim = make_two_segment_data(4.0, share=0.5, slope=3.0, seed=1)
    >>> truth = sim.channels["x1"]
    >>> round(float(truth.kappa[1] / truth.kappa[0]), 6)
    4.0
    >>> truth.weights.tolist()
    [0.5, 0.5]
    >>> make_two_segment_data(None).channels["x1"].n_segments
    1

    """
    checks = {
        "share": (share, 0.0, 1.0),
        "kappa_center": (kappa_center, 0.0, 1.0),
        "channel_share": (channel_share, 0.0, 1.0),
    }
    for name, (value, low, high) in checks.items():
        if not low < float(value) < high:
            raise ValueError(f"{name} must lie in ({low}, {high}), got {value!r}.")
    if not float(slope) > 0:
        raise ValueError(f"slope must be positive, got {slope!r}.")
    if kappa_ratio is None:
        weights, kappa_frac, slopes = [1.0], [kappa_center], [slope]
    else:
        if not float(kappa_ratio) > 1:
            raise ValueError(f"kappa_ratio must be > 1 or None, got {kappa_ratio!r}.")
        half = 0.5 * np.log(float(kappa_ratio))
        kappa_frac = np.exp(np.log(kappa_center) + np.array([-half, half])).tolist()
        weights, slopes = [1.0 - share, share], [slope, slope]
    overrides = {
        0: {
            "max_spend": 10_000.0,
            "alpha": 0.4,
            "share": channel_share,
            "weights": weights,
            "kappa_frac": kappa_frac,
            "slope": slopes,
        }
    }
    n_weeks = _check_positive_int(n_weeks, "n_weeks")
    if n_weeks < 20:
        raise ValueError(f"n_weeks must be >= 20, got {n_weeks}.")
    if not 0 <= float(noise) < 1:
        raise ValueError(f"noise must lie in [0, 1), got {noise!r}.")
    return _generate(
        [len(weights)],
        n_weeks=n_weeks,
        mode="aggregate",
        l_max=6,
        noise=float(noise),
        seed=seed,
        names=["x1"],
        overrides=overrides,
    )


@dataclass(frozen=True, eq=False)
class GeoPanelData:
    """A geo panel: one :class:`SyntheticMMMData` per geo, same channels.

    Parameters
    ----------
    markets : dict of str to SyntheticMMMData
        The data and truth of every geo.
    shared_weights : dict of str to numpy.ndarray
        Per channel, the mix the geos' segment shares scatter around.
    geo_column : str, default "geo"

    Notes
    -----
    Equality is identity (the class holds data frames).
    """

    markets: dict[str, SyntheticMMMData]
    shared_weights: dict[str, np.ndarray]
    geo_column: str = "geo"

    @property
    def geos(self) -> list[str]:
        """Geo names, in order."""
        return list(self.markets)

    @property
    def channel_columns(self) -> list[str]:
        """Channel (spend) columns, the same in every geo."""
        return next(iter(self.markets.values())).channel_columns

    @property
    def data(self) -> pd.DataFrame:
        """Long data: every geo's rows with a ``geo_column``, stacked."""
        return pd.concat(
            [m.data.assign(**{self.geo_column: g}) for g, m in self.markets.items()],
            ignore_index=True,
        )

    def split(
        self, n_test: int
    ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
        """Last ``n_test`` weeks of every geo as test; long ``X`` with ``geo``."""
        parts = [m.split(n_test) for m in self.markets.values()]
        out = []
        for i in range(4):
            frames = [
                part[i].to_frame() if isinstance(part[i], pd.Series) else part[i]
                for part in parts
            ]
            if i in (0, 2):
                frames = [
                    f.assign(**{self.geo_column: g})
                    for f, g in zip(frames, self.markets, strict=True)
                ]
            joined = pd.concat(frames, ignore_index=True)
            out.append(joined if i in (0, 2) else joined.iloc[:, 0])
        return out[0], out[1], out[2], out[3]


def well_separated_segments(
    k: int, rng: np.random.Generator, min_ratio: float = 4.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, kappa (as fractions of max adstocked spend) and slopes.

    Neighbouring half-saturation points are ``min_ratio`` to 1.25 x
    ``min_ratio`` apart and end at most at 0.9 of the largest adstocked
    spend; slopes are in ``[2.5, 4]``; weights as in
    :func:`make_mixture_mmm_data`.

    Examples
    --------
    >>> import numpy as np
    >>> w, kappa, slope = well_separated_segments(3, np.random.default_rng(0))
    >>> bool((kappa[1:] / kappa[:-1] >= 4).all()), bool(kappa[-1] <= 0.9)
    (True, True)
    """
    k = _check_positive_int(k, "k")
    if k == 1:
        kappa = np.array([rng.uniform(0.25, 0.55)])
    else:
        ratio = rng.uniform(min_ratio, 1.25 * min_ratio)
        top = min(rng.uniform(0.6, 0.9), 0.9)
        kappa = top / ratio ** np.arange(k - 1, -1, -1)
    slope = rng.uniform(2.5, 4.0, size=k)
    floor = min_segment_share(k)
    weights = floor + (1.0 - k * floor) * rng.dirichlet(np.full(k, 2.0))
    return weights / weights.sum(), kappa, slope


def make_geo_panel_data(
    n_segments: int | Sequence[int] = (2, 1, 1),
    *,
    n_geos: int = 10,
    n_weeks: int = 156,
    noise: float = 0.02,
    share_spread: float = 0.5,
    min_kappa_ratio: float = 4.0,
    seed: int = 0,
) -> GeoPanelData:
    """Geos that share segment shapes but differ in their audience mix.

    Every channel's segments have the same half-saturation points (in spend
    units), slopes and adstock in every geo; each geo's segment shares are
    ``softmax(log w_shared + share_spread * z)``, ``z ~ N(0, 1)``, the
    generative form of :class:`~pmm_mixture.pooled_weights.PartiallyPooledWeights`.
    Spend, baseline and noise are drawn per geo (channel spend scales are
    shared).

    Parameters
    ----------
    n_segments : int or sequence of int, default (2, 1, 1)
        Segments per channel (an int: three channels with that many).
    n_geos : int, default 10
    n_weeks : int, default 156
    noise : float, default 0.02
        Noise standard deviation as a fraction of each geo's mean sales.
    share_spread : float, default 0.5
        Standard deviation of a geo's log shares around the shared mix.
    min_kappa_ratio : float, default 4.0
        Smallest ratio of neighbouring half-saturation points.
    seed : int, default 0

    Returns
    -------
    GeoPanelData

    Examples
    --------
    >>> import numpy as np
    >>> from pmm_mixture.synthetic import make_geo_panel_data
    >>> panel = make_geo_panel_data((2, 1), n_geos=3, n_weeks=52, seed=1)
    >>> panel.data.shape
    (156, 5)
    >>> a, b = (panel.markets[g].channels["x1"] for g in ("geo0", "geo1"))
    >>> bool(np.allclose(a.kappa, b.kappa)), bool((a.weights != b.weights).any())
    (True, True)
    """
    ks = [n_segments] * 3 if isinstance(n_segments, Integral) else list(n_segments)
    ks = [_check_positive_int(k, "n_segments") for k in ks]
    n_geos = _check_positive_int(n_geos, "n_geos")
    if not float(share_spread) >= 0:
        raise ValueError(f"share_spread must be >= 0, got {share_spread!r}.")
    rng = np.random.default_rng(seed)
    n_ch = len(ks)
    max_spend = 10.0 ** rng.uniform(np.log10(3_000.0), np.log10(40_000.0), n_ch)
    alphas = rng.uniform(0.2, 0.7, size=n_ch)
    shapes = [well_separated_segments(k, rng, min_kappa_ratio) for k in ks]
    names = [f"x{c + 1}" for c in range(n_ch)]
    markets: dict[str, SyntheticMMMData] = {}
    for g in range(n_geos):
        overrides = {}
        for c, (w, kf, s) in enumerate(shapes):
            logits = np.log(w) + share_spread * rng.normal(size=len(w))
            shares = np.exp(logits - logits.max())
            overrides[c] = {
                "max_spend": max_spend[c],
                "alpha": alphas[c],
                "weights": shares / shares.sum(),
                "kappa_frac": kf,
                "slope": s,
            }
            if markets:  # the first geo fixes kappa in spend units for all
                overrides[c]["kappa"] = markets["geo0"].channels[names[c]].kappa
        markets[f"geo{g}"] = _generate(
            ks,
            n_weeks=n_weeks,
            mode="aggregate",
            l_max=6,
            noise=float(noise),
            seed=int(rng.integers(2**31)),
            names=names,
            overrides=overrides,
        )
    shared = {name: shapes[c][0] for c, name in enumerate(names)}
    return GeoPanelData(markets=markets, shared_weights=shared)
