"""The built-in example against every single curve, by ELPD-LOO.

Fits the example data (``search`` has two segments 4.6x apart) with the
mixture and with each single-curve model at the same sampler settings, then
compares them by ELPD-LOO against the best single curve. Four short fits
(about 3 minutes on 2 cores); ``run`` writes ``results.json`` and
``report`` renders it again without refitting.

Usage::

    python benchmarks/example_vs_single.py run
    python benchmarks/example_vs_single.py report
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from importlib.metadata import version
from pathlib import Path

import arviz as az
import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "example_vs_single"
MODELS = ("mixture_k4", "mixture_k1", "hill", "logistic")
SAMPLER = {
    "nuts_sampler": "numpyro",
    "chains": 4,
    "tune": 1500,
    "draws": 2500,
    "target_accept": 0.95,
    "random_seed": 0,
    "progressbar": False,
}


def build(name: str, data):
    from pymc_marketing.mmm import HillSaturation, LogisticSaturation

    from pmm_mixture.example import build_mmm

    saturation = {
        "mixture_k4": None,
        "mixture_k1": None,
        "hill": HillSaturation(),
        "logistic": LogisticSaturation(),
    }[name]
    n_components = {"mixture_k4": 4, "mixture_k1": 1}.get(name)
    return build_mmm(data, n_components=n_components, saturation=saturation)


def fit_all(out: Path) -> dict:
    from pmm_mixture.diagnostics import n_divergences
    from pmm_mixture.example import with_trend
    from pmm_mixture.synthetic import example_two_segment_data

    data = example_two_segment_data(seed=0)
    X = with_trend(data.X)
    out.mkdir(parents=True, exist_ok=True)
    fitted, summaries = {}, {}
    for name in MODELS:
        mmm = build(name, data)
        start = time.perf_counter()
        mmm.fit(X, data.y, compute_convergence_checks=False, **SAMPLER)
        wall = time.perf_counter() - start
        mmm.sample_posterior_predictive(X, extend_idata=True, progressbar=False)
        contributions = mmm.idata.posterior["channel_contribution"].sum("date")
        summaries[name] = {
            "fit_wall_s": wall,
            "sampling_s": float(mmm.idata.posterior.attrs.get("sampling_time", np.nan)),
            "divergences": int(n_divergences(mmm)),
            "rhat_contribution_max": float(az.rhat(contributions).max()),
            "ess_bulk_contribution_min": float(az.ess(contributions).min()),
        }
        fitted[name] = mmm
        print(name, summaries[name], flush=True)
    return data, fitted, summaries


def compare(fitted: dict) -> dict:
    from pmm_mixture.comparison import compare_models

    rows = {}
    for single in ("mixture_k1", "hill", "logistic"):
        result = compare_models(
            {"mixture_k4": fitted["mixture_k4"], single: fitted[single]},
            reference=single,
        )
        row = result.table.loc["mixture_k4"]
        rows[single] = {
            "elpd_single": float(result.table.loc[single, "elpd"]),
            "elpd_k4": float(row["elpd"]),
            "elpd_diff": float(row["elpd_diff"]),
            "diff_se": float(row["diff_se"]),
            "z": float(row["z"]),
            "n_bad_pareto_k": int(row["n_bad_pareto_k"]),
        }
    return rows


def run(out: Path) -> None:
    _, fitted, summaries = fit_all(out)
    comparison = compare(fitted)
    meta = {
        "command": "python benchmarks/example_vs_single.py run",
        "sampler": SAMPLER,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "versions": {
            p: version(p) for p in ("pymc", "pymc-marketing", "numpyro", "jax")
        },
    }
    (out / "results.json").write_text(
        json.dumps(
            {"fits": summaries, "k4_against": comparison, "meta": meta}, indent=2
        )
    )
    report(out)


def report(out: Path) -> None:
    results = json.loads((out / "results.json").read_text())
    fits, against = results["fits"], results["k4_against"]
    best = max(against, key=lambda name: against[name]["elpd_single"])
    lines = [
        "# Built-in example: the mixture against every single curve",
        "",
        f"Command: `{results['meta']['command']}`; "
        f"sampler {results['meta']['sampler']}.",
        "",
        "| model | sampling s | divergences | R-hat (contributions) "
        "| bulk ESS (contributions) |",
        "|---|---|---|---|---|",
    ]
    for name, row in fits.items():
        lines.append(
            f"| {name} | {row['sampling_s']:.1f} | {row['divergences']} | "
            f"{row['rhat_contribution_max']:.3f} | "
            f"{row['ess_bulk_contribution_min']:.0f} |"
        )
    lines += [
        "",
        "| K = 4 against | ELPD single | ELPD K = 4 | difference | SE | z "
        "| Pareto k > 0.7 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in against.items():
        lines.append(
            f"| {name} | {row['elpd_single']:.1f} | {row['elpd_k4']:.1f} | "
            f"{row['elpd_diff']:+.1f} | {row['diff_se']:.1f} | {row['z']:.1f} | "
            f"{row['n_bad_pareto_k']} |"
        )
    lines += ["", f"Best single curve by ELPD-LOO: {best}.", ""]
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "report"))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    run(args.out) if args.command == "run" else report(args.out)


if __name__ == "__main__":
    main()
