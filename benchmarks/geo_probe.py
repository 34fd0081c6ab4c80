"""Probe of one K = 5 fit on a geo panel: peak memory, per-chain step sizes.

Made the figures in docs/benchmarks.md ("Geo panels", the memory and the
starts) and in docs/speed.md (why K = 5 chains stall at the medium size,
and what Pathfinder starts change).
Run from the repository root, e.g.::

    python benchmarks/geo_probe.py 150                      # jittered starts
    NUTS_KW='{"jitter": false}' python benchmarks/geo_probe.py 150
    XLA_FLAGS=--xla_force_host_platform_device_count=4 \\
        NUTS_KW='{"jitter": false}' python benchmarks/geo_probe.py 300
    python benchmarks/geo_probe.py 150 medium               # growth.py's medium size
    SLOPE_CAP=10 python benchmarks/geo_probe.py 300 medium  # mean slopes <= 10
    INIT=pathfinder python benchmarks/geo_probe.py 300 medium         # seed 0
    INIT=pathfinder SEED=1 python benchmarks/geo_probe.py 300 medium
    INIT=jitter python benchmarks/geo_probe.py 300 medium   # same route, PyMC's starts

Arguments: warmup = draws per chain, then the panel: K_true of the geo tier's
10-geo data (default 2) or ``medium`` (PyMC Labs' medium size of
``benchmarks/growth.py``: 156 weeks, 8 geos, 8 channels, default priors,
``LaggedGeometricAdstock``; ``SLOPE_CAP`` truncates the prior of each
channel's mean slope above at that slope). ``NUTS_KW`` is JSON passed as
``nuts_sampler_kwargs``; ``XLA_FLAGS`` with 4 host devices runs the 4 chains
in parallel (without it, one after the other). ``INIT=pathfinder`` starts
each chain at its own draw of a multi-path Pathfinder approximation
(``pymc_extras.fit_pathfinder``) instead of PyMC's initial point, and samples
with NumPyro on PyMC's JAX log density (see ``sample_from_starts``);
``INIT_CACHE=FILE`` keeps those starts for the next probe of the same panel.
``INIT=jitter`` runs the same NumPyro route from PyMC's default (jittered)
starts, for a comparison on equal terms.
``SEED`` (default 0) seeds the sampler and Pathfinder.

Besides time, memory and each chain's step size, the probe prints where a
chain whose step size is far below the others' sits: the posterior
coordinates whose chain mean lies furthest from the other chains' (in units
of their spread).
"""

import json
import os
import pickle
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
    from pymc_extras.prior import Prior

    from pmm_mixture import MixtureHillSaturation
    from pmm_mixture.priors import PooledSlope

    size = growth.LABS["medium"]
    data, X, y = growth.make_data(size)
    saturation = None
    if slope_cap is not None:
        log_mu = Prior(
            "TruncatedNormal",
            mu=float(np.log(1.5)),
            sigma=0.35,
            upper=float(np.log(slope_cap)),
        )
        saturation = MixtureHillSaturation(
            n_components=5, priors={"slope": PooledSlope(log_mu=log_mu)}
        )
    mmm = growth.make_mmm(size, "mixture_k5", data, "lags", saturation=saturation)
    return mmm, X, y


def pathfinder_initvals(model, chains: int, seed: int = 0) -> list[dict]:
    """One start per chain: distinct draws of a multi-path Pathfinder fit."""
    import pymc_extras as pmx

    start = time.time()
    approx = pmx.fit_pathfinder(
        model=model,
        random_seed=seed,
        progressbar=False,
        parallel=False,
        vectorize_logp=False,  # PyTensor cannot vectorize xtensor graphs here
        vectorize_postprocessing=False,
    )
    posterior = approx["posterior"]
    picks = np.random.default_rng(seed).choice(
        posterior.sizes["draw"], size=chains, replace=False
    )
    names = [rv.name for rv in model.free_RVs]
    print(f"pathfinder {time.time() - start:.0f} s", flush=True)
    return [
        {name: posterior[name].isel(chain=0, draw=int(i)).values for name in names}
        for i in picks
    ]


def unconstrained_starts(model, points: list[dict]) -> list[np.ndarray]:
    """``points`` (one dict of constrained values per chain) on the sampler's scale.

    One array per value variable, chains first, in ``model.value_vars`` order:
    the ``init_params`` of a NumPyro NUTS run on PyMC's JAX log density.
    """
    import pytensor.tensor as pt
    from pytensor.xtensor import as_xtensor
    from pytensor.xtensor.type import XTensorType

    starts = []
    for value_var in model.value_vars:
        rv = model.values_to_rvs[value_var]
        transform = model.rvs_to_transforms.get(rv)
        per_chain = []
        for point in points:
            value = np.asarray(point[rv.name], dtype=value_var.dtype)
            if transform is not None:
                labelled = isinstance(rv.type, XTensorType)
                symbolic = (
                    as_xtensor(value, dims=rv.type.dims)
                    if labelled
                    else pt.as_tensor(value)
                )
                forward = transform.forward(symbolic, *rv.owner.inputs)
                value = (forward.values if labelled else forward).eval()
            per_chain.append(np.asarray(value, dtype=value_var.dtype))
        starts.append(np.stack(per_chain))
    return starts


def jittered_starts(model, chains: int, seed: int = 0) -> list[np.ndarray]:
    """PyMC's default starts (initial point, U(-1, 1) jitter on the sampler's scale).

    Same layout as :func:`unconstrained_starts`.
    """
    from pymc.initial_point import make_initial_point_fns_per_chain

    functions = make_initial_point_fns_per_chain(
        model=model, overrides=None, jitter_rvs=set(model.free_RVs), chains=chains
    )
    seeds = np.random.default_rng(seed).integers(2**30, size=chains)
    points = [f(int(s)) for f, s in zip(functions, seeds, strict=True)]
    return [np.stack([p[v.name] for p in points]) for v in model.value_vars]


def sample_from_starts(model, starts: list[np.ndarray], draws: int, seed: int = 0):
    """NumPyro NUTS on PyMC's JAX log density, chains started at ``starts``.

    What ``pm.sample(nuts_sampler="numpyro", initvals=...)`` would run, were
    numeric ``initvals`` accepted for transformed labelled (``pymc.dims``)
    variables: PyMC 6.3 raises a ``TypeError`` for them. Chains one after the
    other, target_accept 0.95; prints the warmup's time and steps. Returns
    ``(draws, stats)``: the draws on the sampler's scale as an
    ``xarray.Dataset`` named by value variable, dims (chain, draw, ...), and
    NumPyro's extra fields under PyMC's ``sample_stats`` names (``n_steps``,
    ``step_size``, ``diverging``), as :func:`report` reads them.
    """
    import jax
    import xarray as xr
    from numpyro.infer import MCMC, NUTS
    from pymc.sampling.jax import get_jaxified_logp

    # negative_logp=False gives minus the log density: NumPyro's potential.
    potential = get_jaxified_logp(model, negative_logp=False)
    mcmc = MCMC(
        NUTS(potential_fn=potential, target_accept_prob=0.95),
        num_warmup=draws,
        num_samples=draws,
        num_chains=len(starts[0]),
        chain_method="sequential",
        progress_bar=False,
    )
    keys = jax.random.split(jax.random.PRNGKey(seed), len(starts[0]))
    start = time.time()
    mcmc.warmup(
        keys, init_params=starts, extra_fields=("num_steps",), collect_warmup=True
    )
    warmup_steps = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["num_steps"])
    print(
        f"warmup {time.time() - start:.0f} s, steps per draw by chain",
        warmup_steps.mean(1).round(0),
        flush=True,
    )
    mcmc.run(
        mcmc.post_warmup_state.rng_key,
        extra_fields=("num_steps", "adapt_state.step_size", "diverging"),
    )
    samples = mcmc.get_samples(group_by_chain=True)
    draws_ds = xr.Dataset(
        {
            value_var.name: (
                [
                    "chain",
                    "draw",
                    *[f"{value_var.name}_{i}" for i in range(x.ndim - 2)],
                ],
                np.asarray(x),
            )
            for value_var, x in zip(model.value_vars, samples, strict=True)
        }
    )
    fields = mcmc.get_extra_fields(group_by_chain=True)
    stats = {
        "n_steps": np.asarray(fields["num_steps"]),
        "step_size": np.asarray(fields["adapt_state.step_size"]),
        "diverging": np.asarray(fields["diverging"]),
    }
    return draws_ds, stats


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
    seed = int(os.environ.get("SEED", "0"))
    threading.Thread(target=watch_memory, daemon=True).start()
    start = time.time()
    init = os.environ.get("INIT")
    if init in ("pathfinder", "jitter"):
        from pymc.model.transform.optimization import freeze_dims_and_data

        mmm.build_model(X, y)
        # Dims and data as constants: JAX needs static shapes.
        model = freeze_dims_and_data(mmm.model)
        saved = os.environ.get("INIT_CACHE")
        if init == "jitter":
            starts = jittered_starts(model, chains=4, seed=seed)
        else:
            if saved and Path(saved).is_file():  # an earlier probe's starts
                points = pickle.loads(Path(saved).read_bytes())
            else:
                points = pathfinder_initvals(model, chains=4, seed=seed)
                if saved:
                    Path(saved).write_bytes(pickle.dumps(points))
            starts = unconstrained_starts(model, points)
        fit_start = time.time()
        posterior, stats = sample_from_starts(model, starts, draws, seed=seed)
        sampling = time.time() - fit_start
        print(f"fit {time.time() - start:.0f} s (sampling {sampling:.0f} s)")
        print(f"peak {peak_mb():.0f} MB")
        report(posterior, stats)
        return
    mmm.fit(
        X,
        y,
        nuts_sampler="numpyro",
        chains=4,
        tune=draws,
        draws=draws,
        target_accept=0.95,
        random_seed=seed,
        progressbar=False,
        compute_convergence_checks=False,
        nuts_sampler_kwargs=json.loads(os.environ.get("NUTS_KW", "{}")),
    )
    print(f"fit {time.time() - start:.0f} s, peak {peak_mb():.0f} MB")
    report(mmm.idata.posterior, mmm.idata.sample_stats)


def report(posterior, stats) -> None:
    """Print each chain's step size, steps, divergences; where slow chains sit.

    ``stats``: ``n_steps``, ``step_size`` and ``diverging`` by (chain, draw),
    as in PyMC's ``sample_stats``.
    """
    import arviz as az

    step_size = np.asarray(stats["step_size"])[:, 0]
    print("steps per draw by chain", np.asarray(stats["n_steps"]).mean(1).round(0))
    print("step size by chain", step_size)
    print("divergences by chain", np.asarray(stats["diverging"]).sum(1))
    rhat = az.rhat(posterior, sample_dims=["chain", "draw"])
    print("largest R-hat", {k: round(float(v.max()), 3) for k, v in rhat.items()})
    if "saturation_weights_sigma" in posterior:
        sigma = posterior["saturation_weights_sigma"].mean("draw").values
        print("geo-share spread (weights_sigma) by chain", sigma.round(3))
    slow = step_size < SLOW_STEP * step_size.max()
    if slow.any():
        print(f"slow chains {np.flatnonzero(slow).tolist()}; where they sit:")
        print("\n".join(far_coordinates(posterior, slow)))


if __name__ == "__main__":
    main()
