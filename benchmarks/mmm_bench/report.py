"""Reading cached results and reporting them: comparisons, tables, figures.

Everything here works on the result files in the cache and on tables built
from them; nothing fits a model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .specs import (
    METRIC_KEYS,
    MIXTURE_MODELS,
    MODELS,
    REFERENCE_MODEL,
    SINGLE_CURVE_MODELS,
    TARGET_MODEL,
    TIERS,
    RunSpec,
    SamplerSettings,
    Tier,
    build_specs,
    cell_order,
    uses_mixture_saturation,
)

# Metrics added when runs are compared with the Hill model on the same data.
PAIRWISE_KEYS = (
    "elpd_diff_vs_hill",
    "elpd_diff_se_vs_hill",
    "elpd_diff_z_vs_hill",
    "fit_seconds_ratio",
    "sampling_seconds_ratio",
    "ess_bulk_per_s_ratio",
    "peak_rss_fit_ratio",
)
DATA_SET = ["mode", "k_true", "seed"]


def load_results(
    specs: Iterable[RunSpec], cache_dir: Path
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    """Cached results of the specs as a table, plus their pointwise ELPDs.

    One row per spec, in order (``status`` ``"missing"`` when not cached);
    ``mode`` is the spec's cell (:attr:`RunSpec.cell`: the mode, ``"geo G=10"``
    for a 10-geo panel, ``" + lift"`` with lift tests), ``n_geos`` its panel
    size (NaN for single-market data) and ``lift`` whether it has lift tests;
    ``key`` is the spec's key, which also keys the pointwise ELPDs, and
    ``result`` the stem of its result file (the latent K_true=1 runs share the
    aggregate fit's). The pointwise ELPDs are also kept in the table's
    ``attrs["elpd"]``, for :func:`evaluate_targets`.
    """
    rows, elpd = [], {}
    for spec in specs:
        path = spec.result_path(cache_dir)
        row: dict[str, Any] = {
            "mode": spec.cell,
            "n_geos": np.nan if spec.n_geos is None else spec.n_geos,
            "lift": bool(spec.lift_levels),
            "k_true": spec.k_true,
            "seed": spec.seed,
            "model": spec.model,
            "key": spec.key(),
            "result": spec.fitted_as().key(),
        }
        if not path.exists():
            rows.append({**row, "status": "missing"})
            continue
        result = json.loads(path.read_text())
        row |= result["metrics"]
        row["status"] = "ok" if not result["errors"] else "partial"
        row["failed_steps"] = ",".join(sorted(result["errors"]))
        row["pmm_mixture_digest"] = result.get("pmm_mixture_digest", "")
        rows.append(row)
        if "elpd_i" in result:
            elpd[spec.key()] = result["elpd_i"]
    frame = pd.DataFrame(rows)
    frame.attrs["elpd"] = _Shared(elpd)
    return frame, elpd


class _Shared(dict):
    """A dict that pandas does not copy: ``attrs`` are deep-copied into every
    derived frame (each filter), which for the pointwise ELPDs of a tier
    costs tens of milliseconds a time. Read only."""

    def __deepcopy__(self, memo: dict) -> _Shared:
        return self


def _cell_rank(modes: pd.Series) -> pd.Series:
    """Sort key of a ``mode`` column: cells in :func:`cell_order`."""
    order = {cell: i for i, cell in enumerate(cell_order(list(modes)))}
    return modes.map(order)


def add_pairwise(
    runs: pd.DataFrame,
    elpd: dict[str, list[float]],
    specs: Sequence[RunSpec],
    cache_dir: Path,
    model_settings: Mapping[str, SamplerSettings] | None = None,
) -> pd.DataFrame:
    """ELPD difference to Hill (with SE) and cost ratios, per run.

    The Hill run of the same data is read from the cache even when it was not
    requested (``--only-model``), as long as it was fitted with the settings
    ``model_settings`` gives Hill (default: the default table).
    """
    from . import metrics as bm

    runs = runs.copy()
    for key in PAIRWISE_KEYS:
        runs[key] = np.nan
    for i, spec in enumerate(specs):
        if runs.loc[i, "status"] == "missing":
            continue
        reference = spec.reference(model_settings)
        ref_path = reference.result_path(cache_dir)
        if not ref_path.exists():
            continue
        ref = json.loads(ref_path.read_text())
        ref_metrics = ref["metrics"]
        mine, theirs = elpd.get(spec.key()), ref.get("elpd_i")
        if mine is not None and theirs is not None:
            diff, se = bm.elpd_difference(mine, theirs)
            runs.loc[i, "elpd_diff_vs_hill"] = diff
            runs.loc[i, "elpd_diff_se_vs_hill"] = se
            runs.loc[i, "elpd_diff_z_vs_hill"] = diff / se if se > 0 else np.nan
        for key, metric in (
            ("fit_seconds_ratio", "fit_seconds"),
            ("sampling_seconds_ratio", "sampling_seconds"),
            ("ess_bulk_per_s_ratio", "ess_bulk_per_s"),
            ("peak_rss_fit_ratio", "peak_rss_fit_mb"),
        ):
            runs.loc[i, key] = _ratio(runs.loc[i, metric], ref_metrics[metric])
    return runs


def _ratio(numerator: Any, denominator: Any) -> float:
    try:
        num, den = float(numerator), float(denominator)
    except (TypeError, ValueError):
        return float("nan")
    return num / den if den and np.isfinite(den) else float("nan")


SUMMARY_METRICS = METRIC_KEYS + PAIRWISE_KEYS


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds of every metric, per (mode, K_true, model)."""
    done = runs[runs["status"] != "missing"]
    columns = [c for c in SUMMARY_METRICS if c in done.columns]
    grouped = done.groupby(["mode", "k_true", "model"], sort=False)[columns]
    mean = grouped.mean().add_suffix("_mean")
    sd = grouped.std(ddof=1).add_suffix("_sd")
    n = grouped.size().rename("n_seeds")
    ordered = [f"{c}_{s}" for c in columns for s in ("mean", "sd")]
    table = pd.concat([n, mean, sd], axis=1)[["n_seeds", *ordered]]
    model_order = {m: i for i, m in enumerate(MODELS)}
    return table.reset_index().sort_values(
        ["mode", "k_true", "model"],
        key=lambda s: (
            s.map(model_order)
            if s.name == "model"
            else _cell_rank(s)
            if s.name == "mode"
            else s
        ),
        ignore_index=True,
    )


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------
def evaluate_targets(
    runs: pd.DataFrame, comparison: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The issue's targets for the sparse K=5 mixture, met or not, per cell.

    - aggregate, K_true >= 2: ELPD above Hill by more than 2 SE (in every
      seed), and lower mean budget regret than Hill;
    - K_true = 1: mean ELPD loss below 2 points, and mean regret within the
      seed spread (mean + sd over seeds) of Hill's regret;
    - sampling wall time at most 2x Hill's on the same data and draws;
    - sampling health (design notes, section 4): no divergences, R-hat <= 1.01
      and bulk ESS >= 400 on the label-invariant quantities;
    - in the cells of the separated, geo and lift tiers, the targets of
      :func:`best_single_targets` against the best single curve, from
      ``comparison`` (:func:`compare_with_best_single` of ``runs`` and the
      single-curve runs of the same data); without it, from ``runs`` and the
      pointwise ELPDs :func:`load_results` keeps in ``runs.attrs["elpd"]``.
    """
    done = runs[runs["status"] != "missing"]
    rows = []

    def cell_runs(mode: str, k: int, model: str) -> pd.DataFrame:
        return done[
            (done["mode"] == mode) & (done["k_true"] == k) & (done["model"] == model)
        ].set_index("seed")

    for (mode, k), _ in done.groupby(["mode", "k_true"], sort=True):
        mix = cell_runs(mode, k, TARGET_MODEL)
        hill = cell_runs(mode, k, REFERENCE_MODEL)
        if mix.empty:
            continue
        seeds = mix.index.intersection(hill.index)
        both = len(seeds) > 0
        cell = {"mode": mode, "k_true": k}
        if mode == "aggregate" and k >= 2:
            z = mix.loc[seeds, "elpd_diff_z_vs_hill"]
            ok = int((z > 2).sum())
            rows.append(
                {
                    **cell,
                    "target": "K5 ELPD > Hill + 2 SE (every seed)",
                    "numbers": _fmt_elpd(mix.loc[seeds]) + f"; {ok}/{len(seeds)} seeds",
                    "status": _status(both and z.notna().all(), ok == len(seeds)),
                }
            )
            reg_mix = mix.loc[seeds, "regret_pct"]
            reg_hill = hill.loc[seeds, "regret_pct"]
            wins = int((reg_mix < reg_hill).sum())
            rows.append(
                {
                    **cell,
                    "target": "K5 budget regret < Hill's (mean over seeds)",
                    "numbers": f"K5 {_ms(reg_mix)} % vs Hill {_ms(reg_hill)} %; "
                    f"K5 lower in {wins}/{len(seeds)} seeds",
                    "status": _status(
                        both and reg_mix.notna().all() and reg_hill.notna().all(),
                        reg_mix.mean() < reg_hill.mean(),
                    ),
                }
            )
        if k == 1:
            diff = mix.loc[seeds, "elpd_diff_vs_hill"]
            rows.append(
                {
                    **cell,
                    "target": "K_true=1: K5 loses < 2 ELPD points (mean)",
                    "numbers": _fmt_elpd(mix.loc[seeds]),
                    "status": _status(both and diff.notna().all(), diff.mean() > -2),
                }
            )
            reg_mix = mix.loc[seeds, "regret_pct"]
            reg_hill = hill.loc[seeds, "regret_pct"]
            spread = reg_hill.std(ddof=1) if len(seeds) > 1 else float("nan")
            assessable = both and np.isfinite(spread)
            rows.append(
                {
                    **cell,
                    "target": "K_true=1: K5 regret <= Hill regret + seed sd",
                    "numbers": f"K5 {_ms(reg_mix)} % vs Hill {_ms(reg_hill)} %"
                    + ("" if assessable else " (needs >= 2 seeds)"),
                    "status": _status(
                        assessable, reg_mix.mean() <= reg_hill.mean() + spread
                    ),
                }
            )
        ratio = mix.loc[seeds, "fit_seconds_ratio"]
        rows.append(
            {
                **cell,
                "target": "K5 sampling wall time <= 2x Hill's (mean)",
                "numbers": f"ratio {_ms(ratio)} (K5 {_ms(mix['fit_seconds'])} s, "
                f"Hill {_ms(hill['fit_seconds'])} s)",
                "status": _status(both and ratio.notna().all(), ratio.mean() <= 2),
            }
        )
        healthy = (
            (mix["divergences"] == 0)
            & (mix["r_hat_max"] <= 1.01)
            & (mix["ess_bulk_min"] >= 400)
        )
        rows.append(
            {
                **cell,
                "target": "K5 health: 0 div., R-hat<=1.01, ESS>=400 (every seed)",
                "numbers": f"divergences {_ms(mix['divergences'], 0)}, "
                f"worst R-hat {mix['r_hat_max'].max():.3f}, "
                f"lowest ESS {mix['ess_bulk_min'].min():.0f}; "
                f"{int(healthy.sum())}/{len(mix)} seeds",
                "status": _status(True, bool(healthy.all())),
            }
        )
    rows += best_single_targets(runs, comparison)
    return pd.DataFrame(rows, columns=["target", "mode", "k_true", "numbers", "status"])


# ---------------------------------------------------------------------------
# Targets of the separated, geo and lift tiers (against the best single curve)
# ---------------------------------------------------------------------------
#: "Make the mixture earn its place over ONE curve": the K=5 mixture's mean
#: regret over seeds at most this fraction of the best single curve's.
REGRET_RATIO_TARGET = 0.7
#: ΔELPD against the best single curve (by ELPD) above this many paired SEs
#: in every seed: separated cells, and geo panels of 10 geos.
SEPARATED_Z_TARGET = 2.0
GEO_Z_TARGET = 4.0
#: Geo panels of this many geos with K_true <= GEO_MAX_K_TRUE: the K=5
#: mixture's distinct-segment count is exact in at least this share of
#: channel fits (pooled over seeds).
GEO_TARGET_N_GEOS = 10
GEO_MAX_K_TRUE = 3
SEGMENTS_EXACT_TARGET = 0.8
#: Health of every mixture fit in these tiers (label-invariant quantities).
HEALTH_R_HAT = 1.01
HEALTH_ESS = 400.0
SINGLE_MARKET_CELLS = ("aggregate", "latent")


def _is_new_tier_cell(mode: str) -> bool:
    return mode not in SINGLE_MARKET_CELLS


def _cell_n_geos(frame: pd.DataFrame) -> float:
    if "n_geos" not in frame:
        return float("nan")
    values = pd.to_numeric(frame["n_geos"], errors="coerce").dropna()
    return float(values.iloc[0]) if not values.empty else float("nan")


def best_single_targets(
    runs: pd.DataFrame, comparison: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Targets of the separated, geo and lift cells, one row each, per cell.

    - ``separated`` cells (with or without lift tests): the K=5 mixture's mean
      regret over seeds at most 0.7x the best single curve's (mean over the
      same seeds of the lowest single-curve regret of each seed), and its
      ΔELPD against the best single curve (by ELPD) above 2 paired SEs in
      every seed;
    - geo panels of 10 geos with K_true <= 3: the distinct-segment count
      (``pmm_mixture.evidence.segment_evidence``) equals the truth in at least
      80 % of the K=5 mixture's channel fits (``segments_exact_frac``, mean
      over seeds: every fit has the same number of channel rows), ΔELPD above
      4 SEs in every seed, mean regret at most 0.7x the best single curve's;
    - every cell of these tiers: every fit of a model with the mixture
      saturation (K=1, 3, 5) has no divergences, R-hat <= 1.01 and bulk and
      tail ESS >= 400 on the label-invariant quantities.

    Each row is met, NOT met or n/a (not assessable: runs or the single-curve
    comparison missing), with the numbers.
    """
    done = _done(runs) if "status" in runs else runs
    done = done[done["mode"].map(_is_new_tier_cell)] if not done.empty else done
    if done.empty:
        return []
    if comparison is None:
        comparison = compare_with_best_single(runs, runs.attrs.get("elpd", {}))
    rows: list[dict[str, Any]] = []
    cells = done[["mode", "k_true"]].drop_duplicates()
    cells = cells.sort_values(
        ["mode", "k_true"], key=lambda s: _cell_rank(s) if s.name == "mode" else s
    )
    for mode, k in cells.itertuples(index=False):
        in_cell = done[(done["mode"] == mode) & (done["k_true"] == k)]
        cell = {"mode": mode, "k_true": k}
        vs = (
            comparison[
                (comparison["mode"] == mode)
                & (comparison["k_true"] == k)
                & (comparison["model"] == TARGET_MODEL)
            ]
            if not comparison.empty
            else comparison
        )
        n_geos = _cell_n_geos(in_cell)
        base = str(mode).removesuffix(" + lift")
        if base == "separated":
            rows.append({**cell, **_regret_target(vs)})
            rows.append({**cell, **_elpd_target(vs, SEPARATED_Z_TARGET)})
        if n_geos == GEO_TARGET_N_GEOS and k <= GEO_MAX_K_TRUE:
            rows.append({**cell, **_segments_target(in_cell)})
            rows.append({**cell, **_elpd_target(vs, GEO_Z_TARGET)})
            rows.append({**cell, **_regret_target(vs)})
        rows.append({**cell, **_mixture_health_target(in_cell)})
    return rows


def _regret_target(vs: pd.DataFrame) -> dict[str, str]:
    target = (
        f"K5 regret <= {REGRET_RATIO_TARGET}x best single curve's (mean over seeds)"
    )
    ran = vs[vs["status"] != NOT_RUN] if not vs.empty else vs
    pairs = (
        ran[["regret_pct", "best_regret_pct"]].astype(float).dropna()
        if not ran.empty
        else pd.DataFrame(columns=["regret_pct", "best_regret_pct"])
    )
    if pairs.empty:
        return {"target": target, "numbers": "no paired runs", "status": "n/a"}
    mix, best = pairs["regret_pct"].mean(), pairs["best_regret_pct"].mean()
    ratio = _ratio(mix, best)
    numbers = (
        f"K5 {_ms(pairs['regret_pct'])} % vs best single "
        f"{_ms(pairs['best_regret_pct'])} % (ratio of means {ratio:.2f}); "
        f"{len(pairs)}/{len(vs)} seeds"
    )
    complete = len(pairs) == len(vs)
    return {
        "target": target,
        "numbers": numbers,
        "status": _status(complete, mix <= REGRET_RATIO_TARGET * best),
    }


def _elpd_target(vs: pd.DataFrame, z_target: float) -> dict[str, str]:
    target = f"K5 ΔELPD vs best single curve > {z_target:g} SE (every seed)"
    ran = vs[vs["status"] != NOT_RUN] if not vs.empty else vs
    z = (
        ran["elpd_diff_z_vs_best"].astype(float)
        if not ran.empty
        else pd.Series(dtype=float)
    )
    if z.dropna().empty:
        return {"target": target, "numbers": "no paired ELPD", "status": "n/a"}
    above = int((z > z_target).sum())
    numbers = (
        f"ΔELPD {_ms(ran['elpd_diff_vs_best'], 1)}, SE "
        f"{_ms(ran['elpd_diff_se_vs_best'], 1)}, z {_ms(z, 1)}; "
        f"{above}/{len(vs)} seeds"
    )
    complete = len(vs) > 0 and bool(z.notna().all()) and len(z) == len(vs)
    return {
        "target": target,
        "numbers": numbers,
        "status": _status(complete, above == len(vs)),
    }


def _segments_target(in_cell: pd.DataFrame) -> dict[str, str]:
    target = f"K5 exact segment count in >= {SEGMENTS_EXACT_TARGET:.0%} of channel fits"
    mix = in_cell[in_cell["model"] == TARGET_MODEL]
    values = (
        pd.to_numeric(mix["segments_exact_frac"], errors="coerce").dropna()
        if "segments_exact_frac" in mix
        else pd.Series(dtype=float)
    )
    if values.empty:
        return {"target": target, "numbers": "no K5 runs", "status": "n/a"}
    share = float(values.mean())
    numbers = (
        f"{share:.0%} of channel fits (per seed {_ms(values)}); {len(values)} seeds"
    )
    return {
        "target": target,
        "numbers": numbers,
        "status": _status(True, share >= SEGMENTS_EXACT_TARGET),
    }


def _mixture_health_target(in_cell: pd.DataFrame) -> dict[str, str]:
    target = (
        f"every mixture fit: 0 div., R-hat<={HEALTH_R_HAT}, "
        f"bulk and tail ESS>={HEALTH_ESS:.0f}"
    )
    fits = in_cell[in_cell["model"].map(uses_mixture_saturation)]
    if fits.empty:
        return {"target": target, "numbers": "no mixture runs", "status": "n/a"}
    metrics = fits[["divergences", "r_hat_max", "ess_bulk_min", "ess_tail_min"]]
    metrics = metrics.astype(float)
    healthy = (
        (metrics["divergences"] == 0)
        & (metrics["r_hat_max"] <= HEALTH_R_HAT)
        & (metrics[["ess_bulk_min", "ess_tail_min"]].min(axis=1) >= HEALTH_ESS)
    )
    per_model = ", ".join(
        f"{model} {int(healthy[fits['model'] == model].sum())}/"
        f"{int((fits['model'] == model).sum())}"
        for model in MODELS
        if (fits["model"] == model).any()
    )
    numbers = (
        f"divergences {metrics['divergences'].sum():.0f}, worst R-hat "
        f"{metrics['r_hat_max'].max():.3f}, lowest ESS bulk "
        f"{metrics['ess_bulk_min'].min():.0f} / tail "
        f"{metrics['ess_tail_min'].min():.0f}; healthy fits: {per_model}"
    )
    return {
        "target": target,
        "numbers": numbers,
        "status": _status(True, bool(healthy.all())),
    }


def _status(assessable: bool, met: Any) -> str:
    if not assessable:
        return "n/a"
    return "met" if bool(met) else "NOT met"


def _ms(values: pd.Series, digits: int = 2) -> str:
    """'mean ± sd' over seeds ('mean' alone for one seed)."""
    values = pd.Series(values, dtype=float).dropna()
    if values.empty:
        return "nan"
    if len(values) == 1:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _fmt_elpd(frame: pd.DataFrame) -> str:
    return (
        f"ΔELPD {_ms(frame['elpd_diff_vs_hill'], 1)}, "
        f"SE {_ms(frame['elpd_diff_se_vs_hill'], 1)}, "
        f"z {_ms(frame['elpd_diff_z_vs_hill'], 1)}"
    )


# ---------------------------------------------------------------------------
# The best single curve per data set, and sampling health per model
# ---------------------------------------------------------------------------
NOT_RUN = "not run"
#: Health targets of the baselines and mixtures: share of transitions at the
#: maximum tree depth (mean over a cell's seeds) and worst R-hat.
MAX_DEPTH_FRAC_TARGET = 0.10
R_HAT_TARGET = 1.01


def _done(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] != "missing"]


def _in_model_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {m: i for i, m in enumerate(MODELS)}
    return frame.sort_values("model", key=lambda s: s.map(order), kind="stable")


def best_single_curve(
    runs: pd.DataFrame, candidates: Sequence[str] = SINGLE_CURVE_MODELS
) -> pd.DataFrame:
    """Per data set (mode, K_true, seed), the best of the single-curve models.

    One best by lowest budget regret (``best_regret_*``), one by highest
    ELPD-LOO (``best_elpd_*``; ``best_elpd_key`` keys its pointwise ELPD) and
    one by lowest mean curve error (``best_curve_*``), among the
    ``candidates`` with a finished run and a finite value; ties go to the
    first in :data:`MODELS` order. ``not_run`` lists the candidates without a
    finished run; a data set with none has ``"not run"`` as its best.
    """
    rows = []
    for (mode, k, seed), group in runs.groupby(DATA_SET, sort=True):
        done = _in_model_order(_done(group[group["model"].isin(candidates)]))
        row: dict[str, Any] = {"mode": mode, "k_true": k, "seed": seed}
        row["not_run"] = ",".join(m for m in candidates if m not in set(done["model"]))
        for metric, prefix, value_name, pick in (
            ("regret_pct", "best_regret", "best_regret_pct", "idxmin"),
            ("elpd_loo", "best_elpd", "best_elpd_loo", "idxmax"),
            ("curve_err_mean", "best_curve", "best_curve_err", "idxmin"),
        ):
            values = (
                pd.to_numeric(done[metric], errors="coerce").dropna()
                if metric in done
                else pd.Series(dtype=float)
            )
            if values.empty:
                row |= {f"{prefix}_model": NOT_RUN, f"{prefix}_key": ""}
                row[value_name] = np.nan
                continue
            best = getattr(values, pick)()
            row[f"{prefix}_model"] = done.loc[best, "model"]
            row[f"{prefix}_key"] = done.loc[best, "key"] if "key" in done else ""
            row[value_name] = float(values[best])
        rows.append(row)
    columns = [
        *DATA_SET,
        "best_regret_model",
        "best_regret_pct",
        "best_elpd_model",
        "best_elpd_loo",
        "best_curve_model",
        "best_curve_err",
        "best_regret_key",
        "best_elpd_key",
        "best_curve_key",
        "not_run",
    ]
    return pd.DataFrame(rows, columns=columns)


def compare_with_best_single(
    runs: pd.DataFrame,
    elpd: Mapping[str, Sequence[float]],
    models: Sequence[str] = MIXTURE_MODELS,
) -> pd.DataFrame:
    """Each of ``models`` against the best single curve of its data set.

    ``runs`` must hold the single-curve runs of the same data sets (the
    ``key`` column keys ``elpd``, the pointwise ELPD-LOO). Per data set and
    model: the regret and its ratio to the best single curve's regret (lowest
    regret), and the ELPD-LOO difference to the best single curve by ELPD
    with its paired SE, ``sqrt(n var(d_i))`` of the pointwise differences as
    for Hill (:func:`add_pairwise`). Positive differences favour the mixture.
    The same difference to ``mixture_k1`` of the same data set
    (``elpd_diff_vs_k1``, ``elpd_diff_se_vs_k1``) isolates what mixing
    curves adds to the same parameterisation. A model of ``models`` with no
    row at all in ``runs`` (not part of the tier, e.g. ``mixture_k3`` in the
    geo tier) is left out. Also the mean curve error and its ratio to the
    best single curve's (lowest curve error), and the share of channel fits
    with the true number of distinct segments (``segments_exact_frac``). A
    model without a finished run has ``status`` ``"not run"``.
    """
    from . import metrics as bm

    best = best_single_curve(runs)
    done = _done(runs)
    present = set(runs["model"]) if "model" in runs else set()
    models = [m for m in models if m in present]
    rows = []
    for b in best.itertuples(index=False):
        in_set = done[
            (done["mode"] == b.mode)
            & (done["k_true"] == b.k_true)
            & (done["seed"] == b.seed)
        ]
        for model in models:
            row: dict[str, Any] = {
                "mode": b.mode,
                "k_true": b.k_true,
                "seed": b.seed,
                "model": model,
                "best_regret_model": b.best_regret_model,
                "best_regret_pct": b.best_regret_pct,
                "best_elpd_model": b.best_elpd_model,
                "not_run": b.not_run,
                "regret_pct": np.nan,
                "regret_ratio_vs_best": np.nan,
                "elpd_diff_vs_best": np.nan,
                "elpd_diff_se_vs_best": np.nan,
                "elpd_diff_z_vs_best": np.nan,
                "elpd_diff_vs_k1": np.nan,
                "elpd_diff_se_vs_k1": np.nan,
                "best_curve_model": b.best_curve_model,
                "best_curve_err": b.best_curve_err,
                "curve_err_mean": np.nan,
                "curve_err_ratio_vs_best": np.nan,
                "segments_exact_frac": np.nan,
                "status": NOT_RUN,
            }
            mine = in_set[in_set["model"] == model]
            if not mine.empty:
                run = mine.iloc[0]
                row["status"] = "ok"
                row["regret_pct"] = float(run.get("regret_pct", np.nan))
                row["regret_ratio_vs_best"] = _ratio(
                    row["regret_pct"], b.best_regret_pct
                )
                row["curve_err_mean"] = float(run.get("curve_err_mean", np.nan))
                row["curve_err_ratio_vs_best"] = _ratio(
                    row["curve_err_mean"], b.best_curve_err
                )
                row["segments_exact_frac"] = float(
                    run.get("segments_exact_frac", np.nan)
                )
                ours, theirs = elpd.get(run.get("key", "")), elpd.get(b.best_elpd_key)
                if ours is not None and theirs is not None:
                    diff, se = bm.elpd_difference(ours, theirs)
                    row["elpd_diff_vs_best"] = diff
                    row["elpd_diff_se_vs_best"] = se
                    row["elpd_diff_z_vs_best"] = diff / se if se > 0 else np.nan
                k1 = in_set[in_set["model"] == "mixture_k1"]
                k1_elpd = None if k1.empty else elpd.get(k1.iloc[0].get("key", ""))
                if ours is not None and k1_elpd is not None and model != "mixture_k1":
                    diff, se = bm.elpd_difference(ours, k1_elpd)
                    row["elpd_diff_vs_k1"] = diff
                    row["elpd_diff_se_vs_k1"] = se
            rows.append(row)
    return pd.DataFrame(rows)


def _counts(values: Iterable[str]) -> str:
    counts = pd.Series(list(values), dtype=object).value_counts(sort=False)
    order = {m: i for i, m in enumerate([*MODELS, NOT_RUN])}
    names = sorted(counts.index, key=lambda m: order.get(m, len(order)))
    return ", ".join(f"{m} {counts[m]}" for m in names) or "-"


def _not_run(lists: Iterable[str], n: int) -> str:
    """``"mixture_k1 (5/5)"``: the models missing in how many of ``n`` data sets."""
    missing = [m for text in lists for m in str(text).split(",") if m]
    counts = pd.Series(missing, dtype=object).value_counts(sort=False)
    return ", ".join(f"{m} ({counts[m]}/{n})" for m in MODELS if m in counts) or "-"


def summarize_vs_best(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per cell (mode, K_true) and model: :func:`compare_with_best_single`
    as 'mean ± sd' over seeds, with which single curve was best how often."""
    columns = [
        "mode",
        "K_true",
        "model",
        "seeds",
        "regret %",
        "best single regret %",
        "regret / best",
        "best by regret",
        "ΔELPD vs best",
        "SE(Δ)",
        "z > 2",
        "best by ELPD",
        "curve err",
        "curve err / best",
        "segments exact",
        "single curves not run",
    ]
    rows = []
    if comparison.empty:
        return pd.DataFrame(columns=columns)
    for (mode, k, model), group in comparison.groupby(
        ["mode", "k_true", "model"], sort=False
    ):
        ran = group[group["status"] != NOT_RUN]
        z = ran["elpd_diff_z_vs_best"].dropna()
        rows.append(
            {
                "mode": mode,
                "K_true": k,
                "model": model,
                "seeds": f"{len(ran)}/{len(group)}" if len(ran) else NOT_RUN,
                "regret %": _ms(ran["regret_pct"]),
                "best single regret %": _ms(group["best_regret_pct"]),
                "regret / best": _ms(ran["regret_ratio_vs_best"]),
                "best by regret": _counts(group["best_regret_model"]),
                "ΔELPD vs best": _ms(ran["elpd_diff_vs_best"], 1),
                "SE(Δ)": _ms(ran["elpd_diff_se_vs_best"], 1),
                "z > 2": f"{int((z > 2).sum())}/{len(z)}" if len(z) else "-",
                "best by ELPD": _counts(group["best_elpd_model"]),
                "curve err": _ms_or_dash(_column(ran, "curve_err_mean"), 3),
                "curve err / best": _ms_or_dash(
                    _column(ran, "curve_err_ratio_vs_best")
                ),
                "segments exact": _ms_or_dash(_column(ran, "segments_exact_frac")),
                "single curves not run": _not_run(group["not_run"], len(group)),
            }
        )
    order = {m: i for i, m in enumerate(MODELS)}
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(
        ["mode", "K_true", "model"],
        key=lambda s: (
            s.map(order)
            if s.name == "model"
            else _cell_rank(s)
            if s.name == "mode"
            else s
        ),
        ignore_index=True,
    )


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(dtype=float)


def _ms_or_dash(values: pd.Series, digits: int = 2) -> str:
    """:func:`_ms`, or ``"-"`` when there is no value (e.g. results cached
    before the metric existed)."""
    return "-" if pd.Series(values, dtype=float).dropna().empty else _ms(values, digits)


#: The mixture whose cost the speed table holds against one curve.
SPEED_MIXTURE = "mixture_k5"
#: The single curves it is timed against (the fastest of them per data set).
SPEED_SINGLE = ("mixture_k1", "hill")


def speed_vs_single(runs: pd.DataFrame) -> pd.DataFrame:
    """K=5's cost against one curve, per cell and over all data sets.

    Per data set (mode, K_true, seed): K=5's fit wall time over the fastest
    of :data:`SPEED_SINGLE` on the same data and draws, the same for sampling
    time, and K=5's ESS/s (label-invariant bulk ESS per fit second) over
    Hill's; then medians over the cell's seeds, and a last row over every
    data set. Also the mixture fits (K=1 and K=5) with a divergence.
    """
    columns = [
        "mode",
        "k_true",
        "n",
        "fit_time_vs_best_single",
        "sampling_time_vs_best_single",
        "ess_per_s_vs_hill",
        "k5_fits_with_divergences",
        "k1_fits_with_divergences",
    ]
    done = runs[runs["status"] == "ok"] if "status" in runs else runs
    keys = ["mode", "k_true", "seed"]
    wide = done.pivot_table(
        index=keys,
        columns="model",
        values=["fit_seconds", "sampling_seconds", "ess_bulk_per_s", "divergences"],
    )
    needed = {SPEED_MIXTURE, "hill", *SPEED_SINGLE}
    if wide.empty or not needed <= set(wide["fit_seconds"].columns):
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "fit": wide["fit_seconds"][SPEED_MIXTURE]
            / wide["fit_seconds"][list(SPEED_SINGLE)].min(axis=1),
            "sampling": wide["sampling_seconds"][SPEED_MIXTURE]
            / wide["sampling_seconds"][list(SPEED_SINGLE)].min(axis=1),
            "ess": wide["ess_bulk_per_s"][SPEED_MIXTURE]
            / wide["ess_bulk_per_s"]["hill"],
            "k5_div": wide["divergences"][SPEED_MIXTURE] > 0,
            "k1_div": wide["divergences"]["mixture_k1"] > 0,
        }
    ).dropna(subset=["fit"])

    def row(group: pd.DataFrame, mode: str, k_true: Any) -> dict[str, Any]:
        return {
            "mode": mode,
            "k_true": k_true,
            "n": len(group),
            "fit_time_vs_best_single": round(float(group["fit"].median()), 2),
            "sampling_time_vs_best_single": round(float(group["sampling"].median()), 2),
            "ess_per_s_vs_hill": round(float(group["ess"].median()), 2),
            "k5_fits_with_divergences": int(group["k5_div"].sum()),
            "k1_fits_with_divergences": int(group["k1_div"].sum()),
        }

    rows = [
        row(group, mode, k_true)
        for (mode, k_true), group in frame.groupby(level=["mode", "k_true"])
    ]
    if rows:
        rows.append(row(frame, "all", "all"))
    return pd.DataFrame(rows, columns=columns)


def health_by_model(
    runs: pd.DataFrame, models: Sequence[str] | None = None
) -> pd.DataFrame:
    """Sampling health of each model over all its fits.

    Share of transitions at the maximum tree depth (the worst cell mean over
    seeds, and the worst single fit), worst R-hat, lowest bulk ESS and
    divergences (total, and fits with any; a fit shared by two cells, see
    ``RunSpec.fitted_as``, counts once), and whether the model meets
    the targets: every cell mean at most :data:`MAX_DEPTH_FRAC_TARGET` at
    the maximum depth and R-hat at most :data:`R_HAT_TARGET` in every fit.
    ``models`` defaults to those in ``runs``; one without a finished run is
    shown as not run.
    """
    columns = [
        "model",
        "fits",
        "at max depth: worst cell mean",
        "at max depth: worst fit",
        "worst R-hat",
        "min bulk ESS",
        "divergences (fits)",
        "targets",
    ]
    present = set(runs["model"]) if "model" in runs else set()
    models = [m for m in MODELS if m in present] if models is None else list(models)
    done = _done(runs) if "status" in runs else runs.iloc[0:0]
    rows = []
    for model in models:
        fits = done[done["model"] == model]
        if fits.empty:
            rows.append({"model": model, "fits": 0, "targets": NOT_RUN})
            continue
        depth = fits["max_tree_depth_frac"].astype(float)
        cell_mean = depth.groupby([fits["mode"], fits["k_true"]]).mean()
        r_hat = fits["r_hat_max"].astype(float)
        unique = fits.drop_duplicates("result") if "result" in fits else fits
        divergences = unique["divergences"].astype(float)
        failed = []
        if not (cell_mean <= MAX_DEPTH_FRAC_TARGET).all():
            failed.append("depth")
        if not (r_hat <= R_HAT_TARGET).all():
            failed.append("R-hat")
        rows.append(
            {
                "model": model,
                "fits": len(unique),
                "at max depth: worst cell mean": f"{cell_mean.max():.3f}",
                "at max depth: worst fit": f"{depth.max():.3f}",
                "worst R-hat": f"{r_hat.max():.3f}",
                "min bulk ESS": f"{fits['ess_bulk_min'].astype(float).min():.0f}",
                "divergences (fits)": f"{divergences.sum():.0f} "
                f"({int((divergences > 0).sum())})",
                "targets": "met" if not failed else f"NOT met ({', '.join(failed)})",
            }
        )
    return pd.DataFrame(rows, columns=columns).fillna("-")


def settings_frame(
    model_settings: Mapping[str, SamplerSettings], models: Sequence[str]
) -> pd.DataFrame:
    """The sampler settings of ``models`` as a table (report header)."""
    rows = [
        {
            "model": model,
            "label": MODELS[model]["label"],
            "target_accept": model_settings[model].target_accept,
            "max_tree_depth": model_settings[model].max_tree_depth,
            "step size after warmup": model_settings[model].step_size,
            "mass matrix": model_settings[model].mass_matrix,
            "jittered start": model_settings[model].jitter,
            "parallel chains": model_settings[model].parallel_chains,
        }
        for model in models
    ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------
REPORT_TABLES: dict[str, list[tuple[str, str, int]]] = {
    "Predictive accuracy (ELPD in original units of y; test = last 13 weeks)": [
        ("elpd_loo", "ELPD-LOO", 1),
        ("elpd_diff_vs_hill", "ΔELPD vs Hill", 1),
        ("elpd_diff_se_vs_hill", "SE(Δ)", 1),
        ("test_crps", "test CRPS", 1),
        ("test_cov50", "cov 50%", 2),
        ("test_cov90", "cov 90%", 2),
        ("test_rmse", "test RMSE", 1),
        ("n_pareto_k_bad", "k>good_k", 0),
    ],
    "Recovery of the truth and budget regret": [
        ("curve_err_max", "curve err max", 3),
        ("curve_err_mean", "curve err mean", 3),
        ("contrib_rel_rmse", "contrib relRMSE", 3),
        ("n_active_mean", "n_active", 2),
        ("n_entropy_mean", "n_entropy", 2),
        ("segments_exact_frac", "segments exact", 2),
        ("regret_pct", "regret %", 2),
        ("regret_historical_pct", "hist. split regret %", 2),
    ],
    "Sampling health (label-invariant quantities)": [
        ("divergences", "divergences", 0),
        ("r_hat_max", "worst R-hat", 3),
        ("ess_bulk_min", "min bulk ESS", 0),
        ("ess_tail_min", "min tail ESS", 0),
        ("max_tree_depth_frac", "at max depth", 2),
    ],
    "Cost (fit = mmm.fit wall time; ratios to Hill on the same data and draws)": [
        ("fit_seconds", "fit s", 1),
        ("compile_seconds", "of it JAX compile s", 1),
        ("fit_seconds_ratio", "fit s / Hill", 2),
        ("sampling_seconds_ratio", "excl. compile / Hill", 2),
        ("ess_bulk_per_s", "ESS/s", 2),
        ("ess_bulk_per_s_ratio", "ESS/s / Hill", 2),
        ("peak_rss_fit_mb", "peak MB", 0),
        ("peak_rss_fit_ratio", "peak / Hill", 2),
    ],
}


def format_table(
    summary: pd.DataFrame, columns: Sequence[tuple[str, str, int]]
) -> pd.DataFrame:
    """Readable 'mean ± sd' table of some metrics, one row per cell and model."""
    out = summary[["mode", "k_true", "model"]].copy()
    for metric, label, digits in columns:
        mean = summary.get(f"{metric}_mean")
        sd = summary.get(f"{metric}_sd")
        if mean is None:
            continue
        cells = []
        for m, s in zip(mean, sd, strict=True):
            if not np.isfinite(m):
                cells.append("-")
            elif np.isfinite(s):
                cells.append(f"{m:.{digits}f} ± {s:.{digits}f}")
            else:
                cells.append(f"{m:.{digits}f}")
        out[label] = cells
    return out.rename(columns={"k_true": "K_true"})


@dataclass(frozen=True)
class FigureSpec:
    """One figure: metrics (one row of panels each) against K_true, per mode.

    ``reference`` draws grey dashed lines: a dict of metric to level, or
    ``"identity"`` for y = K_true. ``use_se`` draws the mean pairwise SE of
    the ELPD difference as error bars instead of the sd over seeds.
    """

    filename: str
    panels: tuple[tuple[str, str], ...]
    reference: dict[str, float] | str | None = None
    use_se: bool = False


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "elpd_diff.png", (("elpd_diff_vs_hill", "ΔELPD-LOO vs Hill"),), None, True
    ),
    FigureSpec(
        "coverage.png",
        (("test_cov50", "test 50% coverage"), ("test_cov90", "test 90% coverage")),
        {"test_cov50": 0.5, "test_cov90": 0.9},
    ),
    FigureSpec(
        "curve_error.png",
        (
            ("curve_err_mean", "curve error, mean (rel. to max)"),
            ("curve_err_max", "curve error, max (rel. to max)"),
        ),
    ),
    FigureSpec("regret.png", (("regret_pct", "budget regret (%)"),)),
    FigureSpec(
        "effective_components.png",
        (("n_active_mean", "active components"), ("n_entropy_mean", "exp entropy")),
        "identity",
    ),
    FigureSpec(
        "cost.png",
        (
            ("fit_seconds_ratio", "fit time / Hill"),
            ("ess_bulk_per_s_ratio", "ESS/s / Hill"),
        ),
        {"fit_seconds_ratio": 2.0},
    ),
)


def metric_figure(summary: pd.DataFrame, spec: FigureSpec):
    """Matplotlib figure of ``spec``'s metrics (mean over seeds) against K_true.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarize` (or ``summary.csv``).
    spec : FigureSpec

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    modes = cell_order(list(summary["mode"]))
    models = [m for m in MODELS if m in set(summary["model"])]
    offsets = dict(zip(models, np.linspace(-0.15, 0.15, len(models)), strict=True))
    k_values = sorted(set(summary["k_true"]))
    fig, axes = plt.subplots(
        len(spec.panels),
        len(modes),
        figsize=(5 * len(modes), 3.2 * len(spec.panels)),
        squeeze=False,
    )
    for row, (metric, label) in enumerate(spec.panels):
        for col, mode in enumerate(modes):
            ax = axes[row, col]
            for model in models:
                part = summary[(summary["mode"] == mode) & (summary["model"] == model)]
                if part.empty or f"{metric}_mean" not in part:
                    continue
                if not np.isfinite(part[f"{metric}_mean"]).any():
                    continue
                if spec.use_se:
                    err = part["elpd_diff_se_vs_hill_mean"]
                else:
                    err = part[f"{metric}_sd"].fillna(0.0)
                ax.errorbar(
                    part["k_true"] + offsets[model],
                    part[f"{metric}_mean"],
                    yerr=err,
                    marker="o",
                    capsize=3,
                    label=MODELS[model]["label"],
                )
            if isinstance(spec.reference, dict) and metric in spec.reference:
                ax.axhline(spec.reference[metric], color="grey", ls="--", lw=1)
            if spec.reference == "identity":
                ax.plot(k_values, k_values, color="grey", ls="--", lw=1, label="K_true")
            if spec.use_se:
                ax.axhline(0.0, color="grey", ls="--", lw=1)
            ax.set_xticks(k_values)
            ax.set_xlabel("K_true")
            ax.set_ylabel(label)
            ax.set_title(f"{mode} data")
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(fontsize=7)
    note = (
        "error bars: mean pairwise SE" if spec.use_se else "error bars: sd over seeds"
    )
    fig.suptitle(f"{spec.filename.removesuffix('.png')} ({note})", fontsize=9)
    fig.tight_layout()
    return fig


TARGETS_TITLE = (
    "Targets (sparse K=5 mixture against HillSaturation; in the separated, "
    "geo and lift cells also against the best single curve)"
)
#: Titles of the sections that follow the Hill-paired tables and targets.
HEADER_TITLE = "Sampler settings per model (NumPyro NUTS)"
BEST_TITLE = (
    "Against the best single curve of each data set (best of "
    + ", ".join(SINGLE_CURVE_MODELS)
    + " by regret, and by ELPD-LOO; ΔELPD with the paired SE)"
)
SPEED_TITLE = (
    "Cost of K=5 against one curve (medians over seeds: wall time over the "
    "fastest of K=1 and Hill on the same data and draws; ESS/s over Hill's)"
)
HEALTH_TITLE = (
    f"Sampling health per model (targets: <= {MAX_DEPTH_FRAC_TARGET:.0%} of "
    f"transitions at max tree depth in every cell, R-hat <= {R_HAT_TARGET})"
)


def _sections(
    summary: pd.DataFrame,
    targets: pd.DataFrame,
    settings: pd.DataFrame | None,
    vs_best: pd.DataFrame | None,
    health: pd.DataFrame | None,
    speed: pd.DataFrame | None = None,
) -> list[tuple[str, pd.DataFrame | None]]:
    """``(title, table)`` of every section of the report, in order."""
    sections: list[tuple[str, pd.DataFrame | None]] = []
    if settings is not None:
        sections.append((HEADER_TITLE, settings))
    for title, columns in REPORT_TABLES.items():
        sections.append(
            (f"{title} (mean ± sd over seeds)", format_table(summary, columns))
        )
    sections.append((TARGETS_TITLE, targets))
    if vs_best is not None:
        sections.append((f"{BEST_TITLE} (mean ± sd over seeds)", vs_best))
    if health is not None:
        sections.append((HEALTH_TITLE, health))
    if speed is not None:
        sections.append((SPEED_TITLE, speed))
    return sections


def format_report(
    summary: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    settings: pd.DataFrame | None = None,
    vs_best: pd.DataFrame | None = None,
    health: pd.DataFrame | None = None,
    speed: pd.DataFrame | None = None,
) -> str:
    """The printed tables.

    The sampler settings per model (:func:`settings_frame`) when given, every
    :data:`REPORT_TABLES` table, the targets, then when given the comparison
    with the best single curve (:func:`summarize_vs_best`) and the health per
    model (:func:`health_by_model`).
    """
    parts = []
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        for title, table in _sections(
            summary, targets, settings, vs_best, health, speed
        ):
            parts.append(f"\n== {title}")
            empty = table is None or table.empty
            parts.append("(none)" if empty else table.to_string(index=False))
    return "\n".join(parts)


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (no index)."""
    cells = [[str(c) for c in frame.columns]]
    cells += [[str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * len(frame.columns))
    return "\n".join(lines)


def format_markdown_report(
    summary: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    settings: pd.DataFrame | None = None,
    vs_best: pd.DataFrame | None = None,
    health: pd.DataFrame | None = None,
    speed: pd.DataFrame | None = None,
) -> str:
    """:func:`format_report` as Markdown: one table per section."""
    parts = []
    sections = _sections(summary, targets, settings, vs_best, health, speed)
    for title, table in sections:
        parts.append(f"### {title}\n")
        empty = table is None or table.empty
        parts.append(("(none)" if empty else markdown_table(table)) + "\n")
    return "\n".join(parts).rstrip("\n")


def make_figures(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Save every figure of :data:`FIGURES` as PNG in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for spec in FIGURES:
        fig = metric_figure(summary, spec)
        path = out_dir / spec.filename
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def estimate_full_tier(
    runs: pd.DataFrame, measured: Tier, cores: int
) -> dict[str, Any]:
    """Rough duration of the full tier extrapolated from measured runs.

    Per model, the sampling time (the fit's wall time less JAX tracing and
    compilation) scales with the NUTS iterations each core has to do; the rest
    of the run (imports, model building, compilation, post-processing) is kept
    as measured: post-processing barely grows with the draws because its cost
    is mostly compilation too. Cells not measured (other K_true, latent mode)
    are assumed to cost the mean of the measured ones, so harder cells that
    need deeper trees make this an underestimate. Runs of other data (geo
    panels, lift tests, separated segments) say nothing about the full tier's
    cost: no estimate (an empty dict).
    """
    full = TIERS["full"]
    done = runs[runs["status"] != "missing"]
    if done.empty or not done["mode"].isin(SINGLE_MARKET_CELLS).all():
        return {}

    def per_core(t: Tier) -> float:
        return t.chains * (t.tune + t.draws) / min(t.chains, max(cores, 1))

    sampling_scale = per_core(full) / per_core(measured)
    sampling = done["sampling_seconds"].fillna(done["fit_seconds"])
    per_run = done["total_seconds"] - sampling + sampling * sampling_scale
    per_model = per_run.groupby(done["model"]).mean()
    n_cells = len(
        {s.fitted_as().key() for s in build_specs("full", full, [REFERENCE_MODEL])}
    )
    seconds = float(per_model.sum() * n_cells)
    return {
        "runs": int(n_cells * len(per_model)),
        "sampling_scale": sampling_scale,
        "seconds_per_run_by_model": per_model.round(1).to_dict(),
        "hours": seconds / 3600.0,
    }


# ---------------------------------------------------------------------------
