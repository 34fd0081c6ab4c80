"""Probe of one geo-tier K = 5 fit: peak memory over time, per-chain step sizes.

Made the figures in docs/benchmarks.md ("Geo panels", the memory and the
starts). Run from the repository root, e.g.::

    python benchmarks/geo_probe.py 150                      # jittered starts
    NUTS_KW='{"jitter": false}' python benchmarks/geo_probe.py 150
    XLA_FLAGS=--xla_force_host_platform_device_count=4 \\
        NUTS_KW='{"jitter": false}' python benchmarks/geo_probe.py 300

Arguments: warmup = draws per chain, then K_true (default 2). ``NUTS_KW`` is
JSON passed as ``nuts_sampler_kwargs``; ``XLA_FLAGS`` with 4 host devices
runs the 4 chains in parallel (without it, one after the other).
"""

import json
import os
import resource
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mmm_bench import cli, worker
from mmm_bench import specs as sp


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def watch_memory(step_mb: float = 300.0) -> None:
    """Print the peak resident memory each time it grows by ``step_mb``."""
    start, last = time.time(), 0.0
    while True:
        if peak_mb() > last + step_mb:
            last = peak_mb()
            print(f"t={time.time() - start:.0f}s peak {last:.0f} MB", flush=True)
        time.sleep(2)


def main() -> None:
    draws = int(sys.argv[1])
    k_true = sys.argv[2] if len(sys.argv) > 2 else "2"
    argv = ["--tier", "geo", "--n-geos", "10", "--seeds", "0", "--k-true", k_true]
    argv += ["--only-model", "mixture_k5", "--target-accept", "0.95"]
    args = cli.parse_args([*argv, "--mixture-step-size", "per_chain"])
    (spec,) = sp.build_specs(
        args.tier,
        cli.resolve_tier(args),
        ["mixture_k5"],
        cli.parse_priors(args),
        cli.parse_model_settings(args),
    )
    spec = replace(spec, chains=4, tune=draws, draws=draws)
    data, X_train, y_train, _, _ = worker.prepare_data(spec)
    mmm, _ = worker.build_run_model(spec, data, X_train, y_train)
    threading.Thread(target=watch_memory, daemon=True).start()
    start = time.time()
    mmm.fit(
        X_train,
        y_train,
        nuts_sampler="numpyro",
        chains=4,
        tune=draws,
        draws=draws,
        target_accept=0.95,
        random_seed=0,
        progressbar=False,
        nuts_sampler_kwargs=json.loads(os.environ.get("NUTS_KW", "{}")),
    )
    print(f"fit {time.time() - start:.0f} s, peak {peak_mb():.0f} MB")
    stats = mmm.idata.sample_stats
    print("steps per draw by chain", np.asarray(stats["n_steps"]).mean(1).round(0))
    print("step size by chain", np.asarray(stats["step_size"])[:, 0])
    print("divergences by chain", np.asarray(stats["diverging"]).sum(1))
    sigma = mmm.idata.posterior["saturation_weights_sigma"].mean("draw").values
    print("geo-share spread (weights_sigma) by chain", sigma.round(3))


if __name__ == "__main__":
    main()
