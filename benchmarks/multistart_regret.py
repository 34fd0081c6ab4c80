"""Budget regret when each model's optimizer is started from several points.

The benchmark's regret follows ``mmm.budget_optimizer(...).allocate_budget``
from its default start (the uniform split), while the true optimum is searched
from many starts. With S-shaped curves the model's own objective (posterior
mean response) has several local optima, so a model can gain or lose regret by
where SLSQP happens to stop. This program refits cached benchmark runs (same
spec and seed) and allocates the budget from the default start, the historical
split, each all-in-one corner and three random splits; it keeps the allocation
with the best value of the model's own objective and reports the regret of
both. One JSON per fit in the cache folder; a rerun skips finished fits.

Usage::

    python benchmarks/multistart_regret.py run \\
        --tier-cache benchmarks/cache/separated --k-true 2 3
    python benchmarks/multistart_regret.py report
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CACHE = HERE / "cache" / "multistart"
OUT = HERE / "results" / "multistart"
N_RANDOM = 3


def starts(weekly: float, historical: np.ndarray, seed: int) -> dict:
    n = len(historical)
    points = {"default": None, "historical": historical * weekly / historical.sum()}
    for i in range(n):
        corner = np.full(n, 0.05 * weekly / (n - 1))
        corner[i] = 0.95 * weekly
        points[f"corner {i}"] = corner
    rng = np.random.default_rng(seed)
    for j in range(N_RANDOM):
        points[f"random {j}"] = rng.dirichlet(np.ones(n)) * weekly
    return points


def run_one(spec_file: Path, cache: Path) -> dict:
    from mmm_bench import metrics as bm
    from mmm_bench.specs import RunSpec
    from mmm_bench.worker import build_run_model, fit_spec, prepare_data

    record = json.loads(spec_file.read_text())
    fields = dict(record["spec"])
    fields["mixture_priors"] = tuple(fields["mixture_priors"])
    fields["lift_levels"] = tuple(fields["lift_levels"])
    spec = RunSpec(**fields)
    data, X_train, y_train, X_test, _ = prepare_data(spec)
    mmm, _ = build_run_model(spec, data, X_train, y_train)
    fit_spec(mmm, spec, X_train, y_train)
    channels = list(data.channel_columns)
    weekly = float(X_train[channels].sum(axis=1).mean())
    historical = np.array([float(X_train[c].mean()) for c in channels])
    optimizer = mmm.budget_optimizer(
        start_date=X_test["date"].iloc[0], end_date=X_test["date"].iloc[-1]
    )
    optimal = data.optimal_allocation(weekly)
    tries = {}
    for name, x0 in starts(weekly, historical, spec.seed).items():
        extra = {} if x0 is None else {"x0": x0}
        try:
            result = optimizer.allocate_budget(total_budget=weekly, **extra)
        except Exception as error:  # recorded; the other starts go on
            tries[name] = {"error": str(error)}
            continue
        allocation = {c: float(result.budgets.sel(channel=c).values) for c in channels}
        tries[name] = {
            "objective": float(-result.scipy_result.fun),
            "allocation": allocation,
            "regret_pct": bm.budget_regret(data.true_response, allocation, optimal)[
                "regret_pct"
            ],
        }
    finished = {k: v for k, v in tries.items() if "objective" in v}
    best = max(finished, key=lambda k: finished[k]["objective"])
    out = {
        "spec": record["spec"],
        "benchmark_regret_pct": record["metrics"]["regret_pct"],
        "default_regret_pct": finished.get("default", {}).get("regret_pct"),
        "best_start": best,
        "best_regret_pct": finished[best]["regret_pct"],
        "tries": tries,
    }
    cache.mkdir(parents=True, exist_ok=True)
    (cache / spec_file.name).write_text(json.dumps(out, indent=2))
    return out


def run(args) -> None:
    files = sorted(
        f
        for k in args.k_true
        for m in args.models
        for f in args.tier_cache.glob(f"*-K{k}-seed*-{m}-*.json")
        if not f.name.endswith(".spec.json")
    )
    for number, spec_file in enumerate(files, start=1):
        if (args.cache / spec_file.name).exists():
            continue
        out = run_one(spec_file, args.cache)
        print(
            f"[{number}/{len(files)}] {spec_file.name}: default start "
            f"{out['default_regret_pct']:.2f} %, best of "
            f"{len(out['tries'])} starts ({out['best_start']}) "
            f"{out['best_regret_pct']:.2f} %",
            flush=True,
        )
    report(args)


def report(args) -> None:
    import pandas as pd

    rows = []
    for path in sorted(args.cache.glob("*.json")):
        record = json.loads(path.read_text())
        spec = record["spec"]
        rows.append(
            {
                "mode": spec["mode"],
                "k_true": spec["k_true"],
                "seed": spec["seed"],
                "model": spec["model"],
                "benchmark": record["benchmark_regret_pct"],
                "default start": record["default_regret_pct"],
                "best of starts": record["best_regret_pct"],
                "best start": record["best_start"],
            }
        )
    table = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "runs.csv", index=False)
    means = (
        table.groupby(["mode", "k_true", "model"])[
            ["benchmark", "default start", "best of starts"]
        ]
        .mean()
        .round(2)
    )
    per_seed = table.pivot_table(
        index=["mode", "k_true", "seed"], columns="model", values="best of starts"
    ).round(2)
    text = "\n".join(
        [
            "# Budget regret (%) from the default start and the best of several",
            "",
            f"Command: `python benchmarks/multistart_regret.py run --tier-cache "
            f"{_shown(args.tier_cache)} --k-true "
            f"{' '.join(map(str, sorted(table['k_true'].unique())))} --models "
            f"{' '.join(sorted(table['model'].unique()))}`",
            "",
            "Means over seeds:",
            "",
            "```",
            means.to_string(),
            "```",
            "",
            "Best of starts, per seed:",
            "",
            "```",
            per_seed.to_string(),
            "```",
            "",
        ]
    )
    (args.out / "report.md").write_text(text)
    print(text)


def _shown(path: Path) -> str:
    path = path.resolve()
    root = HERE.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run", "report"))
    parser.add_argument("--tier-cache", type=Path, default=HERE / "cache" / "separated")
    parser.add_argument("--k-true", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--models", nargs="+", default=["mixture_k1", "mixture_k5"])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    main()
