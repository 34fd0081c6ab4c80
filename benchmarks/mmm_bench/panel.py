"""The geo tier: panel data, the geo MMM, and its metrics per geo.

Data: :func:`pmm_mixture.synthetic.make_geo_panel_data` with ``K_true``
segments on the first channel and one on the others; segment shapes (kappa
in spend units, slopes, adstock) are shared by the geos, each geo's segment
shares differ. Model: PyMC-Marketing's ``MMM(dims=("geo",))`` as the
single-market benchmark builds it (trend control, yearly seasonality of order
2, geometric adstock as ``pmm_mixture.LaggedGeometricAdstock``), whose
default scaling divides each channel by its largest spend over all geos and
the target by its largest value over all geos, so a kappa shared in scaled
units is shared in spend units, as in the truth.

Metrics, per geo and then averaged over the geos (``*_by_geo`` details keep
the per-geo values):

- curve error per geo and channel against that geo's true curve, on that
  geo's observed adstocked spend range;
- contribution error per geo and channel;
- budget regret per geo: each geo's weekly budget is fixed at its historical
  (training) mean total; PyMC-Marketing's optimizer allocates every geo's
  budget over its channels in one problem (one equality constraint per geo,
  budget bounds ``[0, B_g]`` per geo and channel; geos do not interact, so
  this is the geos' separate problems solved together), and the regret of a
  geo is the true response it loses against its own true optimum
  (``SyntheticMMMData.optimal_allocation``) as a percentage of that optimum;
  the run's ``regret_pct`` is the mean over geos (:func:`panel_regret`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .specs import GEO_L_MAX, MIN_KAPPA_RATIO, RunSpec

GEO = "geo"
DATE = "date"


def segments_per_channel(k_true: int, n_channels: int) -> tuple[int, ...]:
    """``K_true`` segments on the first channel, one on each of the others."""
    return (k_true,) + (1,) * (n_channels - 1)


def prepare_geo_data(spec: RunSpec):
    """The geo panel of the cell, with a ``trend`` control, split train/test.

    Returns
    -------
    tuple
        ``(panel, X_train, y_train, X_test, y_test)``: long frames with a
        ``geo`` column (the last ``spec.n_test`` weeks of every geo are the
        test); the trend runs from 0 to 1 over all weeks, by date.
    """
    from pmm_mixture.synthetic import make_geo_panel_data

    panel = make_geo_panel_data(
        segments_per_channel(spec.k_true, spec.n_channels),
        n_geos=spec.n_geos,
        n_weeks=spec.n_weeks,
        noise=spec.noise,
        min_kappa_ratio=MIN_KAPPA_RATIO,
        seed=spec.seed,
    )
    X_train, y_train, X_test, y_test = panel.split(spec.n_test)
    dates = np.sort(pd.unique(panel.data[DATE]))
    position = pd.Series(np.arange(len(dates)) / (len(dates) - 1), index=dates)
    X_train = X_train.assign(trend=X_train[DATE].map(position).to_numpy())
    X_test = X_test.assign(trend=X_test[DATE].map(position).to_numpy())
    return panel, X_train, y_train.rename("y"), X_test, y_test.rename("y")


def build_geo_mmm(panel, saturation, l_max: int = GEO_L_MAX, adstock=None):
    """``MMM(dims=("geo",))`` with the single-market benchmark's structure.

    ``adstock``: unless given, ``pmm_mixture.LaggedGeometricAdstock(l_max)``,
    the same model as ``GeometricAdstock(l_max)`` at a fraction of its JAX
    gradient's cost on panels (:data:`mmm_bench.specs.GEO_ADSTOCK`).
    """
    from pymc_marketing.mmm import MMM

    from pmm_mixture import LaggedGeometricAdstock

    return MMM(
        date_column=DATE,
        channel_columns=list(panel.channel_columns),
        target_column="y",
        dims=(GEO,),
        control_columns=["trend"],
        yearly_seasonality=2,
        adstock=LaggedGeometricAdstock(l_max=l_max) if adstock is None else adstock,
        saturation=saturation,
    )


def by_date_and_geo(X: pd.DataFrame, values: Sequence[float], geos) -> np.ndarray:
    """Long ``values`` (rows of ``X``) as a ``(date, geo)`` array, geos in
    the order of ``geos``, dates ascending."""
    frame = pd.DataFrame(
        {DATE: X[DATE].to_numpy(), GEO: X[GEO].to_numpy(), "v": np.asarray(values)}
    )
    table = frame.pivot(index=DATE, columns=GEO, values="v").sort_index()
    return table[list(geos)].to_numpy(dtype=float)


def panel_regret(per_geo: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Budget regret of a panel from each geo's :func:`metrics.budget_regret`.

    Parameters
    ----------
    per_geo : mapping
        Per geo: ``regret_pct``, ``response_recommended``,
        ``response_optimal`` (each geo against its own optimum).

    Returns
    -------
    dict
        ``regret_pct``: mean of the geos' regrets (every geo weighs the same);
        ``regret_pooled_pct``: the response lost over all geos as a percentage
        of the summed optima (large geos weigh more);
        ``response_recommended`` and ``response_optimal``: the sums.
    """
    if not per_geo:
        raise ValueError("No geos.")
    regrets = np.array([float(r["regret_pct"]) for r in per_geo.values()])
    rec = float(sum(float(r["response_recommended"]) for r in per_geo.values()))
    opt = float(sum(float(r["response_optimal"]) for r in per_geo.values()))
    return {
        "regret_pct": float(regrets.mean()),
        "regret_pooled_pct": 100.0 * (opt - rec) / opt,
        "response_recommended": rec,
        "response_optimal": opt,
    }


def geo_budgets(X_train: pd.DataFrame, channels: Sequence[str]) -> dict[str, float]:
    """Each geo's historical weekly budget: mean total spend of its weeks."""
    totals = X_train[list(channels)].sum(axis=1)
    return {str(g): float(v) for g, v in totals.groupby(X_train[GEO]).mean().items()}


def per_geo_constraints(budgets: Mapping[str, float], geo_order: Sequence[str]):
    """One equality constraint per geo: its channels' budgets sum to ``B_g``."""
    from pymc_marketing.mmm.constraints import Constraint

    def constraint(index: int, value: float):
        def fun(budgets_sym, total_budget_sym, optimizer):
            return budgets_sym.isel({GEO: index}).sum() - value

        return fun

    return [
        Constraint(f"budget_{g}", "eq", constraint(i, float(budgets[g])))
        for i, g in enumerate(geo_order)
    ]


def allocate_per_geo(mmm, X_train, X_test, channels, budgets: Mapping[str, float]):
    """PyMC-Marketing's recommended weekly spend per geo and channel.

    Returns
    -------
    tuple
        ``(recommended, result, failed_attempts)``: ``{geo: {channel: spend}}``,
        the optimizer's result and the messages of failed tries.
    """
    import xarray as xr
    from pymc_marketing.mmm.budget_optimizer import MinimizeException

    geo_order = [str(g) for g in mmm.model.coords[GEO]]
    channel_order = [str(c) for c in mmm.model.coords["channel"]]
    optimizer = mmm.budget_optimizer(
        start_date=X_test[DATE].iloc[0],
        end_date=X_test[DATE].max(),
        constraints=per_geo_constraints(budgets, geo_order),
    )
    # the constraints pick geos by position in the optimizer's budget dims
    coords = getattr(optimizer, "_budget_coords", {GEO: geo_order})
    if [str(g) for g in coords[GEO]] != geo_order:
        raise RuntimeError(
            f"The optimizer's geos {list(coords[GEO])} are not in the model's "
            f"order {geo_order}."
        )
    upper = np.array([[budgets[g]] * len(channel_order) for g in geo_order])
    bounds = xr.DataArray(
        np.stack([np.zeros_like(upper), upper], axis=-1),
        dims=(GEO, "channel", "bound"),
        coords={GEO: geo_order, "channel": channel_order, "bound": ["lower", "upper"]},
    )
    means = X_train.groupby(GEO)[channel_order].mean()
    shares = means.div(means.sum(axis=1), axis=0)
    start = xr.DataArray(
        np.array([shares.loc[g].to_numpy() * budgets[g] for g in geo_order]),
        dims=(GEO, "channel"),
        coords={GEO: geo_order, "channel": channel_order},
    )
    total = float(sum(budgets.values()))
    # as in the single-market run: the historical split as start, then
    # scipy's trust-constr method instead of SLSQP
    tries = (
        {"x0": start},
        {"x0": start, "minimize_kwargs": {"method": "trust-constr"}},
    )
    attempts = []
    for number, extra in enumerate(tries, start=1):
        try:
            result = optimizer.allocate_budget(
                total_budget=total, budget_bounds=bounds, **extra
            )
            break
        except MinimizeException as error:
            if number == len(tries):
                raise
            attempts.append(str(error))
    recommended = {
        g: {c: float(result.budgets.sel({GEO: g, "channel": c})) for c in channels}
        for g in geo_order
    }
    return recommended, result, attempts


def curve_errors(
    mean_curve,
    channel_scale,
    panel,
    n_train: int,
    curve_recovery_error,
) -> dict[str, dict[str, dict[str, float]]]:
    """Per geo and channel, the fitted mean curve's error against the truth.

    ``mean_curve`` (target units) has dims ``x`` (scaled spend), ``channel``
    and, when it varies by geo, ``geo``; ``channel_scale`` the channel (and
    possibly geo) dims. The grid is cut to each geo's observed positive
    adstocked spend range in the training weeks.
    """
    errors: dict[str, dict[str, dict[str, float]]] = {}
    for geo, market in panel.markets.items():
        adstocked = market.adstocked_spend.iloc[:n_train]
        errors[geo] = {}
        for channel in panel.channel_columns:
            scale = channel_scale.sel(channel=channel)
            if GEO in scale.dims:
                scale = scale.sel({GEO: geo})
            spend = mean_curve["x"].values * float(scale)
            observed = adstocked[channel].to_numpy()
            low, high = observed[observed > 0].min(), observed.max()
            inside = (spend >= low) & (spend <= high)
            fitted = mean_curve.sel(channel=channel)
            if GEO in fitted.dims:
                fitted = fitted.sel({GEO: geo})
            truth = market.channels[channel].curve(spend[inside])
            errors[geo][channel] = curve_recovery_error(
                truth, fitted.transpose("x").values[inside]
            )
    return errors


def mean_over(errors: Mapping[str, Mapping[str, Mapping[str, float]]], what: str):
    """Mean of ``what`` (``"max"`` or ``"mean"``) over geos and channels."""
    return float(
        np.mean(
            [e[what] for per_channel in errors.values() for e in per_channel.values()]
        )
    )


def true_segments(data: Any, index: pd.Index) -> np.ndarray:
    """The true segment count of each row of a ``segment_evidence`` table.

    ``data`` is a ``SyntheticMMMData`` or a ``GeoPanelData``; ``index`` has a
    ``channel`` level and, for a panel whose weights vary by geo, a ``geo``
    level (without it, the geos' counts, equal by construction, are taken
    from the first geo).
    """
    markets = getattr(data, "markets", None)
    frame = index.to_frame(index=False)
    counts = []
    for row in frame.itertuples(index=False):
        fields = row._asdict()
        if markets is None:
            market = data
        elif GEO in fields:
            market = markets[str(fields[GEO])]
        else:
            market = next(iter(markets.values()))
        counts.append(market.channels[str(fields["channel"])].n_segments)
    return np.asarray(counts, dtype=int)


def segment_accuracy(segments: Sequence[float], truth: Sequence[int]) -> float:
    """Share of rows whose (posterior median) segment count equals the truth."""
    segments = np.asarray(segments, dtype=float)
    truth = np.asarray(truth, dtype=float)
    if segments.shape != truth.shape or segments.size == 0:
        raise ValueError(
            f"segments and truth must be non-empty and of the same length, got "
            f"{segments.shape} and {truth.shape}."
        )
    return float((segments == truth).mean())
