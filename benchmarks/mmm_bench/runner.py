"""How the fits are executed: each in a fresh Python process, a few at a time.

:func:`run_all` is the whole interface: the run specs and the cache folder in,
per-fit launch information out; the results are the JSON files it leaves in
the cache (``RunSpec.result_path``). Another executor (e.g. Dask) only has to
replace :func:`run_all` with the same signature.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .specs import RunSpec

#: The folder holding the ``mmm_bench`` package (``benchmarks/``).
BENCHMARKS_DIR = Path(__file__).resolve().parents[1]


def worker_command(spec_file: Path) -> list[str]:
    """The child process's command line: the worker module on a spec file."""
    return [sys.executable, "-m", "mmm_bench.worker", str(spec_file)]


def worker_env(chains: int) -> dict[str, str]:
    """The child's environment: ``mmm_bench`` importable, one XLA device per chain."""
    env = os.environ.copy()
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCHMARKS_DIR), path) if p)
    # One XLA host device per chain, so NumPyro runs the chains in parallel.
    flag = f"--xla_force_host_platform_device_count={chains}"
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    return env


def launch(spec: RunSpec, cache_dir: Path, timeout: float | None) -> dict[str, Any]:
    """Run one spec in a fresh Python process; return what the parent saw."""
    out = spec.result_path(cache_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # a refit (--fresh) must not leave the old result
    spec_file = out.with_suffix(".spec.json")
    log_file = out.with_suffix(".log")
    spec_file.write_text(
        json.dumps({"spec": asdict(spec), "result_path": str(out)}, indent=1)
    )
    env = worker_env(spec.chains)
    command = worker_command(spec_file)
    start = time.perf_counter()
    with log_file.open("w") as log:
        try:
            completed = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout,
                check=False,
            )
            returncode = completed.returncode
        except subprocess.TimeoutExpired:
            returncode = -1
    seconds = time.perf_counter() - start
    ok = returncode == 0 and out.exists()
    if ok:
        spec_file.unlink(missing_ok=True)
    return {
        "ok": ok,
        "returncode": returncode,
        "seconds": seconds,
        "log": str(log_file),
    }


def run_all(
    specs: Sequence[RunSpec],
    cache_dir: Path,
    *,
    jobs: int = 1,
    timeout: float | None = None,
    fresh: bool = False,
) -> dict[str, dict[str, Any]]:
    """Run every spec without a cached result; return per-key launch info.

    Specs that share a fit (:meth:`RunSpec.fitted_as`) are fitted once.
    """
    fits = list({fit.key(): fit for fit in (s.fitted_as() for s in specs)}.values())
    todo = [s for s in fits if fresh or not s.result_path(cache_dir).exists()]
    shared = len(specs) - len(fits)
    print(
        f"Runs: {len(specs)} in total"
        + (f" ({shared} reuse the fit of the same data)" if shared else "")
        + f", {len(fits) - len(todo)} cached, {len(todo)} to fit."
    )
    info: dict[str, dict[str, Any]] = {}

    def one(index_spec: tuple[int, RunSpec]) -> None:
        index, spec = index_spec
        outcome = launch(spec, cache_dir, timeout)
        info[spec.key()] = outcome
        line = (
            f"  [{index}/{len(todo)}] {spec.mode} K_true={spec.k_true} "
            f"seed={spec.seed} {spec.model}: "
        )
        if outcome["ok"]:
            result = json.loads(spec.result_path(cache_dir).read_text())
            m = result["metrics"]
            line += (
                f"ok in {outcome['seconds']:.0f} s (fit {m['fit_seconds']:.0f} s, "
                f"divergences {m['divergences']:.0f}, R-hat {m['r_hat_max']:.3f}, "
                f"ESS {m['ess_bulk_min']:.0f})"
            )
            if result["errors"]:
                line += f"; failed steps: {sorted(result['errors'])}"
        else:
            line += (
                f"FAILED (exit {outcome['returncode']}) after "
                f"{outcome['seconds']:.0f} s; see {outcome['log']}"
            )
        print(line, flush=True)

    items = list(enumerate(todo, start=1))
    if jobs <= 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, items))
    return info
