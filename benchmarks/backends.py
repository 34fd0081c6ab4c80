"""Backend comparison: the same MMM fits under four NUTS implementations.

One data set per seed (``make_mixture_mmm_data(n_segments=(1, 2, 1),
n_weeks=156, mode="aggregate", noise=0.02, seed=seed)``), the MMM of
``pmm_mixture.example.build_mmm`` (trend control, yearly seasonality,
geometric adstock) with one of three saturations, fitted on
``with_trend(data.X)`` and ``data.y`` by ``mmm.fit`` under each backend with
the same chains, warmup, draws, ``target_accept`` and ``random_seed`` (the
data seed):

* models: ``hill`` (PyMC-Marketing's ``HillSaturation()``), ``mixture_k1`` and
  ``mixture_k5`` (``MixtureHillSaturation(n_components=1 | 5)``), default
  priors;
* backends: ``numpyro_parallel`` and ``numpyro_vectorized`` (NumPyro NUTS,
  ``chain_method`` "parallel" or "vectorized"), ``nutpie`` and ``pymc``
  (PyMC's own NUTS, ``cores`` processes).

Every fit runs in its own child process (``python backends.py one ...``),
one after the other, so that JIT caches and peak memory belong to one fit.
With ``--compiledir fresh`` (the default) each child also gets an empty
PyTensor ``base_compiledir`` (C and numba caches), so every backend compiles
cold, as JAX always does, and no result depends on the order of the fits.

What each fit records (``benchmarks/cache/backends/<key>.json``):

* ``build_seconds``: ``mmm.build_model`` (the PyMC graph), timed before
  ``mmm.fit`` (which then reuses the model); ``fit_seconds``: ``mmm.fit``;
  ``wall_seconds``: their sum, what ``mmm.fit`` alone costs. Imports of the
  backend's packages happen before and are timed apart (``import_seconds``).
* ``sampling_seconds``: ``idata.posterior.attrs["sampling_time"]``, stamped by
  PyMC around the sampler call. Its meaning differs by backend: for
  ``nutpie`` the numba compile (``nutpie.compile_pymc_model``) happens before
  the clock starts, and for ``pymc`` the logp/gradient compile (``init_nuts``)
  does, but the clock includes starting the worker processes; for NumPyro the
  clock includes the XLA compile of the warmup and sampling loops, which
  ``MCMC.run`` does inside, so no backend-given compile time exists there.
  ``outside_sampling_seconds = fit_seconds - sampling_seconds`` is compile
  plus post-processing (the deterministics are recomputed after sampling for
  every backend) for nutpie and pymc, and post-processing only for NumPyro.
* A *probe* per (model, backend): the same fit with ``--probe-draws`` warmup
  and draws in its own fresh process. Its wall time is the fixed cost of a fit
  (imports excluded, every compile included, almost no sampling), measured the
  same way for every backend; ``net_seconds = wall - probe wall`` estimates the
  part of a fit that grows with the draws.
* Health: divergences (``pmm_mixture.diagnostics.n_divergences``); worst R-hat
  and lowest bulk ESS over label-invariant quantities from
  ``label_invariant_diagnostics`` (channel curves on a grid, channel
  contributions, ``beta``). That function needs the mixture's variables, so
  for ``hill`` (one curve, no labels to switch) the quantity is each channel's
  contribution summed over the dates, with arviz's R-hat and bulk ESS; the
  same summed-contribution figures (``contribution_*``) are recorded for every
  model so that models can be compared on one quantity. ESS/s is the lowest
  bulk ESS per sampling second and per wall second.
* The fraction of draws at the maximum tree depth (10, every backend's
  default) from the backend's own flag (``reached_max_treedepth`` in PyMC,
  ``maxdepth_reached`` in nutpie) or from the depth (NumPyro's ``tree_depth``
  derived from its number of steps); ``n_steps_mean``, leapfrog steps per
  draw.
* Memory: ``peak_rss_mb`` (the child's own ``ru_maxrss``, exact) and
  ``tree_peak_rss_mb`` (RSS of the child and all its descendants summed,
  polled every 0.5 s: PyMC's worker processes live under a forkserver, so
  ``RUSAGE_CHILDREN`` would miss them; a lower bound on the true peak).
* ``loadavg_start``/``loadavg_end``: other work on the machine slows a fit.

A fit that fails (an exception, a crash, ``--timeout``) is cached with
``status: "failed"`` and its message; a rerun skips it unless
``--retry-failed``. Finished fits are skipped too, so an interrupted run
resumes.

The report gives medians over seeds per (model, backend), each backend's times
relative to ``numpyro_parallel`` for the same model, the failures, and a
recommendation computed from the numbers: the fastest median wall time among
the backends with no failed fit, 0 divergences and R-hat <= 1.01 in every
seed.

Usage::

    python benchmarks/backends.py run
    python benchmarks/backends.py report
    # a smoke test into a scratch folder
    python benchmarks/backends.py run --cache-dir /tmp/bk_cache --chains 2 \
        --tune 30 --draws 30 --seeds 0
    python benchmarks/backends.py report --cache-dir /tmp/bk_cache \
        --out /tmp/bk_out --chains 2 --tune 30 --draws 30
"""

from __future__ import annotations

import os

if "XLA_FLAGS" not in os.environ:  # one host device per chain, before JAX loads
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"

import argparse
import hashlib
import importlib.metadata
import json
import platform
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SCHEMA = 1
HERE = Path(__file__).resolve().parent
MODELS = ("hill", "mixture_k1", "mixture_k5")
#: name -> (``nuts_sampler``, ``nuts_sampler_kwargs``); a fresh copy of the
#: kwargs goes to every fit, since ``pm.sample`` adds ``target_accept`` to it.
BACKENDS: dict[str, tuple[str, dict[str, Any]]] = {
    "numpyro_parallel": ("numpyro", {"chain_method": "parallel"}),
    "numpyro_vectorized": ("numpyro", {"chain_method": "vectorized"}),
    "nutpie": ("nutpie", {}),
    "pymc": ("pymc", {}),
}
#: Backend whose times the others are divided by.
REFERENCE = "numpyro_parallel"
#: Modules imported (and timed) before the clock of a fit starts.
BACKEND_IMPORTS = {
    "numpyro": ("jax", "numpyro", "pymc.sampling.jax"),
    "nutpie": ("numba", "nutpie"),
    "pymc": (),
}
#: Maximum tree depth: the default of NumPyro, nutpie and PyMC alike.
MAX_TREE_DEPTH = 10
R_HAT_OK = 1.01
SEEDS = (0, 1)
DATA = {"n_segments": (1, 2, 1), "n_weeks": 156, "mode": "aggregate", "noise": 0.02}
VERSION_PACKAGES = (
    "pymc",
    "pymc-marketing",
    "pytensor",
    "numpyro",
    "jax",
    "jaxlib",
    "nutpie",
    "numba",
    "arviz",
    "numpy",
)
MB = 1024.0  # ru_maxrss is in KiB on Linux
#: Record fields left out of fits.csv.
BULKY = ("traceback", "output_tail", "token")
TIMING_SOURCES = ("sampling_seconds_source", "max_tree_depth_source")


@dataclass(frozen=True)
class Settings:
    """Sampler settings shared by every backend of a run."""

    chains: int = 4
    tune: int = 1000
    draws: int = 1000
    target_accept: float = 0.95
    cores: int = 2
    compiledir: str = "fresh"

    def digest(self) -> str:
        """Short hash of the settings (and the cache schema)."""
        text = json.dumps({**asdict(self), "schema": SCHEMA}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Job:
    """One child process: a fit, or the probe of a (model, backend)."""

    kind: str  # "fit" or "probe"
    model: str
    backend: str
    seed: int
    settings: Settings

    def key(self) -> str:
        """File stem of the cached result."""
        prefix = "probe-" if self.kind == "probe" else ""
        return (
            f"{prefix}{self.model}-{self.backend}-seed{self.seed}-"
            f"{self.settings.digest()}"
        )

    def to_json(self) -> str:
        """The job as one JSON string (the child's argument)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        """Inverse of :meth:`to_json`."""
        fields = json.loads(text)
        return cls(**{**fields, "settings": Settings(**fields["settings"])})


def versions() -> dict[str, str]:
    """Installed versions of the packages the fits depend on."""
    out = {}
    for name in VERSION_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (a temp file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _number(value: Any) -> float | None:
    """A float for JSON, ``None`` when missing or not finite."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


# ---------------------------------------------------------------------------
# One fit (the child process)
# ---------------------------------------------------------------------------
def make_saturation(model: str):
    """The saturation of a model name, with default priors."""
    if model == "hill":
        from pymc_marketing.mmm import HillSaturation

        return HillSaturation()
    from pmm_mixture import MixtureHillSaturation

    return MixtureHillSaturation(n_components=int(model.removeprefix("mixture_k")))


def sampler_kwargs(backend: str, settings: Settings, seed: int) -> dict[str, Any]:
    """Keyword arguments of ``mmm.fit`` for one backend, fresh dicts each call."""
    nuts_sampler, nuts_kwargs = BACKENDS[backend]
    kwargs: dict[str, Any] = {
        "nuts_sampler": nuts_sampler,
        "chains": settings.chains,
        "tune": settings.tune,
        "draws": settings.draws,
        "target_accept": settings.target_accept,
        "cores": settings.cores,
        "random_seed": seed,
        "progressbar": False,
        # PyMC's check reads R-hat of every parameter (meaningless for mixture
        # components) and only some backends run it; ours is below.
        "compute_convergence_checks": False,
    }
    if nuts_kwargs:
        kwargs["nuts_sampler_kwargs"] = dict(nuts_kwargs)
    return kwargs


class TreeMemory:
    """Peak summed RSS (MB) of this process and its descendants, polled."""

    def __init__(self, interval: float = 0.5) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self.peak_mb = 0.0

    def _rss(self) -> float:
        total = 0
        try:
            processes = [self._process, *self._process.children(recursive=True)]
        except self._psutil.Error:
            return 0.0
        for process in processes:
            try:
                total += process.memory_info().rss
            except self._psutil.Error:
                continue
        return total / 2**20

    def _poll(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self._rss())
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss())


def _summarise(draws) -> dict[str, float | None]:
    """Worst R-hat and lowest bulk ESS over all elements (NaNs skipped)."""
    import arviz as az

    r_hat = np.asarray(az.rhat(draws, sample_dims=["chain", "draw"]), dtype=float)
    ess = np.asarray(
        az.ess(draws, sample_dims=["chain", "draw"], method="bulk"), dtype=float
    )
    r_hat, ess = r_hat[np.isfinite(r_hat)], ess[np.isfinite(ess)]
    return {
        "r_hat_max": _number(r_hat.max()) if r_hat.size else None,
        "ess_bulk_min": _number(ess.min()) if ess.size else None,
    }


def contribution_total(mmm):
    """Each channel's contribution summed over the dates (chain, draw, channel)."""
    from pmm_mixture.posterior import get_posterior

    contribution = get_posterior(mmm)["channel_contribution"]
    keep = {"chain", "draw", "channel"}
    return contribution.sum([d for d in contribution.dims if d not in keep])


def health(mmm) -> dict[str, Any]:
    """Divergences, label-invariant R-hat and ESS, tree depth, steps."""
    from pmm_mixture.diagnostics import label_invariant_diagnostics, n_divergences

    common = _summarise(contribution_total(mmm))
    try:
        table = label_invariant_diagnostics(mmm)
    except ValueError:  # not a mixture: HillSaturation has no weights
        quantities = "channel_contribution summed over date"
        main = common
    else:
        quantities = "label_invariant_diagnostics: " + ", ".join(map(str, table.index))
        main = {
            "r_hat_max": _number(table["r_hat_max"].max()),
            "ess_bulk_min": _number(table["ess_bulk_min"].min()),
        }
    stats = mmm.idata["sample_stats"]
    stats = stats.to_dataset() if hasattr(stats, "to_dataset") else stats
    depth_frac, depth_source = None, "not reported"
    for name in ("reached_max_treedepth", "maxdepth_reached"):
        if name in stats:
            depth_frac = float(np.asarray(stats[name]).astype(bool).mean())
            depth_source = name
            break
    else:
        for name in ("tree_depth", "depth"):
            if name in stats:
                depth_frac = float((np.asarray(stats[name]) >= MAX_TREE_DEPTH).mean())
                depth_source = f"{name} >= {MAX_TREE_DEPTH}"
                break
    diverging = np.asarray(stats["diverging"]).astype(bool)
    return {
        "divergences": int(n_divergences(mmm)),
        "divergences_per_chain": diverging.sum(axis=1).tolist(),
        "diagnostic_quantities": quantities,
        **main,
        "contribution_r_hat_max": common["r_hat_max"],
        "contribution_ess_bulk_min": common["ess_bulk_min"],
        "max_tree_depth_frac": depth_frac,
        "max_tree_depth_source": depth_source,
        "n_steps_mean": (
            _number(np.asarray(stats["n_steps"]).mean()) if "n_steps" in stats else None
        ),
        "sample_stats": sorted(map(str, stats.data_vars)),
    }


def measure(job: Job) -> dict[str, Any]:
    """Build and fit one MMM under one backend; times, memory and health."""
    import importlib

    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    from pmm_mixture.example import build_mmm, with_trend
    from pmm_mixture.synthetic import make_mixture_mmm_data

    for module in BACKEND_IMPORTS[BACKENDS[job.backend][0]]:
        importlib.import_module(module)
    import_seconds = time.perf_counter() - start

    data = make_mixture_mmm_data(**DATA, seed=job.seed)
    mmm = build_mmm(data, None, saturation=make_saturation(job.model))
    X = with_trend(data.X)
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB
    with TreeMemory() as memory:
        start = time.perf_counter()
        mmm.build_model(X, data.y)
        build_seconds = time.perf_counter() - start
        start = time.perf_counter()
        mmm.fit(X, data.y, **sampler_kwargs(job.backend, job.settings, job.seed))
        fit_seconds = time.perf_counter() - start
    sampling = mmm.idata["posterior"].attrs.get("sampling_time")
    sampling_seconds = _number(sampling)
    record: dict[str, Any] = {
        "import_seconds": import_seconds,
        "build_seconds": build_seconds,
        "fit_seconds": fit_seconds,
        "wall_seconds": build_seconds + fit_seconds,
        "sampling_seconds": sampling_seconds,
        "sampling_seconds_source": (
            "idata.posterior.attrs['sampling_time']"
            if sampling_seconds is not None
            else "not available"
        ),
        "outside_sampling_seconds": (
            None if sampling_seconds is None else fit_seconds - sampling_seconds
        ),
        "rss_before_fit_mb": rss_before_mb,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB,
        "tree_peak_rss_mb": memory.peak_mb,
        "children_peak_rss_mb": (
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / MB
        ),
        "cpu_seconds": sum(
            getattr(resource.getrusage(who), field)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for field in ("ru_utime", "ru_stime")
        ),
    }
    if job.kind == "fit":
        record |= health(mmm)
    return record


def child(job: Job, result: Path, token: str, command: str) -> int:
    """Run one job in this process and write its JSON (ok or failed)."""
    record: dict[str, Any] = {
        "job": asdict(job),
        "key": job.key(),
        "token": token,
        "command": command,
        "data": {**DATA, "seed": job.seed},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "loadavg_start": list(os.getloadavg()),
    }
    try:
        record |= {"status": "ok", **measure(job)}
    except Exception as error:
        record |= {
            "status": "failed",
            "message": f"{type(error).__name__}: {error}"[:2000],
            "traceback": traceback.format_exc()[-6000:],
        }
    record["loadavg_end"] = list(os.getloadavg())
    write_json(result, record)
    return 0 if record["status"] == "ok" else 1


# ---------------------------------------------------------------------------
# Running every fit, one child at a time
# ---------------------------------------------------------------------------
def jobs(
    models: Sequence[str],
    backends: Sequence[str],
    seeds: Sequence[int],
    settings: Settings,
    probe_draws: int,
) -> Iterator[Job]:
    """Seed by seed, every (model, backend); probes with the first seed."""
    probe = replace(settings, tune=probe_draws, draws=probe_draws)
    for seed in seeds:
        for model in models:
            for backend in backends:
                if probe_draws > 0 and seed == seeds[0]:
                    yield Job("probe", model, backend, seed, probe)
                yield Job("fit", model, backend, seed, settings)


def child_env(settings: Settings, scratch: Path | None) -> dict[str, str]:
    """Environment of a child: one XLA device per chain, its own compiledir."""
    env = dict(os.environ)
    if env["XLA_FLAGS"] == "--xla_force_host_platform_device_count=4":  # ours
        devices = max(4, settings.chains)
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    if scratch is not None:
        flags = [env.get("PYTENSOR_FLAGS", ""), f"base_compiledir={scratch}"]
        env["PYTENSOR_FLAGS"] = ",".join(f for f in flags if f)
    return env


def run_child(job: Job, path: Path, timeout: float | None, command: str) -> dict:
    """Run a job in a child process; its record, or a failed one if none came."""
    token = uuid.uuid4().hex
    scratch = (
        Path(tempfile.mkdtemp(prefix="pytensor-backends-"))
        if job.settings.compiledir == "fresh"
        else None
    )
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "one",
        "--job",
        job.to_json(),
        "--result",
        str(path),
        "--token",
        token,
        "--command",
        command,
    ]
    start = time.perf_counter()
    timed_out = False
    try:
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=child_env(job.settings, scratch),
            start_new_session=True,  # its own process group, killed on timeout
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - start
    record = json.loads(path.read_text()) if path.exists() else {}
    if record.get("token") != token:  # the child wrote nothing
        why = (
            f"timed out after {timeout:g} s"
            if timed_out
            else f"child exited with code {process.returncode} without a result"
        )
        record = {
            "job": asdict(job),
            "key": job.key(),
            "token": token,
            "command": command,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": versions(),
            "status": "failed",
            "message": why,
            "output_tail": (output or "")[-4000:],
        }
    record["process_seconds"] = seconds
    write_json(path, record)
    return record


def run(
    todo_jobs: Sequence[Job],
    cache_dir: Path,
    *,
    retry_failed: bool,
    timeout: float | None,
    command: str,
) -> None:
    """Run every job not finished in ``cache_dir``, one after the other."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = []
    for job in todo_jobs:
        path = cache_dir / f"{job.key()}.json"
        if path.exists():
            status = json.loads(path.read_text()).get("status")
            if status == "ok" or not retry_failed:
                continue
        todo.append(job)
    print(f"{len(todo)} fits to run in {cache_dir}", flush=True)
    for i, job in enumerate(todo, 1):
        record = run_child(job, cache_dir / f"{job.key()}.json", timeout, command)
        head = f"[{i}/{len(todo)}] {job.key()}"
        if record["status"] != "ok":
            print(f"{head} FAILED: {record['message']}", flush=True)
            continue
        text = (
            f"{head} wall {record['wall_seconds']:.1f}s (build "
            f"{record['build_seconds']:.1f}, sampling "
            f"{record['sampling_seconds'] or float('nan'):.1f}) "
            f"rss {record['tree_peak_rss_mb']:.0f}MB"
        )
        if job.kind == "fit":
            text += (
                f" div={record['divergences']} rhat={record['r_hat_max'] or np.nan:.3f}"
                f" ess={record['ess_bulk_min'] or np.nan:.0f}"
            )
        print(text, flush=True)


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def load(cache_dir: Path, settings: Settings, probe_draws: int) -> pd.DataFrame:
    """One row per cached job run at ``settings`` (probes at ``probe_draws``)."""
    probe = asdict(replace(settings, tune=probe_draws, draws=probe_draws))
    rows = []
    for path in sorted(cache_dir.glob("*.json")):
        record = json.loads(path.read_text())
        job = record["job"]
        wanted = probe if job["kind"] == "probe" else asdict(settings)
        if job["settings"] != wanted:
            continue
        row = {
            k: v
            for k, v in record.items()
            if not isinstance(v, dict | list) and k not in BULKY
        }
        row |= {k: job[k] for k in ("kind", "model", "backend", "seed")}
        row["loadavg"] = record.get("loadavg_start", [np.nan])[0]
        row["versions"] = json.dumps(record.get("versions", {}), sort_keys=True)
        rows.append(row)
    return pd.DataFrame(rows)


def _ratio(frame: pd.DataFrame, column: str) -> pd.Series:
    """``column`` over the reference backend's for the same model (both > 0)."""
    reference = frame.xs(REFERENCE, level="backend")[column]
    base = reference.reindex(frame.index.get_level_values("model")).to_numpy()
    values = frame[column]
    return (values / base).where((values > 0) & (base > 0))


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Medians over seeds per (model, backend), probes and ratios added."""
    fits = frame[frame["kind"] == "fit"]
    ok = fits[fits["status"] == "ok"]
    keys = ["model", "backend"]
    counts = fits.groupby(keys).agg(
        seeds=("seed", "size"), failed=("status", lambda s: int((s != "ok").sum()))
    )
    columns = [
        "import_seconds",
        "wall_seconds",
        "build_seconds",
        "fit_seconds",
        "sampling_seconds",
        "outside_sampling_seconds",
        "divergences",
        "r_hat_max",
        "ess_bulk_min",
        "contribution_r_hat_max",
        "contribution_ess_bulk_min",
        "max_tree_depth_frac",
        "n_steps_mean",
        "peak_rss_mb",
        "tree_peak_rss_mb",
        "loadavg",
    ]
    ok = ok.reindex(columns=[*keys, "seed", *columns])
    ok = ok.assign(**{c: pd.to_numeric(ok[c], errors="coerce") for c in columns})
    ok = ok.assign(
        ess_per_s_sampling=ok["ess_bulk_min"] / ok["sampling_seconds"],
        ess_per_s_wall=ok["ess_bulk_min"] / ok["wall_seconds"],
    )
    grouped = ok.groupby(keys)
    summary = grouped[[*columns, "ess_per_s_sampling", "ess_per_s_wall"]].median()
    summary["divergences_max"] = grouped["divergences"].max()
    summary["r_hat_worst"] = grouped["r_hat_max"].max()
    summary = counts.join(summary, how="left")
    probes = frame[(frame["kind"] == "probe") & (frame["status"] == "ok")]
    if len(probes):
        probe_wall = probes.groupby(keys)["wall_seconds"].median()
    else:
        probe_wall = pd.Series(dtype=float)
    summary["probe_wall_seconds"] = probe_wall.reindex(summary.index)
    summary["net_seconds"] = summary["wall_seconds"] - summary["probe_wall_seconds"]
    summary["ess_per_s_net"] = summary["ess_bulk_min"] / summary["net_seconds"].where(
        summary["net_seconds"] > 0
    )
    if REFERENCE in summary.index.get_level_values("backend"):
        for column in ("wall_seconds", "sampling_seconds", "net_seconds"):
            summary[f"{column}_vs_ref"] = _ratio(summary, column)
    return summary


def healthy(row: pd.Series) -> bool:
    """No failed fit, 0 divergences and R-hat <= 1.01 in every seed."""
    return bool(
        row["failed"] == 0
        and row["divergences_max"] == 0
        and row["r_hat_worst"] <= R_HAT_OK
    )


def recommend(summary: pd.DataFrame) -> tuple[dict[str, str | None], str | None]:
    """Per model and overall: the fastest median wall time among healthy ones."""
    ok = summary[summary.apply(healthy, axis=1)]
    per_model = {}
    for model in summary.index.get_level_values("model").unique():
        walls = ok["wall_seconds"].xs(model, level="model") if model in ok.index else []
        per_model[model] = str(walls.idxmin()) if len(walls) else None
    models = set(summary.index.get_level_values("model"))
    everywhere = [
        b
        for b, group in ok.groupby(level="backend")
        if set(group.index.get_level_values("model")) == models
    ]
    total = {b: ok.xs(b, level="backend")["wall_seconds"].sum() for b in everywhere}
    return per_model, (min(total, key=total.get) if total else None)


def _format(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers to short strings, missing ones as '-'."""

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return "-"
        if isinstance(value, float):
            if value == int(value) and abs(value) < 1e6:
                return f"{value:.0f}"
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return str(value)

    return frame.map(cell)


def _markdown(frame: pd.DataFrame) -> str:
    from mmm_bench.report import markdown_table

    return markdown_table(_format(frame).reset_index())


def report(
    cache_dir: Path, out: Path, settings: Settings, probe_draws: int, command: str
) -> str:
    """Tables, CSVs and meta.json from the cached fits; returns the text."""
    frame = load(cache_dir, settings, probe_draws)
    if frame.empty:
        raise SystemExit(f"No cached fits at these settings in {cache_dir}.")
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(frame)
    frame.sort_values(["kind", "model", "backend", "seed"]).to_csv(
        out / "fits.csv", index=False
    )
    summary.to_csv(out / "summary.csv")
    per_model, overall = recommend(summary)

    def columns(names: dict[str, str]) -> pd.DataFrame:
        present = {k: v for k, v in names.items() if k in summary}
        return summary[list(present)].rename(columns=present)

    times = columns(
        {
            "seeds": "fits",
            "failed": "failed",
            "wall_seconds": "wall s",
            "build_seconds": "build s",
            "sampling_seconds": "sampling s",
            "outside_sampling_seconds": "fit - sampling s",
            "probe_wall_seconds": "probe wall s",
            "net_seconds": "wall - probe s",
            "wall_seconds_vs_ref": "wall / ref",
            "sampling_seconds_vs_ref": "sampling / ref",
            "net_seconds_vs_ref": "(wall - probe) / ref",
        }
    )
    efficiency = columns(
        {
            "divergences": "divergences",
            "divergences_max": "divergences max",
            "r_hat_max": "R-hat",
            "r_hat_worst": "R-hat worst",
            "ess_bulk_min": "bulk ESS",
            "ess_per_s_sampling": "ESS/s sampling",
            "ess_per_s_wall": "ESS/s wall",
            "ess_per_s_net": "ESS/s (wall - probe)",
            "contribution_ess_bulk_min": "bulk ESS contribution",
            "max_tree_depth_frac": "at max depth",
            "n_steps_mean": "steps/draw",
        }
    )
    memory = columns(
        {
            "import_seconds": "imports s",
            "peak_rss_mb": "peak RSS MB (process)",
            "tree_peak_rss_mb": "peak RSS MB (with workers)",
            "loadavg": "load avg at start",
        }
    )
    failures = frame[frame["status"] != "ok"]
    fits = frame[frame["kind"] == "fit"]
    seeds = sorted(fits["seed"].unique().tolist())
    run_commands = sorted(frame["command"].dropna().unique().tolist())
    recorded_versions = sorted(frame["versions"].dropna().unique().tolist())
    source = (
        fits[fits["status"] == "ok"]
        .reindex(columns=["backend", *TIMING_SOURCES])
        .drop_duplicates(["backend"])
        .set_index("backend")
    )
    rule = "; ".join(f"{m}: **{b or 'none qualifies'}**" for m, b in per_model.items())
    data = ", ".join(f"{k}={v!r}" for k, v in DATA.items())
    lines = [
        "# NUTS backends on the same MMM fits",
        "",
        f"Command: `{command}`",
        "",
        "Fits made by: " + ", ".join(f"`{c}`" for c in run_commands),
        "",
        f"Data: `make_mixture_mmm_data({data}, seed=s)`, seeds {seeds}; "
        "`random_seed` = data seed. Settings: "
        f"{settings.chains} chains x ({settings.tune} tune + {settings.draws} "
        f"draws), target_accept {settings.target_accept}, cores "
        f"{settings.cores} (pymc, nutpie), PyTensor compiledir "
        f"{settings.compiledir}; probes {probe_draws} + {probe_draws}. "
        "Medians over seeds; ref = "
        f"`{REFERENCE}` for the same model.",
        "",
        "Recommendation (fastest median wall time among backends with no "
        f"failed fit, 0 divergences and R-hat <= {R_HAT_OK} in every seed): "
        f"{rule}; over all models: **{overall or 'none qualifies'}**.",
        "",
        "## Time",
        "",
        "wall = `mmm.build_model` + `mmm.fit` (imports excluded). sampling = "
        "PyMC's `sampling_time`: excludes compiling for nutpie and pymc, "
        "includes the XLA compile for NumPyro. probe = the wall time of a fit "
        f"with {probe_draws} + {probe_draws} draws in a fresh process (fixed "
        "cost, every compile included).",
        "",
        _markdown(times),
        "",
        "## Health and efficiency",
        "",
        "R-hat and bulk ESS: worst and lowest over the label-invariant "
        "quantities (for `hill`: channel contributions summed over dates); "
        "bulk ESS contribution: that summed-contribution figure for every "
        "model. ESS/s = bulk ESS / seconds.",
        "",
        _markdown(efficiency),
        "",
        "## Memory, load and imports",
        "",
        _markdown(memory),
        "",
        "## What each timing contains",
        "",
        "| backend | sampling s from | max tree depth from |",
        "|---|---|---|",
        *(
            f"| {b} | {row.get('sampling_seconds_source', '-')} | "
            f"{row.get('max_tree_depth_source', '-')} |"
            for b, row in source.iterrows()
        ),
        "",
        "Compile time given by a backend apart from sampling: nutpie and pymc "
        "(inside `fit - sampling`, with post-processing); NumPyro: none (its "
        "compile is inside `sampling`); the probe column is the one measured "
        "alike for all.",
        "",
        "## Failures",
        "",
    ]
    if failures.empty:
        lines.append("(none)")
    else:
        shown = failures[["kind", "model", "backend", "seed", "message"]].copy()
        shown["message"] = shown["message"].astype(str).str.replace("|", "/")
        shown["message"] = shown["message"].str.replace("\n", " ").str[:300]
        lines.append(_markdown(shown.set_index("kind")))
    lines += ["", "## Versions", ""]
    lines += [
        "- " + ", ".join(f"{k} {v}" for k, v in json.loads(text).items())
        for text in recorded_versions
    ]
    text = "\n".join(lines) + "\n"
    (out / "report.md").write_text(text)
    meta = {
        "command": command,
        "run_commands": run_commands,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": asdict(settings),
        "probe_draws": probe_draws,
        "seeds": seeds,
        "versions": versions(),
        "python": platform.python_version(),
        "recommendation": {"per_model": per_model, "overall": overall},
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "report", "one"))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--target-accept", type=float, default=0.95)
    parser.add_argument(
        "--cores",
        type=int,
        help="processes (pymc) or threads (nutpie); default min(chains, CPUs)",
    )
    parser.add_argument(
        "--compiledir",
        choices=("fresh", "shared"),
        default="fresh",
        help="fresh: an empty PyTensor base_compiledir per fit (cold compiles)",
    )
    parser.add_argument(
        "--probe-draws",
        type=int,
        default=10,
        help="warmup and draws of the fixed-cost probe per (model, backend); 0: none",
    )
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds")
    parser.add_argument("--retry-failed", action="store_true")
    parser.add_argument("--cache-dir", type=Path, default=HERE / "cache" / "backends")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "backends")
    # the child's arguments
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--token", default="", help=argparse.SUPPRESS)
    parser.add_argument("--command", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.action == "one":
        return child(Job.from_json(args.job), args.result, args.token, args.command)
    command = "python benchmarks/backends.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    settings = Settings(
        chains=args.chains,
        tune=args.tune,
        draws=args.draws,
        target_accept=args.target_accept,
        cores=args.cores or min(args.chains, os.cpu_count() or 1),
        compiledir=args.compiledir,
    )
    if args.action == "report":
        sys.path.insert(0, str(HERE))
        print(report(args.cache_dir, args.out, settings, args.probe_draws, command))
        return 0
    todo = list(
        jobs(args.models, args.backends, args.seeds, settings, args.probe_draws)
    )
    run(
        todo,
        args.cache_dir,
        retry_failed=args.retry_failed,
        timeout=args.timeout,
        command=command,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
