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
    INIT=pathfinder MASS=pathfinder python benchmarks/geo_probe.py 300 medium
    CHAIN_METHOD=processes INIT=pathfinder MASS=pathfinder \\
        python benchmarks/geo_probe.py 300 medium
    CHAIN_METHOD=processes INIT=pathfinder MASS=pathfinder WARMUP=300 \\
        python benchmarks/geo_probe.py 1000 medium  # 4 x (300 + 1,000)
    CHAIN_METHOD=processes INIT=pathfinder MASS=pathfinder WARMUP=150 \\
        python benchmarks/geo_probe.py 1000 medium  # stopped, see results
    CHAIN_METHOD=processes INIT=pathfinder MASS=pathfinder SLOPE_BOUND=10 \\
        python benchmarks/geo_probe.py 300 medium  # slopes held below 10
    CHAIN_METHOD=processes INIT=jitter WARMUP=300 SLOPE_BOUND=10 \\
        python benchmarks/geo_probe.py 300 medium  # the bound, PyMC's starts
    python benchmarks/geo_probe.py compare A.nc B.nc  # two DRAWS_OUT files

Arguments: draws per chain (also the warmup unless ``WARMUP`` says), then the
panel: K_true of the geo tier's 10-geo data (default 2) or ``medium`` (PyMC
Labs' medium size of ``benchmarks/growth.py``: 156 weeks, 8 geos, 8 channels,
default priors, ``LaggedGeometricAdstock``; ``SLOPE_CAP`` truncates the prior
of each channel's mean slope above at that slope, ``SLOPE_BOUND`` holds every
component's slope below it). ``NUTS_KW`` is JSON passed
as ``nuts_sampler_kwargs``; ``XLA_FLAGS`` with 4 host devices runs the 4
chains in parallel (without it, one after the other). ``INIT=pathfinder``
starts each chain at its own draw of a multi-path Pathfinder approximation
(``pymc_extras.fit_pathfinder``) instead of PyMC's initial point, and samples
with NumPyro on PyMC's JAX log density (see ``sample_from_starts``);
``INIT_CACHE=FILE`` keeps those starts for the next probe of the same panel.
``INIT=jitter`` runs the same NumPyro route from PyMC's default (jittered)
starts, for a comparison on equal terms. On that route, ``MASS=pathfinder``
starts NUTS's diagonal mass matrix at the Pathfinder draws' variance (instead
of the identity; still adapted), ``WARMUP`` sets the warmup draws apart from
the draws, ``CHAIN_METHOD=processes`` runs the chains in two processes (two
chains each, one after the other), and ``CHAIN_METHOD=parallel`` with
``XLA_FLAGS`` as above runs them side by side in NumPyro. ``SEED`` (default 0)
seeds the sampler and Pathfinder; ``DRAWS_OUT=FILE`` writes that route's draws
and per-draw stats to a netCDF file; ``compare`` prints how far the
label-invariant posterior means of two such files lie apart
(:func:`posterior_shift`).

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

#: Name prefixes of the parameters that do not depend on how the mixture
#: labels its components (on either scale: ``saturation_beta`` or
#: ``saturation_beta_log__``).
LABEL_INVARIANT = (
    "saturation_beta",
    "adstock_alpha",
    "intercept_contribution",
    "y_sigma",
    "gamma_",
)


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


def bounded_pooled_slope(bound: float, sharpness: float = 4.0, **priors):
    """``PooledSlope`` whose every component's slope stays below ``bound``.

    The pooled log-slope ``a`` (mean plus spread times offset, as in
    ``PooledSlope``) passes through a smooth minimum with ``log(bound)``:
    ``a - softplus(sharpness * (a - log bound)) / sharpness``. Slopes well
    below the bound are unchanged (slope 4 under bound 10 becomes 3.98),
    slopes above it level off at the bound. Probe only: it tries whether
    removing the near-step curves (slopes in the hundreds, reached through
    the per-component offsets) changes the warmup's cost. ``priors``: passed
    to ``PooledSlope`` (``log_mu``, ``log_sigma``).
    """
    import pymc.dims as pmd
    import pytensor.xtensor as ptx

    from pmm_mixture.priors import PooledSlope

    class BoundedPooledSlope(PooledSlope):
        def _build(self, name, n_components):
            unbounded = super()._build(f"{name}_unbounded", n_components)
            log_slope = ptx.math.log(unbounded)
            excess = ptx.math.softplus(sharpness * (log_slope - np.log(bound)))
            slope = ptx.math.exp(log_slope - excess / sharpness)
            return pmd.Deterministic(name, slope, dims=self.dims)

    return BoundedPooledSlope(**priors)


def medium_model(slope_cap: float | None = None, slope_bound: float | None = None):
    """growth.py's medium-size K = 5 fit, as ``growth.py fit`` builds it.

    ``slope_cap``: truncate the prior of each channel's mean slope
    (``PooledSlope``'s ``log_mu``, default ``Normal(log 1.5, 0.35)``) above
    at this slope; ``slope_bound``: hold every component's slope below it
    (:func:`bounded_pooled_slope`); given both, both apply; ``None``: the
    default priors.
    """
    os.environ.setdefault("XLA_FLAGS", "")  # growth.py would ask for 4 devices
    import growth
    from pymc_extras.prior import Prior

    from pmm_mixture import MixtureHillSaturation
    from pmm_mixture.priors import PooledSlope

    size = growth.LABS["medium"]
    data, X, y = growth.make_data(size)
    saturation = None
    slope_priors = {}
    if slope_cap is not None:
        slope_priors["log_mu"] = Prior(
            "TruncatedNormal",
            mu=float(np.log(1.5)),
            sigma=0.35,
            upper=float(np.log(slope_cap)),
        )
    if slope_cap is not None or slope_bound is not None:  # both: both apply
        slope = (
            PooledSlope(**slope_priors)
            if slope_bound is None
            else bounded_pooled_slope(slope_bound, **slope_priors)
        )
        saturation = MixtureHillSaturation(n_components=5, priors={"slope": slope})
    mmm = growth.make_mmm(size, "mixture_k5", data, "lags", saturation=saturation)
    return mmm, X, y


def pathfinder_draws(model, seed: int = 0) -> dict[str, np.ndarray]:
    """Draws of a multi-path Pathfinder fit, by free variable, draws first."""
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
    print(f"pathfinder {time.time() - start:.0f} s", flush=True)
    return {rv.name: posterior[rv.name].isel(chain=0).values for rv in model.free_RVs}


def pathfinder_initvals(
    draws: dict[str, np.ndarray], chains: int, seed: int = 0
) -> list[dict]:
    """One start per chain: distinct draws of :func:`pathfinder_draws`."""
    n_draws = len(next(iter(draws.values())))
    picks = np.random.default_rng(seed).choice(n_draws, size=chains, replace=False)
    return [{name: x[int(i)] for name, x in draws.items()} for i in picks]


def _to_sampler_scale(model, value_var):
    """A function taking a value of ``value_var``'s variable to the sampler's scale."""
    import pytensor
    from pytensor.xtensor.type import XTensorType

    rv = model.values_to_rvs[value_var]
    transform = model.rvs_to_transforms.get(rv)
    if transform is None:
        return lambda value: np.asarray(value, dtype=value_var.dtype)
    x = rv.type()
    forward = transform.forward(x, *rv.owner.inputs)
    if isinstance(rv.type, XTensorType):
        forward = forward.values
    function = pytensor.function([x], forward)
    return lambda value: np.asarray(
        function(np.asarray(value, dtype=rv.dtype)), dtype=value_var.dtype
    )


def unconstrained_starts(model, points: list[dict]) -> list[np.ndarray]:
    """``points`` (one dict of constrained values per chain) on the sampler's scale.

    One array per value variable, chains first, in ``model.value_vars`` order:
    the ``init_params`` of a NumPyro NUTS run on PyMC's JAX log density.
    """
    starts = []
    for value_var in model.value_vars:
        forward = _to_sampler_scale(model, value_var)
        name = model.values_to_rvs[value_var].name
        starts.append(np.stack([forward(point[name]) for point in points]))
    return starts


def inverse_mass_diagonal(model, draws: dict[str, np.ndarray]) -> np.ndarray:
    """Variance of ``draws`` on the sampler's scale, flat as NumPyro orders it.

    ``draws``: constrained values by free variable, draws first (as from
    :func:`pathfinder_draws`). The order is that of ``init_params`` from
    :func:`unconstrained_starts` raveled and joined: a diagonal inverse mass
    matrix for NUTS on PyMC's JAX log density.
    """
    n_draws = len(next(iter(draws.values())))
    points = [{name: x[i] for name, x in draws.items()} for i in range(n_draws)]
    return np.concatenate(
        [
            x.reshape(n_draws, -1).var(axis=0)
            for x in unconstrained_starts(model, points)
        ]
    )


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


def sample_from_starts(
    model,
    starts: list[np.ndarray],
    draws: int,
    seed: int = 0,
    warmup: int | None = None,
    inverse_mass: np.ndarray | None = None,
    chain_method: str = "sequential",
):
    """NumPyro NUTS on PyMC's JAX log density, chains started at ``starts``.

    What ``pm.sample(nuts_sampler="numpyro", initvals=...)`` would run, were
    numeric ``initvals`` accepted for transformed labelled (``pymc.dims``)
    variables: PyMC 6.3 raises a ``TypeError`` for them. target_accept 0.95,
    ``warmup`` warmup draws (default ``draws``); ``inverse_mass``: NUTS's
    initial diagonal inverse mass matrix (default identity), adapted from
    there; ``chain_method``: NumPyro's (``"parallel"`` needs a host device
    per chain, see ``XLA_FLAGS`` above). Prints the warmup's time and steps.
    Returns
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
        NUTS(
            potential_fn=potential,
            target_accept_prob=0.95,
            inverse_mass_matrix=inverse_mass,
        ),
        num_warmup=draws if warmup is None else warmup,
        num_samples=draws,
        num_chains=len(starts[0]),
        chain_method=chain_method,
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


def posterior_shift(a, b) -> dict[str, float]:
    """Largest shift of a label-invariant posterior mean between two runs.

    ``a``, ``b``: draws of two probes of the same panel (``DRAWS_OUT``
    files, sampler-scale value variables). For each parameter in
    :data:`LABEL_INVARIANT` that both hold, the largest difference of
    posterior means over its coordinates, in units of the two runs' pooled
    posterior sd (a coordinate constant in both runs counts as no shift, as
    in :func:`far_coordinates`).
    """
    shifts = {}
    for name in a.data_vars:
        if not name.startswith(LABEL_INVARIANT) or name not in b:
            continue
        x, y = a[name].values, b[name].values
        flat = [v.reshape(-1, *v.shape[2:]) for v in (x, y)]
        sd = np.sqrt((flat[0].var(0) + flat[1].var(0)) / 2)
        shift = np.abs(flat[0].mean(0) - flat[1].mean(0))
        shifts[name] = float((shift / np.where(sd > 0, sd, np.inf)).max())
    return shifts


def probe_model(panel: str, draws: int):
    """The panel named on the command line: ``(mmm, X, y)``."""
    if panel == "medium":
        cap, bound = os.environ.get("SLOPE_CAP"), os.environ.get("SLOPE_BOUND")
        return medium_model(
            float(cap) if cap else None, float(bound) if bound else None
        )
    return geo_tier_model(draws, panel)


def frozen_model(mmm, X, y):
    """The MMM's PyMC model, dims and data as constants: JAX needs static shapes."""
    from pymc.model.transform.optimization import freeze_dims_and_data

    mmm.build_model(X, y)
    return freeze_dims_and_data(mmm.model)


def _chains_in_this_process(panel, draws, starts, seed, warmup, inverse_mass):
    """One worker's share of :func:`sample_in_processes`: rebuild, then sample."""
    model = frozen_model(*probe_model(panel, draws))
    result = sample_from_starts(
        model, starts, draws, seed=seed, warmup=warmup, inverse_mass=inverse_mass
    )
    print(f"worker peak {peak_mb():.0f} MB", flush=True)
    return result


def sample_in_processes(
    panel: str,
    starts: list[np.ndarray],
    draws: int,
    seed: int = 0,
    warmup: int | None = None,
    inverse_mass: np.ndarray | None = None,
    workers: int = 2,
):
    """:func:`sample_from_starts` with the chains split over ``workers`` processes.

    Each process rebuilds the panel's model and runs its chains one after the
    other (as PyMC runs its own NUTS: a process per chain). NumPyro's parallel
    chains on CPU host devices were the alternative; their memory grew by
    about 33 MB a second on the medium size until they had to be stopped.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import xarray as xr

    shares = np.array_split(np.arange(len(starts[0])), workers)
    with ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        futures = [
            pool.submit(
                _chains_in_this_process,
                panel,
                draws,
                [x[share] for x in starts],
                seed * workers + i,
                warmup,
                inverse_mass,
            )
            for i, share in enumerate(shares)
        ]
        results = [future.result() for future in futures]
    posterior = xr.concat([draws_ds for draws_ds, _ in results], dim="chain")
    stats = {
        name: np.concatenate([fields[name] for _, fields in results])
        for name in results[0][1]
    }
    return posterior, stats


def main() -> None:
    if sys.argv[1] == "compare":  # two DRAWS_OUT files
        import xarray as xr

        a, b = (xr.open_dataset(path) for path in sys.argv[2:4])
        for name, shift in posterior_shift(a, b).items():
            print(f"{name}: largest shift of a posterior mean {shift:.2f} sd")
        return
    draws = int(sys.argv[1])
    panel = sys.argv[2] if len(sys.argv) > 2 else "2"
    mmm, X, y = probe_model(panel, draws)
    seed = int(os.environ.get("SEED", "0"))
    threading.Thread(target=watch_memory, daemon=True).start()
    start = time.time()
    init = os.environ.get("INIT")
    if init in ("pathfinder", "jitter"):
        model = frozen_model(mmm, X, y)
        saved = os.environ.get("INIT_CACHE")
        inverse_mass = None
        if init == "jitter":
            starts = jittered_starts(model, chains=4, seed=seed)
        else:
            if saved and Path(saved).is_file():  # an earlier probe's draws
                approx = pickle.loads(Path(saved).read_bytes())
            else:
                approx = pathfinder_draws(model, seed=seed)
                if saved:
                    Path(saved).write_bytes(pickle.dumps(approx))
            starts = unconstrained_starts(
                model, pathfinder_initvals(approx, chains=4, seed=seed)
            )
            if os.environ.get("MASS") == "pathfinder":
                inverse_mass = inverse_mass_diagonal(model, approx)
        warmup = int(os.environ["WARMUP"]) if os.environ.get("WARMUP") else None
        chain_method = os.environ.get("CHAIN_METHOD", "sequential")
        fit_start = time.time()
        if chain_method == "processes":
            posterior, stats = sample_in_processes(
                panel, starts, draws, seed, warmup, inverse_mass
            )
        else:
            posterior, stats = sample_from_starts(
                model,
                starts,
                draws,
                seed=seed,
                warmup=warmup,
                inverse_mass=inverse_mass,
                chain_method=chain_method,
            )
        sampling = time.time() - fit_start
        print(f"fit {time.time() - start:.0f} s (sampling {sampling:.0f} s)")
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak {peak_mb():.0f} MB (largest worker process {children:.0f} MB)")
        report(posterior, stats, sampling)
        if os.environ.get("DRAWS_OUT"):  # for a look at one chain afterwards
            posterior.assign(
                {name: (("chain", "draw"), x) for name, x in stats.items()}
            ).to_netcdf(os.environ["DRAWS_OUT"])
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
    report(
        mmm.idata.posterior,
        mmm.idata.sample_stats,
        mmm.idata.posterior.attrs.get("sampling_time"),
    )


def report(posterior, stats, sampling_seconds: float | None = None) -> None:
    """Print each chain's step size, steps, divergences; where slow chains sit.

    ``stats``: ``n_steps``, ``step_size`` and ``diverging`` by (chain, draw),
    as in PyMC's ``sample_stats``. Also the lowest bulk ESS of the
    label-invariant parameters (:data:`LABEL_INVARIANT`) and, given the
    sampling time (warmup and draws), the time to 1,000 bulk ESS as
    ``growth.py`` defines it.
    """
    import arviz as az

    step_size = np.asarray(stats["step_size"])[:, 0]
    print("steps per draw by chain", np.asarray(stats["n_steps"]).mean(1).round(0))
    print("step size by chain", step_size)
    print("divergences by chain", np.asarray(stats["diverging"]).sum(1))
    rhat = az.rhat(posterior, sample_dims=["chain", "draw"])
    print("largest R-hat", {k: round(float(v.max()), 3) for k, v in rhat.items()})
    invariant = [
        name for name in posterior.data_vars if name.startswith(LABEL_INVARIANT)
    ]
    if invariant:
        ess = az.ess(posterior[invariant], method="bulk")
        lowest = min(float(ess[name].min()) for name in invariant)
        print("lowest bulk ESS", {k: round(float(v.min())) for k, v in ess.items()})
        if sampling_seconds is not None:
            print(f"time to 1,000 bulk ESS {sampling_seconds * 1000 / lowest:.0f} s")
    if "saturation_weights_sigma" in posterior:
        sigma = posterior["saturation_weights_sigma"].mean("draw").values
        print("geo-share spread (weights_sigma) by chain", sigma.round(3))
    slow = step_size < SLOW_STEP * step_size.max()
    if slow.any():
        print(f"slow chains {np.flatnonzero(slow).tolist()}; where they sit:")
        print("\n".join(far_coordinates(posterior, slow)))


if __name__ == "__main__":
    main()
