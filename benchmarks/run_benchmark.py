"""Benchmark: one Hill curve against mixtures of Hill curves, on known truth.

Fits PyMC-Marketing's ``HillSaturation`` (one curve), ``LogisticSaturation``,
``MixtureHillSaturation(n_components=3)`` and the sparse
``MixtureHillSaturation(n_components=5)`` on the same synthetic data
(``pmm_mixture.synthetic.make_mixture_mmm_data``) with the same draws and the
same random seed, and reports per cell (mode x K_true) the mean and spread over
seeds of: ELPD-LOO and its difference to the Hill model, test-period CRPS,
interval coverage and RMSE, curve and contribution recovery, effective number
of components, budget regret, sampling health and cost.

Each (cell, seed, model) fit runs in its own subprocess and writes one JSON
file into the cache; finished files are skipped on a rerun, so an interrupted
run resumes where it stopped.

Usage::

    python benchmarks/run_benchmark.py --tier quick
    python benchmarks/run_benchmark.py --tier full --cache-dir benchmarks/cache \
        --out benchmarks/results

Run ``python benchmarks/run_benchmark.py --help`` for all options.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------
SCHEMA_VERSION = 1
"""Bump when the content of a result file changes, to invalidate the cache."""

MODELS: dict[str, dict[str, Any]] = {
    "hill": {"label": "HillSaturation", "n_components": None},
    "logistic": {"label": "LogisticSaturation", "n_components": None},
    "mixture_k3": {"label": "MixtureHill K=3", "n_components": 3},
    "mixture_k5": {"label": "MixtureHill K=5 (sparse)", "n_components": 5},
}
REFERENCE_MODEL = "hill"
TARGET_MODEL = "mixture_k5"
MODES = ("aggregate", "latent")

TARGET_ACCEPT = 0.999
# NUTS mass matrix of the mixture models ("diag" or "dense"); Hill and
# Logistic always use numpyro's default, a diagonal one.
MIXTURE_MASS_MATRIX = "diag"
MASS_MATRICES = ("diag", "dense")
#: "per_chain": NumPyro's own adaptation; "min"/"median": one step size for all
#: chains after warmup (pmm_mixture.sampling.common_step_size)
MIXTURE_STEP_SIZE = "min"
STEP_SIZES = ("per_chain", "min", "median")
N_CHANNELS = 3
N_WEEKS = 156
N_TEST = 13
NOISE = 0.02
CURVE_POINTS = 201  # grid on [0, max scaled spend] for curve recovery
DIAGNOSTIC_POINTS = 20  # positive grid points for the label-invariant curve
NUMPYRO_MAX_TREE_DEPTH = 10  # numpyro's default
# Post-processing steps whose cost grows with the number of posterior draws.
DRAW_DEPENDENT_STEPS = ("loo", "diagnostics", "predictive", "curves", "budget")


@dataclass(frozen=True)
class Tier:
    """Cells and sampler settings of a tier."""

    modes: tuple[str, ...]
    k_true: tuple[int, ...]
    seeds: tuple[int, ...]
    chains: int
    tune: int
    draws: int


TIERS: dict[str, Tier] = {
    "quick": Tier(
        modes=("aggregate",), k_true=(1, 2), seeds=(0,), chains=2, tune=200, draws=200
    ),
    "full": Tier(
        modes=MODES,
        k_true=(1, 2, 3, 5),
        seeds=(0, 1, 2, 3, 4),
        chains=4,
        tune=1000,
        draws=2000,
    ),
}

# pmm_mixture modules whose code the results depend on (hashed into each result).
DIGEST_MODULES = (
    "__init__",
    "curves",
    "diagnostics",
    "lift_test",
    "priors",
    "saturation",
    "summary",
    "synthetic",
)

VERSION_PACKAGES = (
    "pymc",
    "pymc-marketing",
    "pytensor",
    "numpyro",
    "jax",
    "jaxlib",
    "arviz",
    "pmm-mixture",
)

# Flat metrics of one run (the keys of ``result["metrics"]``).
METRIC_KEYS = (
    "fit_seconds",
    "compile_seconds",
    "sampling_seconds",
    "post_seconds",
    "total_seconds",
    "peak_rss_fit_mb",
    "peak_rss_mb",
    "divergences",
    "tree_depth_mean",
    "max_tree_depth_frac",
    "elpd_loo",
    "elpd_loo_se",
    "p_loo",
    "pareto_k_max",
    "n_pareto_k_bad",
    "r_hat_max",
    "ess_bulk_min",
    "ess_tail_min",
    "ess_bulk_per_s",
    "test_crps",
    "test_cov50",
    "test_cov90",
    "test_rmse",
    "curve_err_max",
    "curve_err_mean",
    "contrib_rel_rmse",
    "total_contrib_rel_rmse",
    "n_active_mean",
    "n_entropy_mean",
    "n_active_abs_err",
    "regret_pct",
    "regret_historical_pct",
    "budget_weekly",
    "response_recommended",
    "response_optimal",
)
# Metrics added when runs are compared with the Hill model on the same data.
PAIRWISE_KEYS = (
    "elpd_diff_vs_hill",
    "elpd_diff_se_vs_hill",
    "elpd_diff_z_vs_hill",
    "fit_seconds_ratio",
    "sampling_seconds_ratio",
    "ess_bulk_per_s_ratio",
    "peak_rss_fit_ratio",
)


# Default-prior alternatives of the mixture models, set with
# ``--mixture-prior NAME=VALUE`` to try them on the same cells. Hill and
# Logistic fits are unaffected (and their cached results reused).
MIXTURE_PRIOR_OPTIONS: dict[str, str] = {
    "alpha": "StickBreakingWeights(alpha=VALUE)",
    "stick_min_remainder": "StickBreakingWeights(min_remainder=VALUE)",
    "slope_log_sigma": "PooledSlope(log_sigma=Prior('HalfNormal', sigma=VALUE))",
    "slope_median": "PooledSlope(log_mu=Prior('Normal', mu=log(VALUE), sigma=0.35))",
    "slope_log_mu_sigma": (
        "PooledSlope(log_mu=Prior('Normal', mu=log(1.5), sigma=VALUE))"
    ),
    # The three kappa options describe the first kappa's prior together: a
    # Normal without a floor unless kappa_first_floor is given (the default
    # prior is kappa_first_floor=0.04 with the other two at their defaults).
    "kappa_first_sigma": (
        "OrderedKappa(log_first=Prior('Normal', mu=log(0.2), sigma=VALUE), "
        "log_gap=the default for n_components)"
    ),
    "kappa_first_median": (
        "OrderedKappa(log_first=Prior('Normal', mu=log(VALUE), sigma=0.7), "
        "log_gap=the default for n_components)"
    ),
    "kappa_first_floor": (
        "OrderedKappa(log_first=Prior('TruncatedNormal', mu=log(0.2), "
        "sigma=0.7, lower=log(VALUE)), log_gap=the default for n_components)"
    ),
}


def parse_mixture_priors(items: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """``["alpha=0.5", ...]`` as sorted ``(name, value)`` pairs, checked."""
    pairs = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in MIXTURE_PRIOR_OPTIONS:
            raise ValueError(
                f"--mixture-prior takes NAME=VALUE with NAME one of "
                f"{sorted(MIXTURE_PRIOR_OPTIONS)}; got {item!r}."
            )
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not value > 0 or not np.isfinite(value):
            raise ValueError(
                f"--mixture-prior {name} needs a positive number, got {text!r}."
            )
        pairs[name] = value
    return tuple(sorted(pairs.items()))


@dataclass(frozen=True)
class RunSpec:
    """One fit: a model on one data set (mode, K_true, seed) under a tier."""

    tier: str
    mode: str
    k_true: int
    seed: int
    model: str
    chains: int
    tune: int
    draws: int
    target_accept: float = TARGET_ACCEPT
    n_channels: int = N_CHANNELS
    n_weeks: int = N_WEEKS
    n_test: int = N_TEST
    noise: float = NOISE
    mixture_priors: tuple[tuple[str, float], ...] = ()
    mass_matrix: str = "diag"
    step_size: str = "per_chain"

    def __post_init__(self) -> None:
        # from JSON the pairs come back as lists
        pairs = tuple(sorted((str(k), float(v)) for k, v in self.mixture_priors))
        object.__setattr__(self, "mixture_priors", pairs)
        if self.mass_matrix not in MASS_MATRICES:
            raise ValueError(
                f"mass_matrix must be one of {MASS_MATRICES}, got {self.mass_matrix!r}."
            )
        if self.step_size not in STEP_SIZES:
            raise ValueError(
                f"step_size must be one of {STEP_SIZES}, got {self.step_size!r}."
            )

    def settings(self) -> dict[str, Any]:
        """Everything that defines the result except the cell and the model."""
        fields = asdict(self)
        for key in ("tier", "mode", "k_true", "seed", "model"):
            fields.pop(key)
        # absent unless set, so results with the default priors keep their keys
        if self.mixture_priors:
            fields["mixture_priors"] = dict(self.mixture_priors)
        else:
            fields.pop("mixture_priors")
        if self.mass_matrix == "diag":
            fields.pop("mass_matrix")
        if self.step_size == "per_chain":
            fields.pop("step_size")
        return {
            **fields,
            "schema": SCHEMA_VERSION,
            "model_spec": MODELS[self.model],
            "versions": package_versions(),
        }

    def reference(self) -> RunSpec:
        """The Hill run on the same data, with the options Hill is fitted with.

        The mixture-only options (priors, mass matrix, step size) are reset,
        as :func:`build_specs` does for the reference model.
        """
        return replace(
            self,
            model=REFERENCE_MODEL,
            mixture_priors=(),
            mass_matrix="diag",
            step_size="per_chain",
        )

    def settings_hash(self) -> str:
        """Short hash of :meth:`settings`."""
        text = json.dumps(self.settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def key(self) -> str:
        """File stem of the cached result."""
        return (
            f"{self.mode}-K{self.k_true}-seed{self.seed}-{self.model}-"
            f"{self.settings_hash()}"
        )

    def fitted_as(self) -> RunSpec:
        """The run whose fit stands for this one.

        With one segment per channel the weekly latent draw always picks that
        segment, so the latent K_true=1 data are the aggregate K_true=1 data
        (same seed and random streams): that fit is reused, not repeated.
        """
        if self.mode == "latent" and self.k_true == 1:
            return replace(self, mode="aggregate")
        return self

    def result_path(self, cache_dir: Path) -> Path:
        """Where the result JSON of this run (or of the fit it shares) lives."""
        return cache_dir / self.tier / f"{self.fitted_as().key()}.json"


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------
def package_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    versions = {}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def pmm_mixture_digest() -> str:
    """Short hash of the ``pmm_mixture`` modules the benchmark runs."""
    spec = importlib.util.find_spec("pmm_mixture")
    if spec is None or not spec.submodule_search_locations:
        return "unknown"
    digest = hashlib.sha256()
    package = Path(spec.submodule_search_locations[0])
    for name in DIGEST_MODULES:
        path = package / f"{name}.py"
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:10]


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory and platform of this machine."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    return info


# ---------------------------------------------------------------------------
# One run (executed in a child process)
# ---------------------------------------------------------------------------
def is_mixture_model(model: str) -> bool:
    """Whether ``model`` is one of the mixture models (those with components)."""
    return MODELS[model]["n_components"] is not None


def fit_spec(mmm, spec: RunSpec, X_train, y_train) -> None:
    """``mmm.fit`` with the run's sampler settings (every fit goes through here)."""
    from pmm_mixture.sampling import common_step_size

    step_size = (
        nullcontext()
        if spec.step_size == "per_chain"
        else common_step_size(spec.step_size)
    )
    with step_size:
        mmm.fit(
            X_train,
            y_train,
            nuts_sampler="numpyro",
            chains=spec.chains,
            tune=spec.tune,
            draws=spec.draws,
            target_accept=spec.target_accept,
            random_seed=spec.seed,
            progressbar=False,
            nuts_sampler_kwargs={"dense_mass": spec.mass_matrix == "dense"},
        )


def prepare_data(spec: RunSpec):
    """Synthetic data of the cell, with a ``trend`` control, split train/test.

    Returns
    -------
    tuple
        ``(data, X_train, y_train, X_test, y_test)``; the trend runs from 0 to
        1 over all weeks, so it continues into the test period.
    """
    from pmm_mixture.synthetic import make_mixture_mmm_data

    data = make_mixture_mmm_data(
        spec.k_true,
        n_channels=spec.n_channels,
        n_weeks=spec.n_weeks,
        mode=spec.mode,
        noise=spec.noise,
        seed=spec.seed,
    )
    X_train, y_train, X_test, y_test = data.split(spec.n_test)
    trend = np.arange(data.n_weeks, dtype=float) / (data.n_weeks - 1)
    X_train = X_train.assign(trend=trend[: len(X_train)])
    X_test = X_test.assign(trend=trend[len(X_train) :])
    return data, X_train, y_train, X_test, y_test


def build_saturation(model: str, mixture_priors: Sequence[tuple[str, float]] = ()):
    """The saturation component of a benchmark model (default priors)."""
    from pymc_marketing.mmm import HillSaturation, LogisticSaturation

    from pmm_mixture import MixtureHillSaturation

    if model == "hill":
        return HillSaturation()
    if model == "logistic":
        return LogisticSaturation()
    n_components = MODELS[model]["n_components"]
    if n_components is None:
        raise ValueError(f"Unknown model {model!r}.")
    return MixtureHillSaturation(
        n_components=n_components,
        priors=mixture_prior_overrides(mixture_priors, n_components),
    )


def mixture_prior_overrides(
    mixture_priors: Sequence[tuple[str, float]], n_components: int
) -> dict[str, Any] | None:
    """``priors=`` of ``MixtureHillSaturation`` for :data:`MIXTURE_PRIOR_OPTIONS`.

    ``n_components`` is that of the saturation the priors are for (the default
    kappa prior depends on it).
    """
    from pymc_extras.prior import Prior

    from pmm_mixture.priors import OrderedKappa, PooledSlope, StickBreakingWeights
    from pmm_mixture.saturation import default_mixture_priors

    values = dict(mixture_priors)
    priors: dict[str, Any] = {}
    if {"alpha", "stick_min_remainder"} & set(values):
        weights = default_mixture_priors(n_components)["weights"].parameters
        priors["weights"] = StickBreakingWeights(
            alpha=values.get("alpha", weights["alpha"]),
            min_remainder=values.get(
                "stick_min_remainder", weights.get("min_remainder")
            ),
        )
    if {"kappa_first_sigma", "kappa_first_median", "kappa_first_floor"} & set(values):
        # each option sets one parameter of the first kappa's prior; the others
        # and the log-gap prior (which depends on n_components) stay those of
        # the default saturation
        kappa = default_mixture_priors(n_components)["kappa"]
        first = kappa.parameters["log_first"].parameters
        mu = (
            float(np.log(values["kappa_first_median"]))
            if "kappa_first_median" in values
            else first["mu"]
        )
        sigma = values.get("kappa_first_sigma", first["sigma"])
        if "kappa_first_floor" in values:
            log_first = Prior(
                "TruncatedNormal",
                mu=mu,
                sigma=sigma,
                lower=float(np.log(values["kappa_first_floor"])),
            )
        else:
            log_first = Prior("Normal", mu=mu, sigma=sigma)
        priors["kappa"] = OrderedKappa(
            log_first=log_first,
            log_gap=kappa.parameters["log_gap"],
        )
    slope = {}
    if "slope_log_sigma" in values:
        slope["log_sigma"] = Prior("HalfNormal", sigma=values["slope_log_sigma"])
    if "slope_median" in values or "slope_log_mu_sigma" in values:
        # each option moves one parameter of the default prior, the other kept
        default = PooledSlope().parameters["log_mu"].parameters
        mu = (
            float(np.log(values["slope_median"]))
            if "slope_median" in values
            else default["mu"]
        )
        sigma = values.get("slope_log_mu_sigma", default["sigma"])
        slope["log_mu"] = Prior("Normal", mu=mu, sigma=sigma)
    if slope:
        priors["slope"] = PooledSlope(**slope)
    return priors or None


def build_mmm(data, model: str, mixture_priors: Sequence[tuple[str, float]] = ()):
    """PyMC-Marketing MMM exactly as the main job builds it, with this saturation."""
    from pmm_mixture.example import build_mmm as build_example_mmm

    saturation = build_saturation(model, mixture_priors)
    return build_example_mmm(data, None, saturation=saturation)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux: KB units)."""
    scale = 1024.0 if sys.platform != "darwin" else 1024.0**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


JAX_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


class _JaxCompileClock:
    """Sum JAX's tracing and XLA compilation durations from now until ``stop``.

    Uses ``jax.monitoring`` duration events, so the fit's wall time can be split
    into compilation and the rest (sampling, mostly).
    """

    def __init__(self) -> None:
        import jax.monitoring

        self.seconds = 0.0
        self._running = True
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event: str, duration: float, **_: Any) -> None:
        if self._running and event in JAX_COMPILE_EVENTS:
            self.seconds += duration

    def stop(self) -> float:
        self._running = False
        return self.seconds


class _Sections:
    """Run named steps, timing each and recording failures without stopping."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return step()
        except Exception as error:  # a failed metric must not hide the others
            self.errors[name] = "".join(
                traceback.format_exception_only(type(error), error)
            ).strip()
            traceback.print_exc()
            return None
        finally:
            self.timings[name] = time.perf_counter() - start


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Fit one model on one data set and compute every metric.

    Parameters
    ----------
    spec : RunSpec

    Returns
    -------
    dict
        JSON-serialisable result: ``metrics`` (the flat :data:`METRIC_KEYS`),
        ``elpd_i`` (pointwise ELPD-LOO, original target units), per-channel
        details, diagnostics tables, timings and errors.
    """
    start_total = time.perf_counter()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import arviz as az
    import metrics as bm
    import pymc as pm

    from pmm_mixture.diagnostics import label_invariant_diagnostics, n_divergences
    from pmm_mixture.summary import effective_components

    sections = _Sections()
    values: dict[str, float] = dict.fromkeys(METRIC_KEYS, float("nan"))
    details: dict[str, Any] = {}

    data, X_train, y_train, X_test, y_test = prepare_data(spec)
    channels = list(data.channel_columns)
    n_train = len(X_train)
    mmm = build_mmm(data, spec.model, spec.mixture_priors)

    compile_clock = _JaxCompileClock()
    start = time.perf_counter()
    fit_spec(mmm, spec, X_train, y_train)
    values["fit_seconds"] = time.perf_counter() - start
    values["compile_seconds"] = compile_clock.stop()
    values["sampling_seconds"] = values["fit_seconds"] - values["compile_seconds"]
    values["peak_rss_fit_mb"] = _peak_rss_mb()
    idata = mmm.idata
    posterior = idata.posterior.dataset
    target_scale = float(idata.constant_data["target_scale"])
    channel_scale = idata.constant_data["channel_scale"]
    is_mixture = is_mixture_model(spec.model)

    def sampler_stats() -> None:
        values["divergences"] = float(n_divergences(mmm))
        depth = np.asarray(idata.sample_stats["tree_depth"])
        values["tree_depth_mean"] = float(depth.mean())
        values["max_tree_depth_frac"] = float((depth >= NUMPYRO_MAX_TREE_DEPTH).mean())

    def loo() -> None:
        pm.compute_log_likelihood(
            idata, model=mmm.model, extend_inferencedata=True, progressbar=False
        )
        result = az.loo(idata, pointwise=True)
        # The likelihood is on the scaled target y / target_scale: shift every
        # pointwise value by -log(target_scale) to get densities of y itself.
        elpd_i = np.asarray(result.elpd_i, dtype=float) - math.log(target_scale)
        pareto_k = np.asarray(result.pareto_k, dtype=float)
        details["elpd_i"] = elpd_i.tolist()
        values["elpd_loo"] = float(elpd_i.sum())
        values["elpd_loo_se"] = float(result.se)
        values["p_loo"] = float(result.p)
        values["pareto_k_max"] = float(np.nanmax(pareto_k))
        values["n_pareto_k_bad"] = float((pareto_k > result.good_k).sum())

    def diagnostics() -> None:
        if is_mixture:
            table = label_invariant_diagnostics(mmm, n_points=DIAGNOSTIC_POINTS)
            table = table.to_dict(orient="index")
        else:
            curve = mmm.saturation.sample_curve(
                posterior, max_value=1.0, num_points=DIAGNOSTIC_POINTS + 1
            ).isel(x=slice(1, None))
            quantities = {
                "curve": curve,
                "saturation_beta": posterior["saturation_beta"],
                "channel_contribution": posterior["channel_contribution"],
            }
            if "log_likelihood" in idata.children:
                for name, draws in idata["log_likelihood"].dataset.data_vars.items():
                    quantities[f"log_likelihood_{name}"] = draws
            table = bm.draws_diagnostics(quantities)
        details["diagnostics"] = table
        frame = pd.DataFrame.from_dict(table, orient="index")
        values["r_hat_max"] = float(frame["r_hat_max"].max())
        values["ess_bulk_min"] = float(frame["ess_bulk_min"].min())
        values["ess_tail_min"] = float(frame["ess_tail_min"].min())
        values["ess_bulk_per_s"] = values["ess_bulk_min"] / values["fit_seconds"]

    def predictive() -> None:
        predictions = mmm.sample_posterior_predictive(
            X_test,
            extend_idata=False,
            include_last_observations=True,
            progressbar=False,
            random_seed=spec.seed,
        )
        draws = predictions["y"].transpose("sample", "date").values * target_scale
        y_true = y_test.to_numpy(dtype=float)
        values["test_crps"] = bm.crps(y_true, draws)
        values["test_cov50"] = bm.interval_coverage(y_true, draws, 0.5)
        values["test_cov90"] = bm.interval_coverage(y_true, draws, 0.9)
        values["test_rmse"] = bm.rmse(y_true, draws.mean(axis=0))

    def curves() -> None:
        curve = mmm.saturation.sample_curve(
            posterior, max_value=1.0, num_points=CURVE_POINTS
        )
        mean_curve = curve.mean(bm.SAMPLE_DIMS) * target_scale
        adstocked = data.adstocked_spend.iloc[:n_train]
        per_channel = {}
        for channel in channels:
            spend = curve["x"].values * float(channel_scale.sel(channel=channel))
            observed = adstocked[channel].to_numpy()
            low, high = observed[observed > 0].min(), observed.max()
            inside = (spend >= low) & (spend <= high)
            truth = data.channels[channel].curve(spend[inside])
            fitted = mean_curve.sel(channel=channel).values[inside]
            per_channel[channel] = bm.curve_recovery_error(truth, fitted)
        details["curve_error"] = per_channel
        values["curve_err_max"] = float(
            np.mean([e["max"] for e in per_channel.values()])
        )
        values["curve_err_mean"] = float(
            np.mean([e["mean"] for e in per_channel.values()])
        )

    def contributions() -> None:
        fitted = (
            posterior["channel_contribution"]
            .mean(bm.SAMPLE_DIMS)
            .sel(channel=channels)
            .transpose("date", "channel")
            .values
            * target_scale
        )
        truth = data.contributions.iloc[:n_train][channels].to_numpy()
        errors = bm.contribution_recovery_error(truth, fitted)
        details["contribution_error"] = dict(
            zip(channels, errors.tolist(), strict=True)
        )
        values["contrib_rel_rmse"] = float(errors.mean())
        values["total_contrib_rel_rmse"] = bm.relative_rmse(
            truth.sum(axis=1), fitted.sum(axis=1)
        )

    def components() -> None:
        if is_mixture:
            table = effective_components(mmm)
            n_active = table["n_active"].astype(float).to_numpy()
            n_entropy = table["n_entropy_mean"].astype(float).to_numpy()
            details["effective_components"] = {
                str(index): {"n_active": float(a), "n_entropy": float(e)}
                for index, a, e in zip(table.index, n_active, n_entropy, strict=True)
            }
        else:  # one curve per channel by construction
            n_active = n_entropy = np.ones(len(channels))
        values["n_active_mean"] = float(n_active.mean())
        values["n_entropy_mean"] = float(n_entropy.mean())
        values["n_active_abs_err"] = float(np.abs(n_active - spec.k_true).mean())

    def budget() -> None:
        from pymc_marketing.mmm.budget_optimizer import MinimizeException

        weekly = float(X_train[channels].sum(axis=1).mean())
        values["budget_weekly"] = weekly
        optimizer = mmm.budget_optimizer(
            start_date=X_test["date"].iloc[0], end_date=X_test["date"].iloc[-1]
        )
        # BudgetOptimizer's total_budget is per period: each period of the
        # window gets the recommended per-channel budgets, which sum to it.
        historical = {c: float(X_train[c].mean()) for c in channels}
        start = np.array([historical[c] for c in channels])
        start = start * weekly / start.sum()
        # SLSQP from the uniform split occasionally stops with "Inequality
        # constraints incompatible"; start again from the historical split,
        # then with scipy's trust-constr method instead of SLSQP.
        tries = (
            {},
            {"x0": start},
            {"x0": start, "minimize_kwargs": {"method": "trust-constr"}},
        )
        attempts = []
        for number, extra in enumerate(tries, start=1):
            try:
                result = optimizer.allocate_budget(total_budget=weekly, **extra)
                break
            except MinimizeException as error:
                if number == len(tries):
                    raise
                attempts.append(str(error))
        recommended = {c: float(result.budgets.sel(channel=c).values) for c in channels}
        optimal = data.optimal_allocation(weekly)
        regret = bm.budget_regret(data.true_response, recommended, optimal)
        values["regret_pct"] = regret["regret_pct"]
        values["response_recommended"] = regret["response_recommended"]
        values["response_optimal"] = regret["response_optimal"]
        values["regret_historical_pct"] = bm.budget_regret(
            data.true_response, historical, optimal
        )["regret_pct"]
        details["allocation"] = {
            "recommended": recommended,
            "optimal": optimal,
            "historical": historical,
            "optimizer_success": bool(result.scipy_result.success),
            "failed_attempts": attempts,
        }

    for name, step in (
        ("sampler_stats", sampler_stats),
        ("loo", loo),
        ("diagnostics", diagnostics),
        ("predictive", predictive),
        ("curves", curves),
        ("contributions", contributions),
        ("components", components),
        ("budget", budget),
    ):
        sections.run(name, step)

    values["post_seconds"] = sum(
        sections.timings[name] for name in DRAW_DEPENDENT_STEPS
    )
    values["peak_rss_mb"] = _peak_rss_mb()
    values["total_seconds"] = time.perf_counter() - start_total
    return {
        "status": "ok",
        "spec": asdict(spec),
        "settings_hash": spec.settings_hash(),
        "versions": package_versions(),
        "pmm_mixture_digest": pmm_mixture_digest(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": {key: _float(values[key]) for key in METRIC_KEYS},
        "timings": {"fit": values["fit_seconds"], **sections.timings},
        "errors": sections.errors,
        **details,
    }


def _float(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def worker_main(spec_path: str) -> int:
    """Child-process entry: run the spec in ``spec_path``, write its result."""
    payload = json.loads(Path(spec_path).read_text())
    spec = RunSpec(**payload["spec"])
    out = Path(payload["result_path"])
    result = run_one(spec)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(out)  # atomic: a half-written file is never taken as finished
    return 0


# ---------------------------------------------------------------------------
# Orchestration (parent process)
# ---------------------------------------------------------------------------
def build_specs(
    tier: str,
    settings: Tier,
    models: Sequence[str],
    mixture_priors: tuple[tuple[str, float], ...] = (),
    target_accept: float = TARGET_ACCEPT,
    mixture_mass_matrix: str = MIXTURE_MASS_MATRIX,
    mixture_step_size: str = MIXTURE_STEP_SIZE,
) -> list[RunSpec]:
    """All runs of the tier, the reference model first in every cell.

    ``mixture_priors``, ``mixture_mass_matrix`` and ``mixture_step_size``
    apply to the mixture models only.
    """
    ordered = sorted(models, key=lambda m: list(MODELS).index(m))
    return [
        RunSpec(
            tier=tier,
            mode=mode,
            k_true=k,
            seed=seed,
            model=model,
            chains=settings.chains,
            tune=settings.tune,
            draws=settings.draws,
            target_accept=target_accept,
            mixture_priors=mixture_priors if is_mixture_model(model) else (),
            mass_matrix=mixture_mass_matrix if is_mixture_model(model) else "diag",
            step_size=mixture_step_size if is_mixture_model(model) else "per_chain",
        )
        for mode in settings.modes
        for k in settings.k_true
        for seed in settings.seeds
        for model in ordered
    ]


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
    env = os.environ.copy()
    # One XLA host device per chain, so NumPyro runs the chains in parallel.
    flag = f"--xla_force_host_platform_device_count={spec.chains}"
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        str(spec_file),
    ]
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


def load_results(
    specs: Iterable[RunSpec], cache_dir: Path
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    """Cached results of the specs as a table, plus their pointwise ELPDs."""
    rows, elpd = [], {}
    for spec in specs:
        path = spec.result_path(cache_dir)
        row: dict[str, Any] = {
            "mode": spec.mode,
            "k_true": spec.k_true,
            "seed": spec.seed,
            "model": spec.model,
        }
        if not path.exists():
            rows.append({**row, "status": "missing"})
            continue
        result = json.loads(path.read_text())
        row |= result["metrics"]
        row["status"] = "ok" if not result["errors"] else "partial"
        row["failed_steps"] = ",".join(sorted(result["errors"]))
        row["pmm_mixture_digest"] = result.get("pmm_mixture_digest", "")
        rows.append(row)
        if "elpd_i" in result:
            elpd[spec.key()] = result["elpd_i"]
    return pd.DataFrame(rows), elpd


def add_pairwise(
    runs: pd.DataFrame,
    elpd: dict[str, list[float]],
    specs: Sequence[RunSpec],
    cache_dir: Path,
) -> pd.DataFrame:
    """ELPD difference to Hill (with SE) and cost ratios, per run.

    The Hill run of the same data is read from the cache even when it was not
    requested (``--only-model``), as long as it was fitted with the same
    settings.
    """
    import metrics as bm

    runs = runs.copy()
    for key in PAIRWISE_KEYS:
        runs[key] = np.nan
    for i, spec in enumerate(specs):
        if runs.loc[i, "status"] == "missing":
            continue
        reference = spec.reference()
        ref_path = reference.result_path(cache_dir)
        if not ref_path.exists():
            continue
        ref = json.loads(ref_path.read_text())
        ref_metrics = ref["metrics"]
        mine, theirs = elpd.get(spec.key()), ref.get("elpd_i")
        if mine is not None and theirs is not None:
            diff, se = bm.elpd_difference(mine, theirs)
            runs.loc[i, "elpd_diff_vs_hill"] = diff
            runs.loc[i, "elpd_diff_se_vs_hill"] = se
            runs.loc[i, "elpd_diff_z_vs_hill"] = diff / se if se > 0 else np.nan
        for key, metric in (
            ("fit_seconds_ratio", "fit_seconds"),
            ("sampling_seconds_ratio", "sampling_seconds"),
            ("ess_bulk_per_s_ratio", "ess_bulk_per_s"),
            ("peak_rss_fit_ratio", "peak_rss_fit_mb"),
        ):
            runs.loc[i, key] = _ratio(runs.loc[i, metric], ref_metrics[metric])
    return runs


def _ratio(numerator: Any, denominator: Any) -> float:
    try:
        num, den = float(numerator), float(denominator)
    except (TypeError, ValueError):
        return float("nan")
    return num / den if den and np.isfinite(den) else float("nan")


SUMMARY_METRICS = METRIC_KEYS + PAIRWISE_KEYS


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and sd over seeds of every metric, per (mode, K_true, model)."""
    done = runs[runs["status"] != "missing"]
    columns = [c for c in SUMMARY_METRICS if c in done.columns]
    grouped = done.groupby(["mode", "k_true", "model"], sort=False)[columns]
    mean = grouped.mean().add_suffix("_mean")
    sd = grouped.std(ddof=1).add_suffix("_sd")
    n = grouped.size().rename("n_seeds")
    ordered = [f"{c}_{s}" for c in columns for s in ("mean", "sd")]
    table = pd.concat([n, mean, sd], axis=1)[["n_seeds", *ordered]]
    model_order = {m: i for i, m in enumerate(MODELS)}
    return table.reset_index().sort_values(
        ["mode", "k_true", "model"],
        key=lambda s: s.map(model_order) if s.name == "model" else s,
        ignore_index=True,
    )


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------
def evaluate_targets(runs: pd.DataFrame) -> pd.DataFrame:
    """The issue's targets for the sparse K=5 mixture, met or not, per cell.

    - aggregate, K_true >= 2: ELPD above Hill by more than 2 SE (in every
      seed), and lower mean budget regret than Hill;
    - K_true = 1: mean ELPD loss below 2 points, and mean regret within the
      seed spread (mean + sd over seeds) of Hill's regret;
    - sampling wall time at most 2x Hill's on the same data and draws;
    - sampling health (design notes, section 4): no divergences, R-hat <= 1.01
      and bulk ESS >= 400 on the label-invariant quantities.
    """
    done = runs[runs["status"] != "missing"]
    rows = []

    def cell_runs(mode: str, k: int, model: str) -> pd.DataFrame:
        return done[
            (done["mode"] == mode) & (done["k_true"] == k) & (done["model"] == model)
        ].set_index("seed")

    for (mode, k), _ in done.groupby(["mode", "k_true"], sort=True):
        mix = cell_runs(mode, k, TARGET_MODEL)
        hill = cell_runs(mode, k, REFERENCE_MODEL)
        if mix.empty:
            continue
        seeds = mix.index.intersection(hill.index)
        both = len(seeds) > 0
        cell = {"mode": mode, "k_true": k}
        if mode == "aggregate" and k >= 2:
            z = mix.loc[seeds, "elpd_diff_z_vs_hill"]
            ok = int((z > 2).sum())
            rows.append(
                {
                    **cell,
                    "target": "K5 ELPD > Hill + 2 SE (every seed)",
                    "numbers": _fmt_elpd(mix.loc[seeds]) + f"; {ok}/{len(seeds)} seeds",
                    "status": _status(both and z.notna().all(), ok == len(seeds)),
                }
            )
            reg_mix = mix.loc[seeds, "regret_pct"]
            reg_hill = hill.loc[seeds, "regret_pct"]
            wins = int((reg_mix < reg_hill).sum())
            rows.append(
                {
                    **cell,
                    "target": "K5 budget regret < Hill's (mean over seeds)",
                    "numbers": f"K5 {_ms(reg_mix)} % vs Hill {_ms(reg_hill)} %; "
                    f"K5 lower in {wins}/{len(seeds)} seeds",
                    "status": _status(
                        both and reg_mix.notna().all() and reg_hill.notna().all(),
                        reg_mix.mean() < reg_hill.mean(),
                    ),
                }
            )
        if k == 1:
            diff = mix.loc[seeds, "elpd_diff_vs_hill"]
            rows.append(
                {
                    **cell,
                    "target": "K_true=1: K5 loses < 2 ELPD points (mean)",
                    "numbers": _fmt_elpd(mix.loc[seeds]),
                    "status": _status(both and diff.notna().all(), diff.mean() > -2),
                }
            )
            reg_mix = mix.loc[seeds, "regret_pct"]
            reg_hill = hill.loc[seeds, "regret_pct"]
            spread = reg_hill.std(ddof=1) if len(seeds) > 1 else float("nan")
            assessable = both and np.isfinite(spread)
            rows.append(
                {
                    **cell,
                    "target": "K_true=1: K5 regret <= Hill regret + seed sd",
                    "numbers": f"K5 {_ms(reg_mix)} % vs Hill {_ms(reg_hill)} %"
                    + ("" if assessable else " (needs >= 2 seeds)"),
                    "status": _status(
                        assessable, reg_mix.mean() <= reg_hill.mean() + spread
                    ),
                }
            )
        ratio = mix.loc[seeds, "fit_seconds_ratio"]
        rows.append(
            {
                **cell,
                "target": "K5 sampling wall time <= 2x Hill's (mean)",
                "numbers": f"ratio {_ms(ratio)} (K5 {_ms(mix['fit_seconds'])} s, "
                f"Hill {_ms(hill['fit_seconds'])} s)",
                "status": _status(both and ratio.notna().all(), ratio.mean() <= 2),
            }
        )
        healthy = (
            (mix["divergences"] == 0)
            & (mix["r_hat_max"] <= 1.01)
            & (mix["ess_bulk_min"] >= 400)
        )
        rows.append(
            {
                **cell,
                "target": "K5 health: 0 div., R-hat<=1.01, ESS>=400 (every seed)",
                "numbers": f"divergences {_ms(mix['divergences'], 0)}, "
                f"worst R-hat {mix['r_hat_max'].max():.3f}, "
                f"lowest ESS {mix['ess_bulk_min'].min():.0f}; "
                f"{int(healthy.sum())}/{len(mix)} seeds",
                "status": _status(True, bool(healthy.all())),
            }
        )
    return pd.DataFrame(rows, columns=["target", "mode", "k_true", "numbers", "status"])


def _status(assessable: bool, met: Any) -> str:
    if not assessable:
        return "n/a"
    return "met" if bool(met) else "NOT met"


def _ms(values: pd.Series, digits: int = 2) -> str:
    """'mean ± sd' over seeds ('mean' alone for one seed)."""
    values = pd.Series(values, dtype=float).dropna()
    if values.empty:
        return "nan"
    if len(values) == 1:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _fmt_elpd(frame: pd.DataFrame) -> str:
    return (
        f"ΔELPD {_ms(frame['elpd_diff_vs_hill'], 1)}, "
        f"SE {_ms(frame['elpd_diff_se_vs_hill'], 1)}, "
        f"z {_ms(frame['elpd_diff_z_vs_hill'], 1)}"
    )


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------
REPORT_TABLES: dict[str, list[tuple[str, str, int]]] = {
    "Predictive accuracy (ELPD in original units of y; test = last 13 weeks)": [
        ("elpd_loo", "ELPD-LOO", 1),
        ("elpd_diff_vs_hill", "ΔELPD vs Hill", 1),
        ("elpd_diff_se_vs_hill", "SE(Δ)", 1),
        ("test_crps", "test CRPS", 1),
        ("test_cov50", "cov 50%", 2),
        ("test_cov90", "cov 90%", 2),
        ("test_rmse", "test RMSE", 1),
        ("n_pareto_k_bad", "k>good_k", 0),
    ],
    "Recovery of the truth and budget regret": [
        ("curve_err_max", "curve err max", 3),
        ("curve_err_mean", "curve err mean", 3),
        ("contrib_rel_rmse", "contrib relRMSE", 3),
        ("n_active_mean", "n_active", 2),
        ("n_entropy_mean", "n_entropy", 2),
        ("regret_pct", "regret %", 2),
        ("regret_historical_pct", "hist. split regret %", 2),
    ],
    "Sampling health (label-invariant quantities)": [
        ("divergences", "divergences", 0),
        ("r_hat_max", "worst R-hat", 3),
        ("ess_bulk_min", "min bulk ESS", 0),
        ("ess_tail_min", "min tail ESS", 0),
        ("max_tree_depth_frac", "at max depth", 2),
    ],
    "Cost (fit = mmm.fit wall time; ratios to Hill on the same data and draws)": [
        ("fit_seconds", "fit s", 1),
        ("compile_seconds", "of it JAX compile s", 1),
        ("fit_seconds_ratio", "fit s / Hill", 2),
        ("sampling_seconds_ratio", "excl. compile / Hill", 2),
        ("ess_bulk_per_s", "ESS/s", 2),
        ("ess_bulk_per_s_ratio", "ESS/s / Hill", 2),
        ("peak_rss_fit_mb", "peak MB", 0),
        ("peak_rss_fit_ratio", "peak / Hill", 2),
    ],
}


def format_table(
    summary: pd.DataFrame, columns: Sequence[tuple[str, str, int]]
) -> pd.DataFrame:
    """Readable 'mean ± sd' table of some metrics, one row per cell and model."""
    out = summary[["mode", "k_true", "model"]].copy()
    for metric, label, digits in columns:
        mean = summary.get(f"{metric}_mean")
        sd = summary.get(f"{metric}_sd")
        if mean is None:
            continue
        cells = []
        for m, s in zip(mean, sd, strict=True):
            if not np.isfinite(m):
                cells.append("-")
            elif np.isfinite(s):
                cells.append(f"{m:.{digits}f} ± {s:.{digits}f}")
            else:
                cells.append(f"{m:.{digits}f}")
        out[label] = cells
    return out.rename(columns={"k_true": "K_true"})


@dataclass(frozen=True)
class FigureSpec:
    """One figure: metrics (one row of panels each) against K_true, per mode.

    ``reference`` draws grey dashed lines: a dict of metric to level, or
    ``"identity"`` for y = K_true. ``use_se`` draws the mean pairwise SE of
    the ELPD difference as error bars instead of the sd over seeds.
    """

    filename: str
    panels: tuple[tuple[str, str], ...]
    reference: dict[str, float] | str | None = None
    use_se: bool = False


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "elpd_diff.png", (("elpd_diff_vs_hill", "ΔELPD-LOO vs Hill"),), None, True
    ),
    FigureSpec(
        "coverage.png",
        (("test_cov50", "test 50% coverage"), ("test_cov90", "test 90% coverage")),
        {"test_cov50": 0.5, "test_cov90": 0.9},
    ),
    FigureSpec(
        "curve_error.png",
        (
            ("curve_err_mean", "curve error, mean (rel. to max)"),
            ("curve_err_max", "curve error, max (rel. to max)"),
        ),
    ),
    FigureSpec("regret.png", (("regret_pct", "budget regret (%)"),)),
    FigureSpec(
        "effective_components.png",
        (("n_active_mean", "active components"), ("n_entropy_mean", "exp entropy")),
        "identity",
    ),
    FigureSpec(
        "cost.png",
        (
            ("fit_seconds_ratio", "fit time / Hill"),
            ("ess_bulk_per_s_ratio", "ESS/s / Hill"),
        ),
        {"fit_seconds_ratio": 2.0},
    ),
)


def metric_figure(summary: pd.DataFrame, spec: FigureSpec):
    """Matplotlib figure of ``spec``'s metrics (mean over seeds) against K_true.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`summarize` (or ``summary.csv``).
    spec : FigureSpec

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    modes = [m for m in MODES if m in set(summary["mode"])]
    models = [m for m in MODELS if m in set(summary["model"])]
    offsets = dict(zip(models, np.linspace(-0.15, 0.15, len(models)), strict=True))
    k_values = sorted(set(summary["k_true"]))
    fig, axes = plt.subplots(
        len(spec.panels),
        len(modes),
        figsize=(5 * len(modes), 3.2 * len(spec.panels)),
        squeeze=False,
    )
    for row, (metric, label) in enumerate(spec.panels):
        for col, mode in enumerate(modes):
            ax = axes[row, col]
            for model in models:
                part = summary[(summary["mode"] == mode) & (summary["model"] == model)]
                if part.empty or f"{metric}_mean" not in part:
                    continue
                if not np.isfinite(part[f"{metric}_mean"]).any():
                    continue
                if spec.use_se:
                    err = part["elpd_diff_se_vs_hill_mean"]
                else:
                    err = part[f"{metric}_sd"].fillna(0.0)
                ax.errorbar(
                    part["k_true"] + offsets[model],
                    part[f"{metric}_mean"],
                    yerr=err,
                    marker="o",
                    capsize=3,
                    label=MODELS[model]["label"],
                )
            if isinstance(spec.reference, dict) and metric in spec.reference:
                ax.axhline(spec.reference[metric], color="grey", ls="--", lw=1)
            if spec.reference == "identity":
                ax.plot(k_values, k_values, color="grey", ls="--", lw=1, label="K_true")
            if spec.use_se:
                ax.axhline(0.0, color="grey", ls="--", lw=1)
            ax.set_xticks(k_values)
            ax.set_xlabel("K_true")
            ax.set_ylabel(label)
            ax.set_title(f"{mode} data")
    if axes[0, 0].get_legend_handles_labels()[0]:
        axes[0, 0].legend(fontsize=7)
    note = (
        "error bars: mean pairwise SE" if spec.use_se else "error bars: sd over seeds"
    )
    fig.suptitle(f"{spec.filename.removesuffix('.png')} ({note})", fontsize=9)
    fig.tight_layout()
    return fig


def format_report(summary: pd.DataFrame, targets: pd.DataFrame) -> str:
    """The printed tables: every :data:`REPORT_TABLES` table, then the targets."""
    parts = []
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        for title, columns in REPORT_TABLES.items():
            parts.append(f"\n== {title} (mean ± sd over seeds)")
            parts.append(format_table(summary, columns).to_string(index=False))
        parts.append("\n== Targets (sparse K=5 mixture against HillSaturation)")
        parts.append(targets.to_string(index=False) if not targets.empty else "(none)")
    return "\n".join(parts)


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (no index)."""
    cells = [[str(c) for c in frame.columns]]
    cells += [[str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * len(frame.columns))
    return "\n".join(lines)


def format_markdown_report(summary: pd.DataFrame, targets: pd.DataFrame) -> str:
    """:func:`format_report` as Markdown: one table per section, then targets."""
    parts = []
    for title, columns in REPORT_TABLES.items():
        parts.append(f"### {title} (mean ± sd over seeds)\n")
        parts.append(markdown_table(format_table(summary, columns)) + "\n")
    parts.append("### Targets (sparse K=5 mixture against HillSaturation)\n")
    parts.append(markdown_table(targets) if not targets.empty else "(none)")
    return "\n".join(parts)


def make_figures(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Save every figure of :data:`FIGURES` as PNG in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for spec in FIGURES:
        fig = metric_figure(summary, spec)
        path = out_dir / spec.filename
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def estimate_full_tier(
    runs: pd.DataFrame, measured: Tier, cores: int
) -> dict[str, Any]:
    """Rough duration of the full tier extrapolated from measured runs.

    Per model, the sampling time (the fit's wall time less JAX tracing and
    compilation) scales with the NUTS iterations each core has to do; the rest
    of the run (imports, model building, compilation, post-processing) is kept
    as measured: post-processing barely grows with the draws because its cost
    is mostly compilation too. Cells not measured (other K_true, latent mode)
    are assumed to cost the mean of the measured ones, so harder cells that
    need deeper trees make this an underestimate.
    """
    full = TIERS["full"]
    done = runs[runs["status"] != "missing"]
    if done.empty:
        return {}

    def per_core(t: Tier) -> float:
        return t.chains * (t.tune + t.draws) / min(t.chains, max(cores, 1))

    sampling_scale = per_core(full) / per_core(measured)
    sampling = done["sampling_seconds"].fillna(done["fit_seconds"])
    per_run = done["total_seconds"] - sampling + sampling * sampling_scale
    per_model = per_run.groupby(done["model"]).mean()
    n_cells = len(
        {s.fitted_as().key() for s in build_specs("full", full, [REFERENCE_MODEL])}
    )
    seconds = float(per_model.sum() * n_cells)
    return {
        "runs": int(n_cells * len(per_model)),
        "sampling_scale": sampling_scale,
        "seconds_per_run_by_model": per_model.round(1).to_dict(),
        "hours": seconds / 3600.0,
    }


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--tier", choices=sorted(TIERS), default="quick", help="cells and chains"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=here / "cache", help="finished fits"
    )
    parser.add_argument(
        "--out", type=Path, default=here / "results", help="tables and figures"
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
    parser.add_argument("--chains", type=int, default=None, help="override the tier")
    parser.add_argument("--tune", type=int, default=None, help="override the tier")
    parser.add_argument("--draws", type=int, default=None, help="override the tier")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="fits run at the same time (more than 1 distorts the timings)",
    )
    parser.add_argument(
        "--run-timeout", type=float, default=None, help="seconds per fit"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="refit even when a result is cached"
    )
    parser.add_argument(
        "--target-accept",
        type=float,
        default=TARGET_ACCEPT,
        help="NUTS target acceptance for every model; another value than the "
        "default sends the results to OUT/TIER-target_acceptVALUE",
    )
    parser.add_argument(
        "--mixture-prior",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="try another default prior for the mixture models; NAME one of "
        + ", ".join(f"{k} ({v})" for k, v in MIXTURE_PRIOR_OPTIONS.items())
        + "; results go to OUT/TIER-NAMEVALUE...",
    )
    parser.add_argument(
        "--mixture-mass-matrix",
        choices=MASS_MATRICES,
        default=MIXTURE_MASS_MATRIX,
        help="NUTS mass matrix of the mixture models (Hill and Logistic keep "
        f"a diagonal one); another value than {MIXTURE_MASS_MATRIX!r} sends the "
        "results to OUT/TIER-mass_matrixVALUE",
    )
    parser.add_argument(
        "--mixture-step-size",
        choices=STEP_SIZES,
        default=MIXTURE_STEP_SIZE,
        help="NUTS step size of the mixture models after warmup: per_chain "
        "(NumPyro's own adaptation, each chain its own) or one step size for "
        "all chains, the min or median of the adapted ones; another value than "
        f"{MIXTURE_STEP_SIZE!r} sends the results to OUT/TIER-step_sizeVALUE",
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
        "chains": args.chains,
        "tune": args.tune,
        "draws": args.draws,
    }
    return replace(tier, **{k: v for k, v in overrides.items() if v is not None})


def output_name(
    args: argparse.Namespace,
    settings: Tier,
    mixture_priors: tuple[tuple[str, float], ...],
) -> str:
    """Folder name of the results: the tier, then every departure from it.

    ``full`` holds only the complete full tier at its defaults; another prior,
    target_accept or chain length adds ``-NAMEVALUE``, and other cells or
    fewer models add ``-subset``, so a variant never overwrites the tier's results.
    """
    tier = TIERS[args.tier]
    parts = [args.tier, *(f"{k}{v:g}" for k, v in mixture_priors)]
    if args.target_accept != TARGET_ACCEPT:
        parts.append(f"target_accept{args.target_accept:g}")
    if args.mixture_mass_matrix != MIXTURE_MASS_MATRIX:
        parts.append(f"mass_matrix{args.mixture_mass_matrix}")
    if args.mixture_step_size != MIXTURE_STEP_SIZE:
        parts.append(f"step_size{args.mixture_step_size}")
    for name in ("chains", "tune", "draws"):
        if getattr(settings, name) != getattr(tier, name):
            parts.append(f"{name}{getattr(settings, name)}")
    other_cells = any(
        set(getattr(settings, name)) != set(getattr(tier, name))
        for name in ("modes", "k_true", "seeds")
    )
    if other_cells or (args.only_model and set(args.only_model) != set(MODELS)):
        parts.append("subset")
    return "-".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run (or resume) a tier, then aggregate, print and save the results."""
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker)
    started = time.perf_counter()
    settings = resolve_tier(args)
    try:
        mixture_priors = parse_mixture_priors(args.mixture_prior)
        if not 0.0 < args.target_accept < 1.0:
            raise ValueError(
                f"--target-accept must lie in (0, 1), got {args.target_accept}."
            )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    models = args.only_model or list(MODELS)
    command = shlex.join(
        [Path(sys.executable).name, sys.argv[0], *(argv or sys.argv[1:])]
    )
    meta = {
        "command": command,
        "tier": args.tier,
        "settings": asdict(settings),
        "models": {m: MODELS[m]["label"] for m in models},
        "target_accept": args.target_accept,
        "mixture_mass_matrix": args.mixture_mass_matrix,
        "mixture_step_size": args.mixture_step_size,
        "n_channels": N_CHANNELS,
        "n_weeks": N_WEEKS,
        "n_test": N_TEST,
        "noise": NOISE,
        "mixture_priors": dict(mixture_priors),
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
        f"NumPyro NUTS, target_accept={args.target_accept} for every model, same "
        f"random_seed (= data seed) for all models on the same data."
    )
    priors_text = (
        "mixture priors " + ", ".join(f"{k}={v:g}" for k, v in mixture_priors)
        if mixture_priors
        else "default priors"
    )
    print(f"Models: {', '.join(MODELS[m]['label'] for m in models)} ({priors_text})")
    print(
        f"Mass matrix: {args.mixture_mass_matrix} for the mixture models, "
        "diag for Hill and Logistic."
    )
    print(
        f"Step size after warmup: {args.mixture_step_size} for the mixture models, "
        "per_chain for Hill and Logistic."
    )

    specs = build_specs(
        args.tier,
        settings,
        models,
        mixture_priors,
        args.target_accept,
        args.mixture_mass_matrix,
        args.mixture_step_size,
    )
    cache_dir = args.cache_dir.resolve()
    launches = run_all(
        specs, cache_dir, jobs=args.jobs, timeout=args.run_timeout, fresh=args.fresh
    )
    runs, elpd = load_results(specs, cache_dir)
    runs = add_pairwise(runs, elpd, specs, cache_dir)
    out_dir = (args.out / output_name(args, settings, mixture_priors)).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.to_csv(out_dir / "runs.csv", index=False)

    failed = [s.key() for s in specs if not s.result_path(cache_dir).exists()]
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

    summary = summarize(runs)
    summary.to_csv(out_dir / "summary.csv", index=False)
    targets = evaluate_targets(runs)
    targets.to_csv(out_dir / "targets.csv", index=False)

    report = format_report(summary, targets)
    print(report)
    (out_dir / "report.txt").write_text(report + "\n")
    (out_dir / "report.md").write_text(format_markdown_report(summary, targets) + "\n")

    figures = [] if args.no_figures else make_figures(summary, out_dir)
    wall = time.perf_counter() - started
    meta |= {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": wall,
        "runs_total": len(specs),
        "runs_fitted_now": len(launches),
        "runs_failed": failed,
        "cached_pmm_mixture_digests": digests,
        "figures": [p.name for p in figures],
    }
    if settings != TIERS["full"]:
        estimate = estimate_full_tier(done, settings, machine.get("usable_cores") or 1)
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
        f"\nWrote {out_dir}/runs.csv, summary.csv, targets.csv, report.txt/.md, "
        "meta.json"
        + (f" and {len(figures)} figures" if figures else "")
        + f"; wall time {wall:.0f} s ({wall / 60:.1f} min)."
    )
    if failed:
        print(f"{len(failed)} run(s) failed: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
