"""Benchmark: one Hill curve against mixtures of Hill curves, on known truth.

Fits PyMC-Marketing's ``HillSaturation`` (one curve), ``LogisticSaturation``,
``MixtureHillSaturation`` with one curve (K=1) and the mixtures
``MixtureHillSaturation(n_components=3)`` and the sparse
``MixtureHillSaturation(n_components=5)`` on the same synthetic data
(``pmm_mixture.synthetic.make_mixture_mmm_data``) with the same draws and the
same random seed, and reports per cell (mode x K_true) the mean and spread over
seeds of: ELPD-LOO and its difference to the Hill model, test-period CRPS,
interval coverage and RMSE, curve and contribution recovery, effective number
of components, budget regret, sampling health and cost; and the mixtures
against the best single curve of each data set.

Each (cell, seed, model) fit is a task of a Dask cluster (a local one of
``--jobs`` workers, or ``--scheduler ADDRESS``'s), runs in its own subprocess
and writes one JSON file into the cache; finished files are skipped on a
rerun, so an interrupted run resumes where it stopped.

Usage::

    python benchmarks/run_benchmark.py --tier quick
    python benchmarks/run_benchmark.py --tier full --cache-dir benchmarks/cache \
        --out benchmarks/results

Run ``python benchmarks/run_benchmark.py --help`` for all options.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import report
from .priors import PRIOR_PARAMETERS, priors_digest, read_mixture_priors
from .runner import DEFAULT_RETRIES, run_all
from .specs import (
    MASS_MATRICES,
    MIXTURE_MASS_MATRIX,
    MIXTURE_MODELS,
    MIXTURE_STEP_SIZE,
    MODEL_SAMPLER_SETTINGS,
    MODELS,
    MODES,
    N_CHANNELS,
    N_TEST,
    N_WEEKS,
    NOISE,
    SAMPLER_FIELDS,
    SINGLE_CURVE_MODELS,
    STEP_SIZES,
    TARGET_ACCEPT,
    TIERS,
    RunSpec,
    SamplerSettings,
    Tier,
    build_specs,
    machine_info,
    package_versions,
    parse_model_setting,
    pmm_mixture_digest,
    resolve_model_settings,
    sampler_settings_table,
)

BENCHMARKS_DIR = Path(__file__).resolve().parents[1]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--tier", choices=sorted(TIERS), default="quick", help="cells and chains"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=BENCHMARKS_DIR / "cache", help="finished fits"
    )
    parser.add_argument(
        "--out", type=Path, default=BENCHMARKS_DIR / "results", help="tables, figures"
    )
    parser.add_argument(
        "--only-model",
        nargs="+",
        choices=list(MODELS),
        default=None,
        metavar="MODEL",
        help=f"some of {', '.join(MODELS)}; all when not given",
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="override the tier"
    )
    parser.add_argument(
        "--modes", nargs="+", choices=MODES, default=None, help="override the tier"
    )
    parser.add_argument(
        "--k-true", nargs="+", type=int, default=None, help="override the tier"
    )
    parser.add_argument(
        "--n-geos",
        nargs="+",
        type=int,
        default=None,
        help="panel sizes of the geo mode; override the tier",
    )
    parser.add_argument("--chains", type=int, default=None, help="override the tier")
    parser.add_argument("--tune", type=int, default=None, help="override the tier")
    parser.add_argument("--draws", type=int, default=None, help="override the tier")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="worker processes of the local Dask cluster, i.e. fits run at the "
        "same time (more than 1 distorts the timings); ignored with --scheduler",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the fits on the Dask cluster of this scheduler (e.g. "
        "tcp://host:8786) instead of a local one; its workers need this "
        "repository at the same path and the cache folder on a shared file system",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        help="reruns of a fit whose process was killed by a signal (a fit whose "
        "Dask worker died is rerun by the scheduler anyway)",
    )
    parser.add_argument(
        "--run-timeout", type=float, default=None, help="seconds per fit"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="refit even when a result is cached"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="fit nothing: report the cached results (runs not in the cache are "
        "shown as missing / not run)",
    )
    parser.add_argument(
        "--target-accept",
        type=float,
        default=None,
        help=f"NUTS target acceptance for every model (default {TARGET_ACCEPT}); "
        "another value sends the results to OUT/TIER-target_acceptVALUE",
    )
    parser.add_argument(
        "--model-setting",
        action="append",
        default=[],
        metavar="MODEL.FIELD=VALUE",
        help="a sampler setting of one model, FIELD one of "
        f"{', '.join(SAMPLER_FIELDS)} (e.g. hill.max_tree_depth=12); repeatable, "
        "applied after --target-accept and the --mixture-* options; results go "
        "to OUT/TIER-MODEL.FIELDVALUE",
    )
    parser.add_argument(
        "--mixture-priors",
        type=Path,
        default=None,
        metavar="FILE.json",
        help="priors of the mixture models (" + ", ".join(MIXTURE_MODELS) + "): "
        "a JSON object {parameter: prior.to_dict()}, parameter one of "
        f"{', '.join(PRIOR_PARAMETERS)}; the single-curve models keep their "
        "default priors; results go to OUT/TIER-priors_STEM_HASH",
    )
    parser.add_argument(
        "--mixture-prior",
        nargs="+",
        default=None,
        help=argparse.SUPPRESS,  # replaced by --mixture-priors; an error says so
    )
    parser.add_argument(
        "--mixture-mass-matrix",
        choices=MASS_MATRICES,
        default=MIXTURE_MASS_MATRIX,
        help="NUTS mass matrix of the mixture models ("
        + ", ".join(MIXTURE_MODELS)
        + f"); another value than {MIXTURE_MASS_MATRIX!r} sends the results to "
        "OUT/TIER-mass_matrixVALUE",
    )
    parser.add_argument(
        "--mixture-step-size",
        choices=STEP_SIZES,
        default=MIXTURE_STEP_SIZE,
        help="NUTS step size of the mixture models ("
        + ", ".join(MIXTURE_MODELS)
        + ") after warmup: per_chain (NumPyro's own adaptation, each chain its "
        "own) or one step size for all chains, the min or median of the adapted "
        f"ones; another value than {MIXTURE_STEP_SIZE!r} sends the results to "
        "OUT/TIER-step_sizeVALUE",
    )
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def resolve_tier(args: argparse.Namespace) -> Tier:
    """The tier's settings with the command-line overrides applied."""
    tier = TIERS[args.tier]
    overrides = {
        "modes": tuple(args.modes) if args.modes else None,
        "k_true": tuple(args.k_true) if args.k_true else None,
        "seeds": tuple(args.seeds) if args.seeds else None,
        "n_geos": tuple(args.n_geos) if args.n_geos else None,
        "chains": args.chains,
        "tune": args.tune,
        "draws": args.draws,
    }
    return replace(tier, **{k: v for k, v in overrides.items() if v is not None})


def parse_model_settings(args: argparse.Namespace) -> dict[str, SamplerSettings]:
    """The per-model sampler settings of the command line, checked.

    Raises
    ------
    ValueError
        For a bad ``--target-accept`` or ``--model-setting``.
    """
    if args.target_accept is not None and not 0.0 < args.target_accept < 1.0:
        raise ValueError(
            f"--target-accept must lie in (0, 1), got {args.target_accept}."
        )
    overrides = [parse_model_setting(item) for item in args.model_setting]
    return resolve_model_settings(
        target_accept=args.target_accept,
        mixture_mass_matrix=args.mixture_mass_matrix,
        mixture_step_size=args.mixture_step_size,
        overrides=overrides,
    )


def parse_priors(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The serialized priors of ``--mixture-priors`` (empty without it).

    Raises
    ------
    ValueError
        For the retired ``--mixture-prior`` or a file that cannot be used.
    """
    if args.mixture_prior is not None:
        raise ValueError(
            "--mixture-prior NAME=VALUE was replaced by --mixture-priors FILE.json "
            "(a JSON object {parameter: prior.to_dict()}); see benchmarks/README.md."
        )
    if args.mixture_priors is None:
        return {}
    return read_mixture_priors(args.mixture_priors)


def output_name(
    args: argparse.Namespace,
    settings: Tier,
    mixture_priors: Mapping[str, Any] | None = None,
) -> str:
    """Folder name of the results: the tier, then every departure from it.

    ``full`` holds only the complete full tier at its defaults; other priors,
    sampler settings or chain lengths add a part each, and other cells or
    fewer models add ``-subset``, so a variant never overwrites the tier's
    results.
    """
    tier = TIERS[args.tier]
    parts = [args.tier]
    if mixture_priors:
        stem = Path(args.mixture_priors).stem if args.mixture_priors else "priors"
        parts.append(f"priors_{stem}_{priors_digest(mixture_priors)}")
    if args.target_accept is not None and args.target_accept != TARGET_ACCEPT:
        parts.append(f"target_accept{args.target_accept:g}")
    if args.mixture_mass_matrix != MIXTURE_MASS_MATRIX:
        parts.append(f"mass_matrix{args.mixture_mass_matrix}")
    if args.mixture_step_size != MIXTURE_STEP_SIZE:
        parts.append(f"step_size{args.mixture_step_size}")
    # --model-setting: each change it makes to the table resolved without it
    before = resolve_model_settings(
        args.target_accept, args.mixture_mass_matrix, args.mixture_step_size
    )
    after = resolve_model_settings(
        args.target_accept,
        args.mixture_mass_matrix,
        args.mixture_step_size,
        [parse_model_setting(item) for item in args.model_setting],
    )
    for model in MODELS:
        for name in SAMPLER_FIELDS:
            value = getattr(after[model], name)
            if value != getattr(before[model], name):
                text = f"{value:g}" if isinstance(value, float) else str(value)
                parts.append(f"{model}.{name}{text}")
    for name in ("chains", "tune", "draws"):
        if getattr(settings, name) != getattr(tier, name):
            parts.append(f"{name}{getattr(settings, name)}")
    other_cells = any(
        set(getattr(settings, name)) != set(getattr(tier, name))
        for name in ("modes", "k_true", "seeds", "n_geos")
    )
    if other_cells or (args.only_model and set(args.only_model) != set(MODELS)):
        parts.append("subset")
    return "-".join(parts)


def _describe_settings(table: Mapping[str, SamplerSettings], models) -> list[str]:
    lines = []
    for model in models:
        s = table[model]
        default = "" if s == MODEL_SAMPLER_SETTINGS[model] else " (changed)"
        lines.append(
            f"  {model}: target_accept={s.target_accept}, max_tree_depth="
            f"{s.max_tree_depth}, step size {s.step_size}, mass matrix "
            f"{s.mass_matrix}, jitter {s.jitter}, parallel chains "
            f"{s.parallel_chains}{default}"
        )
    return lines


def _unique(specs: Sequence[RunSpec]) -> list[RunSpec]:
    return list({spec.key(): spec for spec in specs}.values())


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or resume) a tier, then aggregate, print and save the results."""
    args = parse_args(argv)
    if args.worker:
        from .worker import worker_main

        return worker_main(args.worker)
    started = time.perf_counter()
    settings = resolve_tier(args)
    try:
        model_settings = parse_model_settings(args)
        mixture_priors = parse_priors(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    models = args.only_model or list(MODELS)
    command = shlex.join(
        [Path(sys.executable).name, sys.argv[0], *(argv or sys.argv[1:])]
    )
    targets_accept = {model_settings[m].target_accept for m in models}
    meta = {
        "command": command,
        "tier": args.tier,
        "settings": asdict(settings),
        "models": {m: MODELS[m]["label"] for m in models},
        "model_settings": sampler_settings_table(model_settings, models),
        "target_accept": targets_accept.pop()
        if len(targets_accept) == 1
        else "per model (model_settings)",
        "mixture_mass_matrix": args.mixture_mass_matrix,
        "mixture_step_size": args.mixture_step_size,
        "n_channels": N_CHANNELS,
        "n_weeks": N_WEEKS,
        "n_test": N_TEST,
        "noise": NOISE,
        "mixture_priors": mixture_priors,
        "versions": package_versions(),
        "pmm_mixture_digest": pmm_mixture_digest(),
        "machine": machine_info(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"$ {command}")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    machine = meta["machine"]
    print(
        f"Machine: {machine.get('usable_cores')} usable cores "
        f"({machine.get('cpu_model', 'unknown CPU')}), "
        f"{machine.get('memory_gb', '?')} GB, {machine['platform']}"
    )
    print(
        f"Tier {args.tier}: modes {list(settings.modes)}, K_true "
        f"{list(settings.k_true)}, seeds {list(settings.seeds)}, "
        f"{settings.chains} chains x ({settings.tune} tune + {settings.draws} draws), "
        "NumPyro NUTS, same random_seed (= data seed) for all models on the same "
        "data."
    )
    priors_text = (
        f"mixture priors from {args.mixture_priors} for "
        + ", ".join(MIXTURE_MODELS)
        + ": "
        + ", ".join(sorted(mixture_priors))
        if mixture_priors
        else "default priors"
    )
    print(f"Models: {', '.join(MODELS[m]['label'] for m in models)} ({priors_text})")
    print("Sampler settings per model:")
    print("\n".join(_describe_settings(model_settings, models)))

    specs = build_specs(args.tier, settings, models, mixture_priors, model_settings)
    cache_dir = args.cache_dir.resolve()
    if args.report_only:
        launches: dict[str, Any] = {}
        cached = sum(s.result_path(cache_dir).exists() for s in specs)
        print(f"Report only: {cached} of {len(specs)} runs are cached; fitting none.")
    else:
        launches = run_all(
            specs,
            cache_dir,
            jobs=args.jobs,
            timeout=args.run_timeout,
            fresh=args.fresh,
            scheduler=args.scheduler,
            retries=args.retries,
        )
    runs, elpd = report.load_results(specs, cache_dir)
    runs = report.add_pairwise(runs, elpd, specs, cache_dir, model_settings)
    # the single-curve runs of the same data, even those not requested
    # (--only-model), as they were fitted with these settings
    baselines = build_specs(
        args.tier, settings, SINGLE_CURVE_MODELS, mixture_priors, model_settings
    )
    requested = {s.key() for s in specs}
    extra = [s for s in _unique(baselines) if s.key() not in requested]
    extra_runs, extra_elpd = report.load_results(extra, cache_dir)
    compared = pd.concat([runs, extra_runs], ignore_index=True)
    vs_best = report.compare_with_best_single(compared, {**elpd, **extra_elpd})
    health = report.health_by_model(
        compared, [m for m in MODELS if m in set(compared["model"])]
    )

    out_dir = (args.out / output_name(args, settings, mixture_priors)).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out_dir / "runs.csv", index=False)

    failed = (
        []
        if args.report_only
        else [s.key() for s in specs if not s.result_path(cache_dir).exists()]
    )
    done = runs[runs["status"] != "missing"]
    digests = sorted(set(done.get("pmm_mixture_digest", pd.Series(dtype=str))))
    if len(digests) > 1 or (digests and digests[0] != meta["pmm_mixture_digest"]):
        print(
            f"WARNING: cached runs come from pmm_mixture sources {digests}, the "
            f"installed one is {meta['pmm_mixture_digest']}; use --fresh to refit."
        )
    if done.empty:
        print("No finished runs to summarise.")
        return 1

    summary = report.summarize(runs)
    summary.to_csv(out_dir / "summary.csv", index=False)
    targets = report.evaluate_targets(runs, comparison=vs_best)
    targets.to_csv(out_dir / "targets.csv", index=False)
    vs_best.to_csv(out_dir / "vs_best_single.csv", index=False)
    vs_best_cells = report.summarize_vs_best(vs_best)
    health.to_csv(out_dir / "health.csv", index=False)
    speed = report.speed_vs_single(compared)
    speed.to_csv(out_dir / "speed.csv", index=False)
    sections = {
        "settings": report.settings_frame(model_settings, models),
        "vs_best": vs_best_cells,
        "health": health,
        "speed": speed if not speed.empty else None,
    }
    text = report.format_report(summary, targets, **sections)
    print(text)
    (out_dir / "report.txt").write_text(text + "\n")
    (out_dir / "report.md").write_text(
        report.format_markdown_report(summary, targets, **sections) + "\n"
    )

    figures = [] if args.no_figures else report.make_figures(summary, out_dir)
    wall = time.perf_counter() - started
    meta |= {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": wall,
        "runs_total": len(specs),
        "runs_fitted_now": len(launches),
        "runs_failed": failed,
        "report_only": args.report_only,
        "cached_pmm_mixture_digests": digests,
        "figures": [p.name for p in figures],
    }
    if settings != TIERS["full"]:
        estimate = report.estimate_full_tier(
            done, settings, machine.get("usable_cores") or 1
        )
        meta["full_tier_estimate"] = estimate
        if estimate:
            print(
                f"\nFull tier estimate from these runs: {estimate['runs']} fits, about "
                f"{estimate['hours']:.1f} h with --jobs 1 on this machine (sampling "
                f"time x{estimate['sampling_scale']:.0f}, the rest as measured; "
                "unmeasured cells assumed average)."
            )
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    print(
        f"\nWrote {out_dir}/runs.csv, summary.csv, targets.csv, vs_best_single.csv, "
        "health.csv, report.txt/.md, meta.json"
        + (f" and {len(figures)} figures" if figures else "")
        + f"; wall time {wall:.0f} s ({wall / 60:.1f} min)."
    )
    if failed:
        print(f"{len(failed)} run(s) failed: {failed}")
        return 1
    return 0
