"""Convergence probe: which change lets the mixture sample at ordinary settings?

Issue #17 asks for 0 divergences at ``target_accept <= 0.95`` with NumPyro's
own step-size adaptation (no ``common_step_size``). This program refits the
resolvability study's hardest data sets (the one-channel fits that diverged
most at ``alpha = 0.5``) under named *variants* (a prior or sampler change
each) at the full tier's warmup, 4 x (1000 + 1000) draws, ``target_accept``
0.95, per-chain step sizes, and tabulates divergences, label-invariant R-hat
and bulk ESS, and time.

Each divergent fit also records where its divergences sit: the median of
``log_first`` (the smallest kappa), the first weight and the adstock ``alpha``
at divergent draws, against all draws.

Finished fits are cached (``--cache-dir``); a rerun skips them.

Usage::

    python benchmarks/convergence.py run --variants default dense
    python benchmarks/convergence.py report --out benchmarks/results/convergence
"""

from __future__ import annotations

import os

if "XLA_FLAGS" not in os.environ:  # one host device per chain, before JAX loads
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"

import argparse
import json
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resolvability import Point, _markdown, versions

HERE = Path(__file__).resolve().parent
#: The resolvability fits (alpha 0.5) with the most divergences, ratio ``None``
#: being one-segment data; (kappa_ratio, share, slope, n_weeks, seed).
HARD_POINTS = (
    (2.0, 0.5, 3.0, 104, 0),
    (None, 0.5, 3.0, 156, 15),
    (None, 0.5, 3.0, 156, 18),
    (None, 0.5, 3.0, 156, 25),
    (5.0, 0.2, 3.0, 156, 0),
    (10.0, 0.5, 3.0, 156, 1),
    (10.0, 0.5, 3.0, 104, 0),
    (10.0, 0.5, 1.5, 156, 2),
)


def _old_gap():
    from pymc_extras.prior import Prior

    # the default until this probe: K = 5 kappas spread over about 6x
    return Prior("Gamma", alpha=2.0, beta=float(2.0 / (np.log(6.0) / 4)))


def _new_gap():
    from pymc_extras.prior import Prior

    # neighbours 2.5x apart on average, shape 4 (today's default)
    return Prior("Gamma", alpha=4.0, beta=float(4.0 / np.log(2.5)))


def _priors(
    gap: str = "old", slope_spread: float = 0.3, log_first: Any = None
) -> dict[str, Any]:
    from pymc_extras.prior import Prior

    from pmm_mixture import OrderedKappa, PooledSlope

    return {
        "kappa": OrderedKappa(
            log_first=log_first, log_gap=_old_gap() if gap == "old" else _new_gap()
        ),
        "slope": PooledSlope(log_sigma=Prior("HalfNormal", sigma=slope_spread)),
    }


def _priors_default() -> dict[str, Any]:
    """The package's defaults before this probe (gap_slope is today's)."""
    return _priors()


def _priors_floor() -> dict[str, Any]:
    """Smallest kappa at least 0.1 of the largest spend (was 0.04)."""
    from pymc_extras.prior import Prior

    floor = Prior(
        "TruncatedNormal", mu=float(np.log(0.25)), sigma=0.6, lower=float(np.log(0.1))
    )
    return _priors(log_first=floor)


def _priors_slope() -> dict[str, Any]:
    """Slopes pooled more tightly (spread HalfNormal(0.15), was 0.3)."""
    return _priors(slope_spread=0.15)


def _priors_gap() -> dict[str, Any]:
    """Neighbouring kappas 2.5x apart on average (was 6x over all K = 5), shape 4.

    The old default spread the K kappas over about 6x whatever K was, so with
    K = 5 neighbours were 1.56x apart on average: closer than the 2x within
    which :mod:`pmm_mixture.evidence` merges them, and where two components'
    weights trade off along a ridge.
    """
    return _priors(gap="new")


def _priors_gap_slope() -> dict[str, Any]:
    """Both changes: today's defaults."""
    return _priors(gap="new", slope_spread=0.15)


#: name -> (priors of the mixture, NumPyro NUTS keyword arguments, changes to
#: the fit's settings, e.g. a longer warmup)
VARIANTS: dict[
    str, tuple[Callable[[], dict[str, Any]], dict[str, Any], dict[str, Any]]
] = {
    "default": (_priors_default, {}, {}),
    "dense": (_priors_default, {"dense_mass": True}, {}),
    "floor": (_priors_floor, {}, {}),
    "slope": (_priors_slope, {}, {}),
    "tune2000": (_priors_default, {}, {"tune": 2000}),
    "ta0.9": (_priors_default, {}, {"target_accept": 0.9}),
    "gap": (_priors_gap, {}, {}),
    "gap_slope": (_priors_gap_slope, {}, {}),
}


def points(alpha: float = 0.5) -> list[Point]:
    """The hard data sets at the probe's sampler settings."""
    return [
        Point(
            ratio,
            share=share,
            slope=slope,
            noise=0.02,
            n_weeks=weeks,
            seed=seed,
            alpha=alpha,
            tune=1000,
            draws=1000,
            target_accept=0.95,
        )
        for ratio, share, slope, weeks, seed in HARD_POINTS
    ]


def fit(point: Point, variant: str) -> dict[str, Any]:
    """Fit one data set under one variant; health and divergence locations."""
    warnings.filterwarnings("ignore")
    from pmm_mixture import MixtureHillSaturation, StickBreakingWeights
    from pmm_mixture.diagnostics import label_invariant_diagnostics, n_divergences
    from pmm_mixture.example import build_mmm, with_trend
    from pmm_mixture.synthetic import make_two_segment_data

    make_priors, nuts_kwargs, settings = VARIANTS[variant]
    point = replace(point, **settings)
    data = make_two_segment_data(
        point.kappa_ratio,
        share=point.share,
        slope=point.slope,
        noise=point.noise,
        n_weeks=point.n_weeks,
        seed=point.seed,
    )
    priors = {"weights": StickBreakingWeights(alpha=point.alpha), **make_priors()}
    mmm = build_mmm(
        data, None, saturation=MixtureHillSaturation(n_components=5, priors=priors)
    )
    start = time.perf_counter()
    mmm.fit(
        with_trend(data.X),
        data.y,
        nuts_sampler="numpyro",
        nuts_sampler_kwargs=dict(nuts_kwargs),  # PyMC adds target_accept to it
        chains=point.chains,
        tune=point.tune,
        draws=point.draws,
        target_accept=point.target_accept,
        random_seed=point.seed,
        progressbar=False,
    )
    seconds = time.perf_counter() - start
    posterior = mmm.idata.posterior
    stats = mmm.idata.sample_stats
    diverging = np.asarray(stats["diverging"]).astype(bool)
    diagnostics = label_invariant_diagnostics(mmm)

    def where(name: str) -> dict[str, float]:
        values = np.asarray(posterior[name].sel(channel="x1"))
        if values.ndim > 2:
            values = values[..., 0]
        out = {"all": float(np.median(values))}
        if diverging.any():
            out["divergent"] = float(np.median(values[diverging]))
        return out

    step = np.asarray(stats["step_size"])[:, 0]
    return {
        "point": asdict(point),
        "variant": variant,
        "nuts_kwargs": nuts_kwargs,
        "fit_seconds": seconds,
        "divergences": int(n_divergences(mmm)),
        "divergences_per_chain": diverging.sum(axis=1).tolist(),
        "step_size_per_chain": step.tolist(),
        "r_hat_max": float(diagnostics["r_hat_max"].max()),
        "ess_bulk_min": float(diagnostics["ess_bulk_min"].min()),
        "max_tree_depth_frac": float((np.asarray(stats["tree_depth"]) >= 10).mean()),
        "log_first": where("saturation_kappa_log_first"),
        "first_weight": where("saturation_weights"),
        "adstock_alpha": where("adstock_alpha"),
        "versions": versions(),
    }


def key(point: Point, variant: str) -> str:
    """File stem of a cached fit."""
    return f"{variant}-{point.key()}"


def run(variants: Sequence[str], cache_dir: Path, limit: int | None) -> None:
    """Fit every (variant, point) not in the cache, variant by variant."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = [
        (p, v)
        for v in variants
        for p in points()[:limit]
        if not (cache_dir / f"{key(p, v)}.json").exists()
    ]
    print(f"{len(todo)} fits to run", flush=True)
    for i, (point, variant) in enumerate(todo, 1):
        try:
            result = fit(point, variant)
        except Exception:
            print(f"[{i}/{len(todo)}] {key(point, variant)} FAILED", flush=True)
            traceback.print_exc()
            continue
        (cache_dir / f"{key(point, variant)}.json").write_text(
            json.dumps(result, indent=1)
        )
        print(
            f"[{i}/{len(todo)}] {key(point, variant)} {result['fit_seconds']:.0f}s "
            f"div={result['divergences']} {result['divergences_per_chain']} "
            f"rhat={result['r_hat_max']:.3f} ess={result['ess_bulk_min']:.0f} "
            f"log_first={result['log_first']}",
            flush=True,
        )


def load(cache_dir: Path) -> pd.DataFrame:
    """One row per cached fit."""
    rows = []
    for path in sorted(cache_dir.glob("*.json")):
        r = json.loads(path.read_text())
        p = r["point"]
        rows.append(
            {
                "variant": r["variant"],
                "data": f"{'null' if p['kappa_ratio'] is None else p['kappa_ratio']}"
                f"/w{p['share']:g}/s{p['slope']:g}/T{p['n_weeks']}/seed{p['seed']}",
                "divergences": r["divergences"],
                "r_hat_max": r["r_hat_max"],
                "ess_bulk_min": r["ess_bulk_min"],
                "max_tree_depth_frac": r["max_tree_depth_frac"],
                "fit_seconds": r["fit_seconds"],
            }
        )
    return pd.DataFrame(rows)


def report(cache_dir: Path, out: Path, command: str) -> str:
    """Per-variant table (and per-fit table) in ``out``."""
    frame = load(cache_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = frame.groupby("variant").agg(
        fits=("data", "size"),
        fits_with_divergences=("divergences", lambda s: int((s > 0).sum())),
        divergences=("divergences", "sum"),
        r_hat_worst=("r_hat_max", "max"),
        ess_bulk_lowest=("ess_bulk_min", "min"),
        fit_seconds_median=("fit_seconds", "median"),
    )
    frame.to_csv(out / "fits.csv", index=False)
    summary.to_csv(out / "summary.csv")
    divergences = (
        frame.pivot(index="data", columns="variant", values="divergences")
        .fillna(-1)
        .astype(int)
    )
    text = (
        f"Command: `{command}`\n\n"
        + _markdown(summary, "{:.3f}")
        + "\n\nDivergences per fit (-1: not fitted):\n\n"
        + _markdown(divergences, "{}")
        + "\n"
    )
    (out / "report.md").write_text(text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "report"))
    parser.add_argument("--variants", nargs="+", default=["default"], choices=VARIANTS)
    parser.add_argument(
        "--cache-dir", type=Path, default=HERE / "cache" / "convergence"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "convergence")
    parser.add_argument("--limit", type=int, help="only the first N data sets")
    args = parser.parse_args(argv)
    if args.action == "run":
        run(args.variants, args.cache_dir, args.limit)
    else:
        command = "python benchmarks/convergence.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        print(report(args.cache_dir, args.out, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
