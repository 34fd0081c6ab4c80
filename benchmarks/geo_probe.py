"""Probe of one K = 5 fit on a geo panel: peak memory, per-chain step sizes.

Made the figures in docs/benchmarks.md ("Geo panels", the memory and the
starts) and in docs/speed.md (why K = 5 chains stall at the medium size).
Run from the repository root, e.g.::

    python benchmarks/geo_probe.py 150                      # jittered starts
    NUTS_KW='{"jitter": false}' python benchmarks/geo_probe.py 150
    XLA_FLAGS=--xla_force_host_platform_device_count=4 \\
        NUTS_KW='{"jitter": false}' python benchmarks/geo_probe.py 300
    python benchmarks/geo_probe.py 150 medium               # growth.py's medium size
    SLOPE_CAP=10 python benchmarks/geo_probe.py 300 medium  # mean slopes <= 10

Arguments: warmup = draws per chain, then the panel: K_true of the geo tier's
10-geo data (default 2) or ``medium`` (PyMC Labs' medium size of
``benchmarks/growth.py``: 156 weeks, 8 geos, 8 channels, default priors,
``LaggedGeometricAdstock``; ``SLOPE_CAP`` truncates the prior of each
channel's mean slope above at that slope). ``NUTS_KW`` is JSON passed as
``nuts_sampler_kwargs``; ``XLA_FLAGS`` with 4 host devices runs the 4 chains
in parallel (without it, one after the other).

Besides time, memory and each chain's step size, the probe prints where a
chain whose step size is far below the others' sits: the posterior
coordinates whose chain mean lies furthest from the other chains' (in units
of their spread).
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

#: A chain counts as slow when its step size is below this fraction of the
#: largest chain's.
SLOW_STEP = 0.25


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


def geo_tier_model(draws: int, k_true: str):
    """The geo tier's K = 5 fit (10 geos, pooled weights): ``(mmm, X, y)``."""
    from mmm_bench import cli, worker
    from mmm_bench import specs as sp

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
    return mmm, X_train, y_train


def medium_model(slope_cap: float | None = None):
    """growth.py's medium-size K = 5 fit, as ``growth.py fit`` builds it.

    ``slope_cap``: truncate the prior of each channel's mean slope
    (``PooledSlope``'s ``log_mu``, default ``Normal(log 1.5, 0.35)``) above
    at this slope; ``None``: the default priors.
    """
    os.environ.setdefault("XLA_FLAGS", "")  # growth.py would ask for 4 devices
    import growth
    from mmm_bench.panel import build_geo_mmm
    from pymc_extras.prior import Prior

    from pmm_mixture import MixtureHillSaturation
    from pmm_mixture.priors import PooledSlope

    size = growth.LABS["medium"]
    data, X, y = growth.make_data(size)
    if slope_cap is None:
        return growth.make_mmm(size, "mixture_k5", data, "lags"), X, y
    log_mu = Prior(
        "TruncatedNormal",
        mu=float(np.log(1.5)),
        sigma=0.35,
        upper=float(np.log(slope_cap)),
    )
    saturation = MixtureHillSaturation(
        n_components=5, priors={"slope": PooledSlope(log_mu=log_mu)}
    )
    adstock = growth.make_adstock("lags", growth.L_MAX)
    return build_geo_mmm(data, saturation, adstock=adstock), X, y


def far_coordinates(posterior, slow: np.ndarray, n: int = 12) -> list[str]:
    """Coordinates whose mean in the slow chains lies furthest from the rest.

    Distance: |mean over the slow chains - mean over the others| divided by
    the standard deviation of the other chains' draws.
    """
    rows = []
    for name, values in posterior.data_vars.items():
        n_chains, n_draws = values.shape[:2]  # posterior dims start (chain, draw)
        draws = np.asarray(values).reshape(n_chains, n_draws, -1)
        others = draws[~slow]
        spread = others.reshape(-1, draws.shape[-1]).std(axis=0)
        distance = np.abs(draws[slow].mean((0, 1)) - others.mean((0, 1)))
        distance = distance / np.where(spread > 0, spread, np.inf)
        labels = list(np.ndindex(*values.shape[2:])) or [()]
        for i in np.argsort(distance)[::-1][:2]:
            rows.append(
                (
                    float(distance[i]),
                    f"{name}{list(labels[i])}: slow {draws[slow][..., i].mean():.4g}, "
                    f"others {others[..., i].mean():.4g} (sd {spread[i]:.3g})",
                )
            )
    return [f"{d:8.1f} sd  {text}" for d, text in sorted(rows, reverse=True)[:n]]


def main() -> None:
    draws = int(sys.argv[1])
    panel = sys.argv[2] if len(sys.argv) > 2 else "2"
    if panel == "medium":
        cap = os.environ.get("SLOPE_CAP")
        mmm, X, y = medium_model(float(cap) if cap else None)
    else:
        mmm, X, y = geo_tier_model(draws, panel)
    threading.Thread(target=watch_memory, daemon=True).start()
    start = time.time()
    mmm.fit(
        X,
        y,
        nuts_sampler="numpyro",
        chains=4,
        tune=draws,
        draws=draws,
        target_accept=0.95,
        random_seed=0,
        progressbar=False,
        compute_convergence_checks=False,
        nuts_sampler_kwargs=json.loads(os.environ.get("NUTS_KW", "{}")),
    )
    print(f"fit {time.time() - start:.0f} s, peak {peak_mb():.0f} MB")
    stats = mmm.idata.sample_stats
    step_size = np.asarray(stats["step_size"])[:, 0]
    print("steps per draw by chain", np.asarray(stats["n_steps"]).mean(1).round(0))
    print("step size by chain", step_size)
    print("divergences by chain", np.asarray(stats["diverging"]).sum(1))
    posterior = mmm.idata.posterior
    if "saturation_weights_sigma" in posterior:
        sigma = posterior["saturation_weights_sigma"].mean("draw").values
        print("geo-share spread (weights_sigma) by chain", sigma.round(3))
    slow = step_size < SLOW_STEP * step_size.max()
    if slow.any():
        print(f"slow chains {np.flatnonzero(slow).tolist()}; where they sit:")
        print("\n".join(far_coordinates(posterior, slow)))


if __name__ == "__main__":
    main()
