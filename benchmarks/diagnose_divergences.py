"""Refit one benchmark fit and show where its divergent transitions are.

Fits the same data, model, seed, draws and sampler settings as
``run_benchmark.py`` (through ``mmm_bench.worker.fit_spec``), then prints the
divergences and mean step size of each chain, the label-invariant diagnostics,
and, for each divergent draw, every scalar of the posterior that lies outside
the 2nd-98th percentile of its own posterior.
This is a program, not a test; ``docs/benchmarks.md`` quotes its output.

Example::

    .venv/bin/python benchmarks/diagnose_divergences.py --mode aggregate \\
        --k-true 2 --seed 2 --model mixture_k3 --target-accept 0.9995 \\
        --mixture-step-size per_chain
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mmm_bench import cli, specs, worker


def extreme_values(
    posterior: xr.Dataset, chain: int, draw: int, low: float = 2.0, high: float = 98.0
) -> list[tuple[str, int, float, float, float]]:
    """Scalars of draw ``(chain, draw)`` outside their posterior's percentiles.

    Returns ``(variable, flat index, value, percentile, posterior median)`` for
    each scalar of each variable (flattened over its non-sample dims) whose
    value lies below the ``low`` or above the ``high`` percentile of all draws.
    """
    rows = []
    for name, values in posterior.data_vars.items():
        array = np.asarray(values)
        flat = array.reshape(array.shape[0] * array.shape[1], -1)
        value = array[chain, draw].reshape(-1)
        percentile = (flat < value).mean(axis=0) * 100
        for index in np.flatnonzero((percentile < low) | (percentile > high)):
            rows.append(
                (
                    str(name),
                    int(index),
                    float(value[index]),
                    float(percentile[index]),
                    float(np.median(flat[:, index])),
                )
            )
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options: the fit to refit, as in ``run_benchmark.py``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=specs.MODES, required=True)
    parser.add_argument("--k-true", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--model", choices=list(specs.MODELS), required=True)
    parser.add_argument("--tier", choices=list(specs.TIERS), default="full")
    # the sampler and prior options of run_benchmark.py, with its defaults
    parser.add_argument("--target-accept", type=float, default=None)
    parser.add_argument("--model-setting", action="append", default=[])
    parser.add_argument("--mixture-priors", type=Path, default=None)
    parser.add_argument(
        "--mixture-mass-matrix",
        choices=specs.MASS_MATRICES,
        default=specs.MIXTURE_MASS_MATRIX,
    )
    parser.add_argument(
        "--mixture-step-size",
        choices=specs.STEP_SIZES,
        default=specs.MIXTURE_STEP_SIZE,
    )
    parser.add_argument(
        "--max-vars",
        type=int,
        default=30,
        help="skip variables with more scalars than this per draw",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Refit, then print per-chain divergences and the divergent draws."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    # the one spec of this cell, built as the benchmark builds it (the
    # mixture-only options are dropped for the single-curve models there)
    args.mixture_prior = None  # the retired option, which parse_priors checks
    try:
        model_settings = cli.parse_model_settings(args)
        mixture_priors = cli.parse_priors(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    cell = replace(
        specs.TIERS[args.tier],
        modes=(args.mode,),
        k_true=(args.k_true,),
        seeds=(args.seed,),
    )
    (spec,) = specs.build_specs(
        args.tier, cell, [args.model], mixture_priors, model_settings
    )
    print(f"refitting {spec.key()} ({spec.sampler_settings()})")
    mixture = specs.uses_mixture_saturation(args.model)
    data, X_train, y_train, _, _ = worker.prepare_data(spec)
    mmm = worker.build_mmm(data, spec.model, spec.priors_dict())
    start = time.perf_counter()
    worker.fit_spec(mmm, spec, X_train, y_train)
    seconds = time.perf_counter() - start

    stats = mmm.idata.sample_stats
    diverging = np.asarray(stats["diverging"])
    step = np.asarray(stats["step_size"]).mean(axis=1)
    print(
        f"fit {seconds:.1f} s; divergences {int(diverging.sum())}, per chain "
        f"{diverging.sum(axis=1).tolist()}; mean step size per chain "
        f"{np.round(step, 5).tolist()}"
    )
    if "adapted_step_size" in stats:
        adapted = np.asarray(stats["adapted_step_size"])[:, 0]
        print(f"adapted step size per chain {np.round(adapted, 5).tolist()}")
    if mixture:
        from pmm_mixture.diagnostics import label_invariant_diagnostics

        print(label_invariant_diagnostics(mmm).to_string())

    posterior = mmm.idata.posterior.dataset
    small = [
        name
        for name, values in posterior.data_vars.items()
        if np.prod(values.shape[2:], dtype=int) <= args.max_vars
    ]
    for chain, draw in np.argwhere(diverging):
        print(f"-- divergent transition: chain {chain}, draw {draw}")
        for name, index, value, percentile, median in extreme_values(
            posterior[small], int(chain), int(draw)
        ):
            print(
                f"   {name}[{index}] = {value:.4g}, percentile {percentile:.1f} "
                f"(median {median:.4g})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
