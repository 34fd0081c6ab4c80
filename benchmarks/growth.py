"""Growth study: how the cost of a fit grows with the size of the data.

Fit time, time per gradient evaluation and peak memory of
``MixtureHillSaturation(n_components=5)`` against ``n_components=1`` and
PyMC-Marketing's ``HillSaturation`` as the weeks, channels, components and
geos grow, one at a time around a base point (156 weeks, 3 channels, 1 geo,
K = 5), and at the data sizes of PyMC Labs' public MMM benchmark (small: 104
weeks, 1 geo, 4 channels; medium: 156 weeks, 8 geos, 8 channels; large: 208
weeks, 50 geos, 30 channels, 10 controls).

Two measurements, each point in its own child process (so its peak resident
memory is its own):

- ``gradient``: the MMM is built (``mmm.build_model``; dims and data frozen
  as ``MMM.fit`` samples it), its log density and gradient are jaxified
  (``pymc.sampling.jax.get_jaxified_logp``) and jitted
  (``jax.jit(jax.value_and_grad(...))``); the compilation is timed apart
  from the evaluations at the model's initial point: the median of up to
  ``--evals`` calls, and (the main number, ``grad_seconds``) the time per
  evaluation inside one jitted loop, free of Python dispatch as inside
  NumPyro's sampler; the same for ``--vmap-chains`` points at once
  (``jax.vmap``, what NumPyro's vectorized chains evaluate); and the
  adstock's grouped convolution alone. Each timing stops after about
  ``--budget`` seconds. Cheap: the main growth measurement.
- ``fit``: real NUTS fits (NumPyro, ``--chains`` chains, ``--chain-method``,
  ``target_accept`` 0.95, ``--tune`` + ``--draws``): wall and sampling time,
  gradient evaluations (sum of ``n_steps`` over the kept draws), divergences,
  the lowest label-invariant bulk ESS (for Hill the same quantities: curve,
  ``beta``, channel contributions) and the time to 1,000 bulk ESS, linearly
  extrapolated from the run's sampling time.

Data: one market from ``make_mixture_mmm_data`` (two segments on the first
channel, one on the others) with the example's MMM (``trend`` control, yearly
seasonality of order 2, geometric adstock); geos from ``make_geo_panel_data``
(same segments) with the geo tier's MMM (``build_geo_mmm``). The geos axis
uses the geo model at every point, 1 geo included. Controls beyond the trend
are standard normal columns (fixed seed).

``report`` writes the tables, the growth exponents (least-squares slope of
log time per gradient on log size, per axis and model), a figure and
``report.md`` with the commands that made them. Finished points are cached
(one JSON each, written atomically); a rerun skips them.

Each point's progress goes to ``<cache-dir>/logs/<key>.log``; a point that
fails or runs past ``--timeout`` leaves ``<key>.failure.json`` and is retried
by the next run.

Usage::

    python benchmarks/growth.py gradient --timeout 1800
    python benchmarks/growth.py fit --labs small medium --axes weeks components
    python benchmarks/growth.py report
"""

from __future__ import annotations

import os

if "XLA_FLAGS" not in os.environ:  # one host device per chain, before JAX loads
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"

import argparse
import hashlib
import json
import platform
import resource
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from resolvability import versions

HERE = Path(__file__).resolve().parent
SCHEMA = 1
BASE_K = 5
NOISE = 0.02
TRUE_SEGMENTS = 2  # on the first channel; one on each of the others
CONTROL_SEED = 12345
TARGET_ESS = 1000.0
ADSTOCK = "convolution"  # PyMC-Marketing's GeometricAdstock; "lags": pmm_mixture's
L_MAX = 6  # the panels' and the controls sizes' adstock length
MODELS = ("hill", "mixture_k1", "mixture_kK")


@dataclass(frozen=True)
class Size:
    """The data's size: weeks, channels, geos, controls besides the trend.

    ``panel``: the geo model (``MMM(dims=("geo",))``) even with one geo.
    """

    n_weeks: int
    n_channels: int
    n_geos: int = 1
    n_controls: int = 0
    panel: bool = False

    def __post_init__(self) -> None:
        if self.n_geos > 1 and not self.panel:
            object.__setattr__(self, "panel", True)

    def label(self) -> str:
        """Short name, e.g. ``T156-C3-G1``."""
        text = f"T{self.n_weeks}-C{self.n_channels}-G{self.n_geos}"
        if self.n_controls:
            text += f"-X{self.n_controls}"
        if self.panel and self.n_geos == 1:
            text += "-panel"
        return text


BASE = Size(n_weeks=156, n_channels=3)
#: One factor at a time away from the base point.
AXES: dict[str, tuple[int, ...]] = {
    "weeks": (104, 156, 260, 520),
    "channels": (3, 6, 12, 30),
    "components": (1, 2, 3, 5, 8),
    "geos": (1, 4, 10, 20, 50),
}
#: PyMC Labs' public MMM benchmark sizes.
LABS: dict[str, Size] = {
    "small": Size(n_weeks=104, n_channels=4, n_geos=1),
    "medium": Size(n_weeks=156, n_channels=8, n_geos=8),
    "large": Size(n_weeks=208, n_channels=30, n_geos=50, n_controls=10),
}


def axis_size(axis: str, value: int) -> Size:
    """The base point with ``axis`` set to ``value`` (components: the base)."""
    if axis == "weeks":
        return replace(BASE, n_weeks=value)
    if axis == "channels":
        return replace(BASE, n_channels=value)
    if axis == "geos":
        return replace(BASE, n_geos=value, panel=True)
    if axis == "components":
        return BASE
    raise ValueError(f"Unknown axis {axis!r}.")


def model_name(model: str, k: int = BASE_K) -> str:
    """``mixture_kK`` with K filled in; other names unchanged."""
    return f"mixture_k{k}" if model == "mixture_kK" else model


def n_components(model: str) -> int | None:
    """K of ``mixture_k<K>``, ``None`` for Hill."""
    return int(model.removeprefix("mixture_k")) if model.startswith("mixture") else None


@dataclass(frozen=True)
class Task:
    """One measurement: what is measured, on which data, with which model."""

    action: str  # "gradient" or "fit"
    size: Size
    model: str  # "hill" or "mixture_k<K>"
    settings: dict[str, Any] = field(default_factory=dict, compare=False)

    def key(self) -> str:
        """File stem of the cached result."""
        text = json.dumps(
            {**asdict(self), "schema": SCHEMA}, sort_keys=True, default=str
        )
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{self.action}-{self.model}-{self.size.label()}-{digest}"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Task:
        data = json.loads(text)
        return cls(
            data["action"], Size(**data["size"]), data["model"], data["settings"]
        )


def tasks(
    action: str,
    settings: dict[str, Any],
    axes: Sequence[str] = tuple(AXES),
    labs: Sequence[str] = tuple(LABS),
    models: Sequence[str] = MODELS,
    values: Sequence[int] | None = None,
) -> list[Task]:
    """The points of the study, axis by axis then the PyMC Labs sizes.

    ``values`` keeps only the axis points whose varying value is listed (the
    PyMC Labs sizes are kept whatever it says). Points shared by axes (the
    base point) appear once.
    """
    out: list[Task] = []
    for axis in axes:
        for value in AXES[axis]:
            if values is not None and value not in values:
                continue
            size = axis_size(axis, value)
            if axis == "components":
                if any(m.startswith("mixture") for m in models):
                    out.append(Task(action, size, f"mixture_k{value}", settings))
                continue
            out += [Task(action, size, model_name(m), settings) for m in models]
    for name in labs:
        out += [Task(action, LABS[name], model_name(m), settings) for m in models]
    return list(dict.fromkeys(out))


def memberships(size: Size, model: str) -> list[tuple[str, str | int]]:
    """The axes (with the axis value) and PyMC Labs sizes a result belongs to."""
    found: list[tuple[str, str | int]] = []
    k = n_components(model)
    for axis, values in AXES.items():
        for value in values:
            if size != axis_size(axis, value):
                continue
            if axis == "components":
                if k == value:
                    found.append((axis, value))
            elif model in ("hill", "mixture_k1", f"mixture_k{BASE_K}"):
                found.append((axis, value))
    found += [("labs", name) for name, s in LABS.items() if s == size]
    return found


# ---------------------------------------------------------------------------
# Data and models
# ---------------------------------------------------------------------------
def make_data(size: Size, seed: int = 0) -> tuple[Any, pd.DataFrame, pd.Series]:
    """The synthetic data of a size: ``(data, X, y)``.

    One market: ``make_mixture_mmm_data`` and ``with_trend``; a panel:
    ``make_geo_panel_data``, long ``X`` with a ``geo`` column and a trend from
    0 to 1 over the dates. ``n_controls`` standard normal columns ``c1``...
    are added (seed :data:`CONTROL_SEED`).
    """
    from mmm_bench.panel import segments_per_channel
    from mmm_bench.specs import MIN_KAPPA_RATIO

    segments = segments_per_channel(TRUE_SEGMENTS, size.n_channels)
    if size.panel:
        from pmm_mixture.synthetic import make_geo_panel_data

        data = make_geo_panel_data(
            segments,
            n_geos=size.n_geos,
            n_weeks=size.n_weeks,
            noise=NOISE,
            min_kappa_ratio=MIN_KAPPA_RATIO,
            seed=seed,
        )
        long = data.data
        target = next(iter(data.markets.values())).target_column
        dates = np.sort(pd.unique(long["date"]))
        position = pd.Series(np.arange(len(dates)) / (len(dates) - 1), index=dates)
        X = long.drop(columns=[target]).assign(
            trend=long["date"].map(position).to_numpy()
        )
        y = long[target].rename("y")
    else:
        from pmm_mixture.example import with_trend
        from pmm_mixture.synthetic import make_mixture_mmm_data

        data = make_mixture_mmm_data(
            segments,
            n_weeks=size.n_weeks,
            n_channels=size.n_channels,
            mode="aggregate",
            noise=NOISE,
            seed=seed,
        )
        X, y = with_trend(data.X), data.y
    if size.n_controls:
        rng = np.random.default_rng(CONTROL_SEED)
        noise = rng.normal(size=(len(X), size.n_controls))
        X = X.assign(**{c: noise[:, i] for i, c in enumerate(control_names(size))})
    return data, X.reset_index(drop=True), y.reset_index(drop=True)


def control_names(size: Size) -> list[str]:
    """The extra control columns of a size."""
    return [f"c{i + 1}" for i in range(size.n_controls)]


def make_saturation(model: str):
    """``HillSaturation()`` or ``MixtureHillSaturation(n_components=K)``."""
    k = n_components(model)
    if k is None:
        if model != "hill":
            raise ValueError(f"Unknown model {model!r}.")
        from pymc_marketing.mmm import HillSaturation

        return HillSaturation()
    from pmm_mixture import MixtureHillSaturation

    return MixtureHillSaturation(n_components=k)


def make_adstock(name: str, l_max: int):
    """``GeometricAdstock`` (``"convolution"``) or ``LaggedGeometricAdstock``."""
    if name == "convolution":
        from pymc_marketing.mmm import GeometricAdstock

        return GeometricAdstock(l_max=l_max)
    if name == "lags":
        from pmm_mixture import LaggedGeometricAdstock

        return LaggedGeometricAdstock(l_max=l_max)
    raise ValueError(f"Unknown adstock {name!r}: 'convolution' or 'lags'.")


def make_mmm(
    size: Size, model: str, data: Any, adstock: str = ADSTOCK, saturation=None
):
    """The MMM: the example's (one market) or the geo tier's (panel).

    With extra controls, the same structure built here with those controls
    next to the trend. ``adstock``: see :func:`make_adstock`. ``saturation``:
    a component in place of ``model``'s (e.g. with other priors).
    """
    if saturation is None:
        saturation = make_saturation(model)
    if not size.n_controls:
        if size.panel:
            from mmm_bench.panel import build_geo_mmm

            return build_geo_mmm(data, saturation, adstock=make_adstock(adstock, L_MAX))
        from pmm_mixture.example import build_mmm

        return build_mmm(
            data, None, saturation=saturation, adstock=make_adstock(adstock, data.l_max)
        )
    from pymc_marketing.mmm import MMM

    extra = {"dims": ("geo",)} if size.panel else {}
    return MMM(
        date_column="date",
        channel_columns=list(data.channel_columns),
        target_column="y",
        control_columns=["trend", *control_names(size)],
        yearly_seasonality=2,
        adstock=make_adstock(adstock, L_MAX),
        saturation=saturation,
        **extra,
    )


# ---------------------------------------------------------------------------
# Measurements (in the child process)
# ---------------------------------------------------------------------------
def rss_mb() -> dict[str, float]:
    """Peak (``ru_maxrss``) and current (``VmRSS``) memory of this process."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    current = float("nan")
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                current = float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return {"peak": peak, "current": current}


def machine() -> dict[str, Any]:
    """CPU count, CPU model, memory and load of the machine."""
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": list(os.getloadavg()),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_total_gb"] = float(line.split()[1]) / 1024.0**2
    except OSError:
        pass
    return info


class CompileClock:
    """Sum of JAX's tracing and XLA compilation durations since creation."""

    EVENTS = (
        "/jax/core/compile/jaxpr_trace_duration",
        "/jax/core/compile/jaxpr_to_mlir_module_duration",
        "/jax/core/compile/backend_compile_duration",
    )

    def __init__(self) -> None:
        import jax.monitoring

        self.seconds = 0.0
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event: str, duration: float, **_: Any) -> None:
        if event in self.EVENTS:
            self.seconds += duration


BLOCKS = 5  # the in-loop timing: median over at most this many blocks
MIN_BLOCKS = 3
MIN_BLOCK_SECONDS = 0.05


def _timed_calls(fn, args, n: int, budget: float) -> list[float]:
    """Seconds of each of up to ``n`` calls (Python dispatch included).

    Stops once the calls took ``budget`` seconds (after at least
    :data:`MIN_BLOCKS` calls).
    """
    import jax

    times: list[float] = []
    while len(times) < n and (len(times) < MIN_BLOCKS or sum(times) < budget):
        start = time.perf_counter()
        jax.block_until_ready(fn(args))
        times.append(time.perf_counter() - start)
    return times


def _looped(value_and_grad):
    """``jit`` of ``n`` evaluations in one ``fori_loop`` (no Python dispatch).

    Each evaluation's input is shifted by ``1e-30 * i`` (no change in
    float64, but XLA cannot hoist the call out of the loop) and its value and
    gradient are summed into the carry (so none of it is dead code).
    """
    import jax
    import jax.numpy as jnp

    def run(values, n):
        def body(i, acc):
            shift = 1e-30 * i
            value, grads = value_and_grad([x + shift for x in values])
            return acc + jnp.sum(value) + sum(jnp.sum(g) for g in grads)

        return jax.lax.fori_loop(0, n, body, jnp.zeros(()))

    return jax.jit(run)


def _time_loop(
    fn, values, evals: int, budget: float, clock: CompileClock
) -> dict[str, float]:
    """First call (compile + 1 evaluation) and seconds per evaluation.

    A rough time per evaluation comes from loops of 1, 10, 100... until one
    takes :data:`MIN_BLOCK_SECONDS`; then :data:`BLOCKS` blocks (fewer, down
    to :data:`MIN_BLOCKS`, when that would take over ``budget`` seconds) of
    ``evals / blocks`` evaluations each (more where a block would take under
    :data:`MIN_BLOCK_SECONDS`, fewer where they would take over ``budget``),
    and the median over the blocks.
    """
    import jax

    before = clock.seconds
    start = time.perf_counter()
    jax.block_until_ready(fn(values, 1))
    first = time.perf_counter() - start
    compiled = clock.seconds - before
    n = 1
    while True:
        start = time.perf_counter()
        jax.block_until_ready(fn(values, n))
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_BLOCK_SECONDS or n >= 10**6:
            break
        n *= 10
    rough = elapsed / n
    blocks = min(BLOCKS, max(MIN_BLOCKS, int(budget / rough)))
    n = max(
        1,
        int(np.ceil(MIN_BLOCK_SECONDS / rough)),
        min(evals // blocks, int(budget / blocks / rough)),
    )
    per_eval = []
    for _ in range(blocks):
        start = time.perf_counter()
        jax.block_until_ready(fn(values, n))
        per_eval.append((time.perf_counter() - start) / n)
    return {
        "first_call_seconds": first,
        "compile_seconds": compiled,
        "seconds": float(np.median(per_eval)),
        "seconds_min": float(np.min(per_eval)),
        "seconds_max": float(np.max(per_eval)),
        "evals_per_block": n,
        "blocks": blocks,
    }


def adstock_convolution(n_groups: int, n_weeks: int, l_max: int = 6):
    """The adstock as the MMM's JAX graph computes it, alone.

    PyTensor lowers PyMC-Marketing's geometric adstock to one grouped
    convolution (``jax.lax.conv_general_dilated`` with
    ``feature_group_count`` = geos x channels) of the padded spend (data)
    with the ``l_max`` weights. Returns ``(value_and_grad, [weights])``: the
    convolution's sum and its gradient with respect to the weights.
    """
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    spend = jnp.asarray(rng.uniform(size=(1, n_groups, n_weeks + l_max - 1)))

    def total(values):
        (weights,) = values
        out = jax.lax.conv_general_dilated(
            spend, weights, (1,), "VALID", feature_group_count=n_groups
        )
        return jnp.sum(out)

    weights = jnp.asarray(rng.uniform(size=(n_groups, 1, l_max)))
    return jax.value_and_grad(total), [weights]


def say(message: str) -> None:
    """A progress line (time, peak memory) in the point's log."""
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"{stamp} [peak {rss_mb()['peak']:.0f} MB] {message}", flush=True)


def measure_gradient(task: Task) -> dict[str, Any]:
    """Build the MMM and time its jitted log density and gradient.

    ``grad_seconds``: per evaluation inside one jitted loop (as inside
    NumPyro's sampler: no Python dispatch), the median over blocks of
    evaluations (:func:`_time_loop`); ``grad_call_seconds``: median over up
    to ``evals`` separate calls of ``jax.jit(jax.value_and_grad(logp))``
    (dispatch included); ``vmap_grad_seconds``: the looped evaluation of
    ``vmap_chains`` points at once (NumPyro's vectorized chains);
    ``compile_seconds``: tracing and XLA compilation of the single-point
    function (JAX's compile events); ``first_call_seconds``: its first call
    (compilation and one evaluation); ``adstock_grad_seconds``: the adstock's
    grouped convolution alone, looped (:func:`adstock_convolution`). Each
    timing stops after about ``budget`` seconds (at least 3 evaluations).
    """
    import jax
    import jax.numpy as jnp
    from pymc.model.transform.optimization import freeze_dims_and_data
    from pymc.sampling.jax import get_jaxified_logp

    rss_import = rss_mb()["peak"]
    evals = int(task.settings["evals"])
    chains = int(task.settings["vmap_chains"])
    budget = float(task.settings["budget"])
    start = time.perf_counter()
    say(f"data {task.size.label()}")
    data, X, y = make_data(task.size)
    mmm = make_mmm(task.size, task.model, data, task.settings.get("adstock", ADSTOCK))
    say("build_model")
    mmm.build_model(X, y)
    # what MMM.fit samples: dims and data frozen to constants (static shapes)
    model = freeze_dims_and_data(mmm.model)
    build_seconds = time.perf_counter() - start

    say("jaxify")
    start = time.perf_counter()
    logp = get_jaxified_logp(model, negative_logp=False)
    point = model.initial_point()
    values = [jnp.asarray(point[v.name]) for v in model.value_vars]
    jaxify_seconds = time.perf_counter() - start
    n_params = int(sum(int(np.size(point[v.name])) for v in model.value_vars))

    clock = CompileClock()
    value_and_grad = jax.value_and_grad(logp)
    fn = jax.jit(value_and_grad)
    say("compile value_and_grad")
    start = time.perf_counter()
    value, _ = jax.block_until_ready(fn(values))
    first_call = time.perf_counter() - start
    compile_seconds = clock.seconds
    rss_compiled = rss_mb()["peak"]
    say(f"compiled in {first_call:.1f} s; up to {evals} calls")
    calls = _timed_calls(fn, values, evals, budget)
    say(f"calls: {1e3 * np.median(calls):.3f} ms; looped evaluations")
    loop = _time_loop(_looped(value_and_grad), values, evals, budget, clock)
    result: dict[str, Any] = {
        "n_obs": len(y),
        "n_params": n_params,
        "n_value_vars": len(model.value_vars),
        "logp_at_initial_point": float(value),
        "build_seconds": build_seconds,
        "jaxify_seconds": jaxify_seconds,
        "first_call_seconds": first_call,
        "compile_seconds": compile_seconds,
        "grad_seconds": loop["seconds"],
        "grad_seconds_min": loop["seconds_min"],
        "grad_seconds_max": loop["seconds_max"],
        "loop_first_call_seconds": loop["first_call_seconds"],
        "loop_evals": loop["evals_per_block"] * loop["blocks"],
        "grad_call_seconds": float(np.median(calls)),
        "grad_call_seconds_p90": float(np.quantile(calls, 0.9)),
        "grad_calls": len(calls),
        "rss_import_mb": rss_import,
        "rss_compiled_mb": rss_compiled,
    }
    say(f"looped: {1e3 * loop['seconds']:.3f} ms; adstock convolution alone")
    groups = task.size.n_geos * task.size.n_channels
    conv, conv_values = adstock_convolution(groups, task.size.n_weeks)
    conv_loop = _time_loop(_looped(conv), conv_values, evals, budget, clock)
    result["adstock_groups"] = groups
    result["adstock_grad_seconds"] = conv_loop["seconds"]
    if chains > 1:
        say(f"adstock: {1e3 * conv_loop['seconds']:.3f} ms; vmap over {chains}")
        stacked = [jnp.stack([v] * chains) for v in values]
        loop = _time_loop(
            _looped(jax.vmap(value_and_grad)), stacked, evals, budget, clock
        )
        result["vmap_chains"] = chains
        result["vmap_first_call_seconds"] = loop["first_call_seconds"]
        result["vmap_compile_seconds"] = loop["compile_seconds"]
        result["vmap_grad_seconds"] = loop["seconds"]
    say("done")
    return result


def ess_table(mmm) -> pd.DataFrame:
    """Worst R-hat, lowest bulk and tail ESS of the label-invariant quantities.

    The mixture: :func:`pmm_mixture.diagnostics.label_invariant_diagnostics`;
    Hill: the same quantities (curve on 20 positive grid points, ``beta``,
    channel contributions), as the benchmark's worker does.
    """
    if n_components(_model_of(mmm)) is not None:
        from pmm_mixture.diagnostics import label_invariant_diagnostics

        return label_invariant_diagnostics(mmm)
    from mmm_bench.metrics import draws_diagnostics

    posterior = mmm.idata.posterior
    curve = mmm.saturation.sample_curve(posterior, max_value=1.0, num_points=21).isel(
        x=slice(1, None)
    )
    quantities = {
        "curve": curve,
        "saturation_beta": posterior["saturation_beta"],
        "channel_contribution": posterior["channel_contribution"],
    }
    return pd.DataFrame.from_dict(draws_diagnostics(quantities), orient="index")


def _model_of(mmm) -> str:
    from pmm_mixture import MixtureHillSaturation

    saturation = mmm.saturation
    if isinstance(saturation, MixtureHillSaturation):
        return f"mixture_k{saturation.n_components}"
    return "hill"


def measure_fit(task: Task) -> dict[str, Any]:
    """Fit with NumPyro NUTS; times, gradient evaluations, ESS, memory.

    ``fit_seconds``: wall time of ``mmm.fit`` (model building, compilation,
    warmup and sampling, post-processing); ``sampling_seconds``: PyMC's own
    ``sampling_time`` (warmup and sampling, with the compilation inside the
    NumPyro run).
    """
    import arviz as az

    from pmm_mixture.diagnostics import n_divergences

    s = task.settings
    rss_import = rss_mb()["peak"]
    say(f"data {task.size.label()}")
    data, X, y = make_data(task.size)
    mmm = make_mmm(task.size, task.model, data, s.get("adstock", ADSTOCK))
    say(f"fit {s}")
    clock = CompileClock()
    start = time.perf_counter()
    mmm.fit(
        X,
        y,
        nuts_sampler="numpyro",
        nuts_sampler_kwargs={  # a fresh dict
            "chain_method": s["chain_method"],
            "jitter": s.get("jitter", True),
        },
        chains=s["chains"],
        tune=s["tune"],
        draws=s["draws"],
        target_accept=s["target_accept"],
        random_seed=s["seed"],
        progressbar=False,
        compute_convergence_checks=False,
    )
    fit_seconds = time.perf_counter() - start
    compile_seconds = clock.seconds
    rss_fit = rss_mb()["peak"]
    sampling_seconds = float(mmm.idata.posterior.attrs.get("sampling_time", np.nan))
    say(f"fitted in {fit_seconds:.0f} s; diagnostics")
    stats = mmm.idata.sample_stats
    steps = np.asarray(stats["n_steps"], dtype=float)  # (chain, draw)
    table = ess_table(mmm)
    ess_bulk_min = float(table["ess_bulk_min"].min())
    contribution = mmm.idata.posterior["channel_contribution"]
    ess_contribution = float(np.nanmin(np.asarray(az.ess(contribution, method="bulk"))))
    depth = np.asarray(stats["tree_depth"])
    iterations = s["tune"] + s["draws"]
    # one vectorized step moves every chain: its cost follows the longest tree
    steps_per_iteration = float(steps.max(axis=0).mean())
    return {
        "n_obs": len(y),
        "fit_seconds": fit_seconds,
        "compile_seconds": compile_seconds,
        "sampling_seconds": sampling_seconds,
        "fit_minus_compile_seconds": fit_seconds - compile_seconds,
        # the same value; kept so results written before are read alike
        "pymc_sampling_time": sampling_seconds,
        "n_steps_sum": float(steps.sum()),
        "steps_per_draw": float(steps.mean()),
        "steps_per_iteration_max_chain": steps_per_iteration,
        # assumes warmup iterations take as many steps as the kept draws
        "seconds_per_step_est": sampling_seconds
        / (steps.mean() * steps.shape[0] * iterations),
        "divergences": int(n_divergences(mmm)),
        "tree_depth_mean": float(depth.mean()),
        "step_size_per_chain": np.asarray(stats["step_size"])[:, 0].tolist(),
        "r_hat_max": float(table["r_hat_max"].max()),
        "ess_bulk_min": ess_bulk_min,
        "ess_tail_min": float(table["ess_tail_min"].min()),
        "ess_bulk_contribution_min": ess_contribution,
        "diagnostics": table.to_dict(orient="index"),
        "time_to_1000_ess_seconds": sampling_seconds * TARGET_ESS / ess_bulk_min,
        "rss_import_mb": rss_import,
        "rss_fit_mb": rss_fit,
    }


def run_child(task: Task, out: Path) -> None:
    """``one``: measure a task in this process, write the JSON atomically."""
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    before = machine()
    if task.action == "gradient":
        result = measure_gradient(task)
    else:
        result = measure_fit(task)
    record = {
        "task": asdict(task),
        "key": task.key(),
        **result,
        "peak_rss_mb": rss_mb()["peak"],
        "child_seconds": time.perf_counter() - start,
        "machine": before,
        "loadavg_after": list(os.getloadavg()),
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json(out, record)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=float))
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# Running (the parent process)
# ---------------------------------------------------------------------------
def run(todo: Sequence[Task], cache_dir: Path, timeout: float | None) -> None:
    """Measure every task not yet cached, each in a child process."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = [t for t in todo if not (cache_dir / f"{t.key()}.json").exists()]
    print(f"{len(todo)} points to run in {cache_dir}", flush=True)
    for i, task in enumerate(todo, 1):
        path = cache_dir / f"{task.key()}.json"
        failure = cache_dir / f"{task.key()}.failure.json"
        print(f"[{i}/{len(todo)}] {task.key()} ...", flush=True)
        start = time.perf_counter()
        command = [sys.executable, __file__, "one", "--task", task.to_json()]
        command += ["--result", str(path)]
        log = cache_dir / "logs" / f"{task.key()}.log"
        log.parent.mkdir(exist_ok=True)
        try:
            with log.open("w") as stream:
                proc = subprocess.run(
                    command,
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    check=False,
                )
            reason = None if proc.returncode == 0 else f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            reason = f"timeout after {timeout:g} s"
        seconds = time.perf_counter() - start
        tail = log.read_text(errors="replace")[-4000:]
        if reason is not None or not path.exists():
            reason = reason or "no result written"
            print(f"    FAILED ({reason}, {seconds:.0f} s)\n{tail}", flush=True)
            write_json(
                failure,
                {
                    "task": asdict(task),
                    "key": task.key(),
                    "reason": reason,
                    "seconds": seconds,
                    "output_tail": tail,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            )
            continue
        failure.unlink(missing_ok=True)
        r = json.loads(path.read_text())
        if task.action == "gradient":
            print(
                f"    grad {1e3 * r['grad_seconds']:.4g} ms, "
                f"vmap {1e3 * r.get('vmap_grad_seconds', np.nan):.4g} ms, "
                f"adstock alone {1e3 * r['adstock_grad_seconds']:.4g} ms, "
                f"compile {r['compile_seconds']:.1f} s, "
                f"peak {r['peak_rss_mb']:.0f} MB, {seconds:.0f} s",
                flush=True,
            )
        else:
            print(
                f"    fit {r['fit_seconds']:.0f} s (sampling "
                f"{r['sampling_seconds']:.0f} s), div={r['divergences']}, "
                f"ess={r['ess_bulk_min']:.0f}, rhat={r['r_hat_max']:.3f}, "
                f"t1000={r['time_to_1000_ess_seconds']:.0f} s, "
                f"peak {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
SIZE_COLUMNS = ["n_weeks", "n_channels", "n_geos", "n_controls", "panel"]


def load(cache_dir: Path, action: str) -> pd.DataFrame:
    """One row per cached result of ``action`` (the latest of the results of
    one point with the same settings)."""
    rows = []
    for path in sorted(cache_dir.glob(f"{action}-*.json")):
        if path.name.endswith(".failure.json"):
            continue
        r = json.loads(path.read_text())
        task = r["task"]
        flat = {
            k: v
            for k, v in r.items()
            if not isinstance(v, dict | list) and k not in ("key",)
        }
        rows.append(
            {
                "model": task["model"],
                **task["size"],
                "size": Size(**task["size"]).label(),
                **{f"setting_{k}": v for k, v in task["settings"].items()},
                **flat,
                "nproc": r["machine"].get("nproc"),
                "cpu": r["machine"].get("cpu"),
                "loadavg_1min": r["machine"]["loadavg"][0],
                "key": r["key"],
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # a rerun replaces its point; a fit with other settings is another row
    settings = [c for c in frame.columns if c.startswith("setting_")]
    frame = frame.sort_values("created").drop_duplicates(
        ["model", *SIZE_COLUMNS, *settings], keep="last"
    )
    if action == "fit" and "pymc_sampling_time" in frame:
        # results written before sampling_seconds was PyMC's sampling_time
        # timed NumPyro's MCMC.run, which returns before the chains finish
        # under chain_method="parallel" (asynchronous dispatch): use PyMC's
        scale = frame["pymc_sampling_time"] / frame["sampling_seconds"]
        frame["sampling_seconds"] = frame["pymc_sampling_time"]
        for column in ("time_to_1000_ess_seconds", "seconds_per_step_est"):
            if column in frame:
                frame[column] = frame[column] * scale
    return frame.reset_index(drop=True)


def failures(cache_dir: Path) -> pd.DataFrame:
    """Points whose last attempt failed (and that have no result)."""
    rows = []
    for path in sorted(cache_dir.glob("*.failure.json")):
        if path.with_name(path.name.replace(".failure", "")).exists():
            continue
        r = json.loads(path.read_text())
        rows.append(
            {
                "action": r["task"]["action"],
                "model": r["task"]["model"],
                "size": Size(**r["task"]["size"]).label(),
                "reason": r["reason"],
            }
        )
    return pd.DataFrame(rows)


def by_axis(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``axis`` and ``x`` columns: one row per axis a row is on."""
    rows = []
    for _, row in frame.iterrows():
        size = Size(**{c: row[c] for c in SIZE_COLUMNS})
        for axis, value in memberships(size, row["model"]):
            if axis != "labs":
                rows.append({**row.to_dict(), "axis": axis, "x": value})
    return pd.DataFrame(rows)


def growth_exponent(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of ``log y`` on ``log x``.

    >>> round(growth_exponent([1, 2, 4], [3, 12, 48]), 6)
    2.0
    """
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.ptp(x[keep]) == 0:
        return float("nan")
    design = np.column_stack([x[keep], np.ones(keep.sum())])
    slope, _ = np.linalg.lstsq(design, y[keep], rcond=None)[0]
    return float(slope)


def exponents(axis_frame: pd.DataFrame, quantities: dict[str, str]) -> pd.DataFrame:
    """Growth exponents per axis and model line for each quantity column."""
    rows = []
    for (axis, line), group in axis_frame.groupby(["axis", "line"]):
        row = {
            "axis": axis,
            "model": line,
            "points": len(group),
            "range": f"{group['x'].min():g}-{group['x'].max():g}",
        }
        for name, column in quantities.items():
            if column in group:
                row[name] = growth_exponent(group["x"], group[column])
        rows.append(row)
    return pd.DataFrame(rows)


def _line(axis: str, model: str) -> str:
    return "mixture" if axis == "components" else model


def projection(grad: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """PyMC Labs sizes: measured gradients and fits, or projected fit times.

    The projection (per model) is gradient time x median gradient evaluations
    per draw over the fitted points x draws x chains (``draws only``) and the
    same with ``tune + draws`` iterations (``with warmup``); the vectorized
    variant uses the ``vmap`` time of all chains at once x the median of the
    longest chain's steps per iteration x (tune + draws).
    """
    rows = []
    settings = _fit_settings(fits)
    for name, size in LABS.items():
        here = (
            grad[
                np.logical_and.reduce(
                    [grad[c] == getattr(size, c) for c in SIZE_COLUMNS]
                )
            ]
            if not grad.empty
            else grad
        )
        for _, g in here.iterrows():
            row = {
                "size": name,
                "model": g["model"],
                "grad_ms": 1e3 * g["grad_seconds"],
                "vmap_grad_ms": 1e3 * g.get("vmap_grad_seconds", np.nan),
                "compile_s": g["compile_seconds"],
                "peak_rss_mb": g["peak_rss_mb"],
            }
            fitted = (
                fits[
                    (fits["model"] == g["model"])
                    & np.logical_and.reduce(
                        [fits[c] == getattr(size, c) for c in SIZE_COLUMNS]
                    )
                ]
                if not fits.empty
                else fits
            )
            if len(fitted):
                f = fitted.iloc[-1]
                row |= {
                    "fit_s": f["fit_seconds"],
                    "sampling_s": f["sampling_seconds"],
                    "ess_bulk_min": f["ess_bulk_min"],
                    "time_to_1000_ess_s": f["time_to_1000_ess_seconds"],
                    "divergences": f["divergences"],
                    "fit_peak_rss_mb": f["peak_rss_mb"],
                    "kind": "measured",
                }
            elif settings is not None:
                same = fits[fits["model"] == g["model"]]
                same = same if len(same) else fits
                per_draw = float(same["steps_per_draw"].median())
                per_iter = float(same["steps_per_iteration_max_chain"].median())
                chains, tune, draws = settings
                row |= {
                    "steps_per_draw_used": per_draw,
                    "projected_sampling_s_draws_only": g["grad_seconds"]
                    * per_draw
                    * draws
                    * chains,
                    "projected_sampling_s_with_warmup": g["grad_seconds"]
                    * per_draw
                    * (tune + draws)
                    * chains,
                    # vmap time of the fits' number of chains only
                    "projected_vectorized_s_with_warmup": (
                        g.get("vmap_grad_seconds", np.nan)
                        if g.get("vmap_chains") == chains
                        else np.nan
                    )
                    * per_iter
                    * (tune + draws),
                    "kind": "PROJECTION",
                }
            rows.append(row)
    return pd.DataFrame(rows)


def _fit_settings(fits: pd.DataFrame) -> tuple[int, int, int] | None:
    """(chains, tune, draws) of the fits (the most common), ``None`` if none."""
    if fits.empty:
        return None
    cols = ["setting_chains", "setting_tune", "setting_draws"]
    chains, tune, draws = fits[cols].mode().iloc[0]
    return int(chains), int(tune), int(draws)


def fit_check(grad: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """Fitted points: measured sampling time against the projection formula."""
    if fits.empty or grad.empty:
        return pd.DataFrame()
    keys = ["model", *SIZE_COLUMNS]
    if "vmap_chains" not in grad:
        grad = grad.assign(vmap_chains=np.nan)
    both = fits.merge(
        grad[[*keys, "grad_seconds", "vmap_grad_seconds", "vmap_chains"]],
        on=keys,
        how="left",
    )
    # the vmap time applies to vectorized fits of as many chains
    applies = (both["setting_chain_method"] == "vectorized") & (
        both["vmap_chains"] == both["setting_chains"]
    )
    both.loc[~applies, "vmap_grad_seconds"] = np.nan
    iterations = both["setting_tune"] + both["setting_draws"]
    both["projected_with_warmup_s"] = (
        both["grad_seconds"]
        * both["steps_per_draw"]
        * iterations
        * both["setting_chains"]
    )
    both["projected_vectorized_s"] = (
        both["vmap_grad_seconds"] * both["steps_per_iteration_max_chain"] * iterations
    )
    both["measured_over_projected"] = (
        both["sampling_seconds"] / both["projected_with_warmup_s"]
    )
    both["measured_over_vectorized"] = (
        both["sampling_seconds"] / both["projected_vectorized_s"]
    )
    return both


def plot(axis_frame: pd.DataFrame, path: Path) -> None:
    """Log-log growth: gradient time (top) and peak memory (bottom) per axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes_names = [a for a in AXES if a in set(axis_frame["axis"])]
    fig, grid = plt.subplots(
        2,
        max(len(axes_names), 1),
        figsize=(4 * max(len(axes_names), 1), 7),
        squeeze=False,
    )
    rows = (("grad_ms", "time per gradient (ms)"), ("peak_rss_mb", "peak RSS (MB)"))
    for j, axis in enumerate(axes_names):
        sub = axis_frame[axis_frame["axis"] == axis]
        for i, (column, label) in enumerate(rows):
            ax = grid[i, j]
            for line, group in sub.groupby("line"):
                group = group.sort_values("x")
                ax.plot(group["x"], group[column], marker="o", label=line)
            ax.set_xscale("log")
            ax.set_yscale("log")
            values = sorted(sub["x"].unique())
            ax.set_xticks(values, [f"{v:g}" for v in values])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(
                matplotlib.ticker.LogFormatter(minor_thresholds=(2, 0.4))
            )
            hill = axis_frame[
                (axis_frame["axis"] == "weeks")
                & (axis_frame["x"] == BASE.n_weeks)
                & (axis_frame["line"] == "hill")
            ]
            if axis == "components" and len(hill):
                ax.axhline(
                    float(hill[column].iloc[0]),
                    color="grey",
                    linestyle=":",
                    label="hill (base point)",
                )
            ax.set_xlabel(axis)
            if j == 0:
                ax.set_ylabel(label)
            if i == 0:
                ax.set_title(f"{axis} (others at base)", fontsize=9)
        grid[0, j].legend(fontsize=7)
    fig.suptitle(
        "Growth of the cost of a logp + gradient evaluation "
        f"(base: {BASE.n_weeks} weeks, {BASE.n_channels} channels, 1 geo, "
        f"K={BASE_K})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    from mmm_bench.report import markdown_table

    def fmt(v: Any) -> Any:
        if isinstance(v, float | np.floating):
            return "" if np.isnan(v) else f"{v:.{digits}g}"
        return v

    return markdown_table(frame.map(fmt)) if not frame.empty else "(none)"


def report(cache_dir: Path, out: Path, command: str) -> str:
    """Tables, exponents, figure, ``report.md`` and ``meta.json`` in ``out``."""
    grad = load(cache_dir, "gradient")
    fits = load(cache_dir, "fit")
    if grad.empty and fits.empty:
        raise SystemExit(f"No cached results in {cache_dir}.")
    out.mkdir(parents=True, exist_ok=True)
    if not grad.empty and "vmap_grad_seconds" not in grad:
        grad["vmap_grad_seconds"] = np.nan
    lines = ["# Growth study", "", f"Report: `{command}`", ""]
    machines = pd.concat([grad, fits]).reindex(columns=["nproc", "cpu"])
    meta = {
        "command": command,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "machine": machine(),
    }
    lines += [
        "Measured with `python benchmarks/growth.py gradient ...` and "
        "`python benchmarks/growth.py fit ...` (the commands, as run, are in "
        "`commands.txt` of the cache directory and copied below).",
        "",
    ]
    log = cache_dir / "commands.txt"
    if log.exists():
        lines += ["```", log.read_text().strip(), "```", ""]
    lines += [
        f"Versions: {', '.join(f'{k} {v}' for k, v in versions().items())}; "
        f"python {platform.python_version()}. Machine (`nproc`): "
        f"{', '.join(str(n) for n in machines['nproc'].unique())} CPU(s), "
        f"{', '.join(str(c) for c in machines['cpu'].unique())}. "
        f"Every point ran in its own process; load average at each point is in "
        "the CSVs (`loadavg_1min`).",
        "",
    ]
    if not grad.empty:
        grad["grad_ms"] = 1e3 * grad["grad_seconds"]
        grad["vmap_grad_ms"] = 1e3 * grad.get("vmap_grad_seconds", np.nan)
        grad.to_csv(out / "gradient.csv", index=False)
        axis_frame = by_axis(grad)
        axis_frame["line"] = [
            _line(a, m)
            for a, m in zip(axis_frame["axis"], axis_frame["model"], strict=True)
        ]
        axis_frame["model_rss_mb"] = (
            axis_frame["peak_rss_mb"] - axis_frame["rss_import_mb"]
        )
        table = exponents(
            axis_frame,
            {
                "grad_time": "grad_seconds",
                "vmap_grad_time": "vmap_grad_seconds",
                "compile_time": "compile_seconds",
                "peak_rss_above_imports": "model_rss_mb",
                "adstock_conv_time": "adstock_grad_seconds",
            },
        )
        table = table[table["points"] >= 2]
        table.to_csv(out / "exponents.csv", index=False)
        plot(axis_frame, out / "growth.png")
        lines += [
            "## Growth exponents",
            "",
            "Least-squares slope of log(quantity) on log(size) along each axis, "
            "the others at the base point (156 weeks, 3 channels, 1 geo, "
            f"K={BASE_K}); the geos axis uses the geo model at every point, "
            "1 geo included. 1 means linear growth. `vmap_grad_time`: all "
            "chains' gradients at once (as NumPyro's vectorized chains); "
            "`peak_rss_above_imports`: peak RSS less the RSS after the imports; "
            "`adstock_conv_time`: the adstock's grouped convolution alone "
            "(one group per geo and channel), value and gradient.",
            "",
            _markdown(table),
            "",
            "![growth](growth.png)",
            "",
            "## Time per gradient evaluation (ms) and peak memory",
            "",
        ]
        shown = axis_frame.pivot_table(
            index=["axis", "x"], columns="line", values="grad_ms"
        )
        lines += [_markdown(shown.reset_index()), ""]
        shown = axis_frame.pivot_table(
            index=["axis", "x"], columns="line", values="peak_rss_mb"
        )
        lines += ["Peak RSS (MB):", "", _markdown(shown.reset_index()), ""]
        shown = axis_frame.pivot_table(
            index=["axis", "x"], columns="line", values="compile_seconds"
        )
        lines += [
            "Tracing and XLA compilation of value and gradient (JAX's compile "
            "events), s:",
            "",
            _markdown(shown.reset_index()),
            "",
        ]
        if "adstock_grad_seconds" in axis_frame:
            axis_frame["adstock_share"] = (
                axis_frame["adstock_grad_seconds"] / axis_frame["grad_seconds"]
            )
            shown = axis_frame.pivot_table(
                index=["axis", "x"], columns="line", values="adstock_share"
            )
            lines += [
                "Share of the gradient time that the adstock's grouped "
                "convolution takes when timed alone (PyTensor lowers the "
                "geometric adstock to `jax.lax.conv_general_dilated` with one "
                "feature group per geo and channel):",
                "",
                _markdown(shown.reset_index()),
                "",
            ]
    if not fits.empty:
        fits.to_csv(out / "fits.csv", index=False)
        chains, tune, draws = _fit_settings(fits)
        cols = [
            "model",
            "size",
            "fit_seconds",
            "compile_seconds",
            "sampling_seconds",
            "n_steps_sum",
            "steps_per_draw",
            "divergences",
            "r_hat_max",
            "ess_bulk_min",
            "time_to_1000_ess_seconds",
            "peak_rss_mb",
        ]
        lines += [
            "## Fits",
            "",
            f"NumPyro NUTS, mostly {chains} chains x ({tune} + {draws}) "
            "(settings per fit in fits.csv), target_accept 0.95. "
            "`fit_seconds`: wall time of `mmm.fit` (build, compilation, "
            "warmup and sampling, post-processing); `sampling_seconds`: "
            "PyMC's `sampling_time` (warmup and sampling, with the compilation "
            "inside the NumPyro run); `n_steps_sum`: gradient evaluations of the kept "
            "draws (warmup not recorded). `time_to_1000_ess_seconds` = "
            "sampling_seconds x 1000 / lowest label-invariant bulk ESS: "
            "**extrapolated linearly** from this run's length, not measured.",
            "",
            _markdown(fits[cols]),
            "",
        ]
        fit_axes = by_axis(fits)
        if not fit_axes.empty:
            fit_axes["line"] = [
                _line(a, m)
                for a, m in zip(fit_axes["axis"], fit_axes["model"], strict=True)
            ]
            table = exponents(
                fit_axes,
                {
                    "sampling_time": "sampling_seconds",
                    "time_to_1000_ess": "time_to_1000_ess_seconds",
                },
            )
            table = table[table["points"] >= 2]
            if not table.empty:
                table.to_csv(out / "fit_exponents.csv", index=False)
                lines += ["Fit-time growth exponents:", "", _markdown(table), ""]
        check = fit_check(grad, fits)
        if not check.empty:
            lines += [
                "Measured sampling time against the projection formula at the "
                "fitted points (gradient time x steps per draw x (tune + draws) "
                "x chains; vectorized: vmap time x longest chain's steps x "
                "(tune + draws)):",
                "",
                _markdown(
                    check[
                        [
                            "model",
                            "size",
                            "sampling_seconds",
                            "projected_with_warmup_s",
                            "measured_over_projected",
                            "projected_vectorized_s",
                            "measured_over_vectorized",
                        ]
                    ]
                ),
                "",
            ]
    if not grad.empty:
        labs = projection(grad, fits)
        labs.to_csv(out / "pymc_labs_sizes.csv", index=False)
        lines += [
            "## PyMC Labs benchmark sizes",
            "",
            "small: 104 weeks, 1 geo, 4 channels; medium: 156 weeks, 8 geos, "
            "8 channels; large: 208 weeks, 50 geos, 30 channels, 10 controls. "
            "`kind` PROJECTION: no fit was run at that size; the sampling time "
            "is **projected**, not measured: gradient time x median gradient "
            "evaluations per draw over the fitted points of the same model "
            "(`steps_per_draw_used`) x draws x chains (`draws_only`), the same "
            "with tune + draws (`with_warmup`), and the vmap time of all chains "
            "x the longest chain's steps x (tune + draws) (`vectorized`). "
            "Steps per draw grow with the posterior's difficulty, which the "
            "projection takes from the smaller fitted data.",
            "",
            _markdown(labs),
            "",
        ]
    failed = failures(cache_dir)
    if not failed.empty:
        lines += ["## Points that failed", "", _markdown(failed), ""]
    text = "\n".join(lines)
    (out / "report.md").write_text(text)
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    return text


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("gradient", "fit", "report", "one"))
    parser.add_argument("--cache-dir", type=Path, default=HERE / "cache" / "growth")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "growth")
    parser.add_argument(
        "--axes",
        nargs="*",
        choices=tuple(AXES),
        help="axes to run (gradient default: all; fit default: none)",
    )
    parser.add_argument(
        "--values", type=int, nargs="+", help="only these values on the axes"
    )
    parser.add_argument(
        "--labs",
        nargs="*",
        choices=tuple(LABS),
        help="PyMC Labs sizes (gradient default: all; fit default: small medium)",
    )
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--limit", type=int, help="run at most this many points")
    parser.add_argument(
        "--timeout", type=float, help="seconds before a point's process is killed"
    )
    gradient = parser.add_argument_group("gradient")
    gradient.add_argument(
        "--evals",
        type=int,
        default=200,
        help="evaluations per timing (calls: at most; the loop: more when fast)",
    )
    gradient.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="seconds a timing may take before it stops (at least 3 evaluations)",
    )
    gradient.add_argument(
        "--vmap-chains",
        type=int,
        default=4,
        help="also time this many points at once with jax.vmap (1: skip)",
    )
    fit = parser.add_argument_group("fit")
    fit.add_argument("--chains", type=int, default=4)
    fit.add_argument("--tune", type=int, default=500)
    fit.add_argument("--draws", type=int, default=500)
    fit.add_argument("--target-accept", type=float, default=0.95)
    fit.add_argument(
        "--chain-method",
        choices=("vectorized", "parallel", "sequential"),
        default="vectorized",
    )
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument(
        "--no-jitter",
        action="store_true",
        help="start every chain at the model's initial point (PyMC's jitter off)",
    )
    parser.add_argument(
        "--adstock",
        choices=("convolution", "lags"),
        default=ADSTOCK,
        help="GeometricAdstock (convolution) or pmm_mixture.LaggedGeometricAdstock",
    )
    one = parser.add_argument_group("one (internal: a point in a child process)")
    one.add_argument("--task", help="the task as JSON")
    one.add_argument("--result", type=Path, help="where to write the result")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    words = list(sys.argv[1:] if argv is None else argv)
    command = "python benchmarks/growth.py " + " ".join(words)
    if args.action == "one":
        try:
            run_child(Task.from_json(args.task), args.result)
        except Exception:
            traceback.print_exc()
            return 1
        return 0
    if args.action == "report":
        print(report(args.cache_dir, args.out, command))
        return 0
    if args.action == "gradient":
        settings = {
            "evals": args.evals,
            "vmap_chains": args.vmap_chains,
            "budget": args.budget,
        }
        axes = list(AXES) if args.axes is None else args.axes
        labs = list(LABS) if args.labs is None else args.labs
    else:
        settings = {
            "chains": args.chains,
            "tune": args.tune,
            "draws": args.draws,
            "target_accept": args.target_accept,
            "chain_method": args.chain_method,
            "seed": args.seed,
        }
        if args.no_jitter:  # results cached before the option keep their keys
            settings["jitter"] = False
        axes = [] if args.axes is None else args.axes
        labs = ["small", "medium"] if args.labs is None else args.labs
    if args.adstock != ADSTOCK:  # results cached before the option keep their keys
        settings["adstock"] = args.adstock
    todo = tasks(args.action, settings, axes, labs, args.models, args.values)
    if args.limit is not None:
        todo = todo[: args.limit]
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    with (args.cache_dir / "commands.txt").open("a") as log:
        log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')}  {command}\n")
    run(todo, args.cache_dir, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
