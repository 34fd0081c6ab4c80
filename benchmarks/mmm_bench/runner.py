"""How the fits are executed: one Dask task per fit, each fit in a fresh process.

:func:`run_all` is the whole interface: the run specs and the cache folder in,
per-fit launch information out; the results are the JSON files it leaves in
the cache (``RunSpec.result_path``).

The fits are tasks of a Dask ``distributed`` cluster: a ``LocalCluster`` of
``jobs`` single-threaded worker processes by default, or the cluster whose
scheduler address is given (``--scheduler``), with the same code. Each task
(:func:`run_fit`) runs ``python -m mmm_bench.worker SPEC.json`` in a fresh child
process, as before: JAX reads ``XLA_FLAGS`` (one host device per chain) when it
is imported, so each fit needs its own process, and a fit that crashes or
leaks takes nothing else with it. The child dies with its Dask worker (Linux:
``PR_SET_PDEATHSIG``), so a killed worker leaves no orphan fit behind.

The cache is the record of what has finished. The child writes its result to
a file of its own attempt; the task renames it onto the result path only after
the child exited cleanly, so a result file is always complete, a killed worker
or fit never leaves a half-written one, and a rerun skips every finished fit.

Failures: a task whose worker died is rescheduled by the scheduler (up to
``distributed.scheduler.allowed-failures`` deaths, 3 by default); a fit whose
child was killed by a signal (the kernel's OOM killer, say) raises and is rerun
up to ``retries`` times (``Client.submit(retries=...)``); a fit that exits with
an error or runs past its timeout is reported as failed and not retried, as it
would fail again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .specs import RunSpec

#: The folder holding the ``mmm_bench`` package (``benchmarks/``).
BENCHMARKS_DIR = Path(__file__).resolve().parents[1]

#: Reruns of a fit whose child process was killed by a signal.
DEFAULT_RETRIES = 2

#: Thread limits Dask's nanny puts into its workers' environment
#: (``distributed.nanny.pre-spawn-environ``). The local cluster leaves them
#: out, so a fit's child process sees the environment it saw before Dask.
_DASK_THREAD_LIMITS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# Run in front of the fit's command on Linux: ask the kernel to kill this
# process when the thread that started it (the Dask worker's) dies, then exec
# the real command (the death signal survives exec). If the parent died before
# the request was made, give up at once.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(signal.SIGKILL + 128)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


class FitCrashed(RuntimeError):
    """A fit's child process was killed by a signal (not by the timeout)."""


def worker_command(spec_file: Path) -> list[str]:
    """The child process's command line: the worker module on a spec file."""
    return [sys.executable, "-m", "mmm_bench.worker", str(spec_file)]


def worker_env(chains: int) -> dict[str, str]:
    """The child's environment: ``mmm_bench`` importable, ``chains`` XLA host
    devices (one per chain, so NumPyro runs the chains in parallel; with 1
    it runs them one after the other)."""
    env = os.environ.copy()
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCHMARKS_DIR), path) if p)
    flag = f"--xla_force_host_platform_device_count={chains}"
    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flag}".strip()
    return env


def _dying_with_this_thread(command: list[str]) -> list[str]:
    """``command`` behind a launcher that dies with its parent (Linux only)."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]


def run_fit(
    spec: dict[str, Any],
    result_path: str,
    *,
    timeout: float | None = None,
    fresh: bool = False,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One fit, the Dask task: a fresh child process, its result moved into place.

    Parameters
    ----------
    spec : dict
        The run spec's fields (``dataclasses.asdict(RunSpec)``).
    result_path : str
        Where the result JSON goes (``RunSpec.result_path``).
    timeout : float, optional
        Seconds the child may run before it is killed and the fit failed.
    fresh : bool
        Refit even when the result exists (the old one is removed first).
    command : sequence of str, optional
        The child's command line before the spec file's path; by default
        ``python -m mmm_bench.worker`` (:func:`worker_command`). The child reads
        the spec file (``{"spec": ..., "result_path": ...}``) and writes its
        result JSON to that ``result_path``.

    Returns
    -------
    dict
        ``ok``, ``returncode`` (-1 after the timeout), ``seconds``, ``log`` (the
        child's output), ``host`` and ``cached`` (the result was there already:
        a rerun of a task that had finished).

    Raises
    ------
    FitCrashed
        When the child was killed by a signal, so that Dask retries the fit.
    """
    out = Path(result_path)
    host = f"{socket.gethostname()}:{os.getpid()}"
    if fresh:
        out.unlink(missing_ok=True)  # a refit must not leave the old result
    elif out.exists():
        return {
            "ok": True,
            "returncode": 0,
            "seconds": 0.0,
            "log": "",
            "host": host,
            "cached": True,
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f"{out.stem}.*.part"):  # of a killed attempt
        stale.unlink(missing_ok=True)
    # The child writes to a file of this attempt only; it becomes the result
    # by one rename once the child exited cleanly.
    part = out.with_name(f"{out.stem}.{uuid.uuid4().hex[:12]}.part")
    spec_file = out.with_suffix(".spec.json")
    log_file = out.with_suffix(".log")
    spec_file.write_text(json.dumps({"spec": spec, "result_path": str(part)}, indent=1))
    argv = [*command, str(spec_file)] if command else worker_command(spec_file)
    start = time.perf_counter()
    try:
        with log_file.open("w") as log:
            try:
                completed = subprocess.run(
                    _dying_with_this_thread(argv),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=worker_env(
                        int(spec["chains"]) if spec.get("parallel_chains", True) else 1
                    ),
                    timeout=timeout,
                    check=False,
                )
                returncode = completed.returncode
            except subprocess.TimeoutExpired:  # the child was killed
                returncode = None
        seconds = time.perf_counter() - start
        ok = returncode == 0 and part.exists()
        if ok:
            os.replace(part, out)  # atomic: the result is whole or absent
            spec_file.unlink(missing_ok=True)
        elif returncode is not None and returncode < 0:
            raise FitCrashed(
                f"{out.stem}: the fit's process was killed by signal {-returncode} "
                f"after {seconds:.0f} s; see {log_file}"
            )
    finally:
        part.unlink(missing_ok=True)
    return {
        "ok": ok,
        "returncode": -1 if returncode is None else returncode,
        "seconds": seconds,
        "log": str(log_file),
        "host": host,
        "cached": False,
    }


@contextlib.contextmanager
def dask_client(
    jobs: int = 1, scheduler: str | None = None, client: Any = None
) -> Iterator[Any]:
    """A ``distributed.Client``: the one given, one of ``scheduler``, or local.

    The local cluster has ``jobs`` worker processes of one thread each (one fit
    at a time per worker) and no dashboard; it is closed on exit, as is a
    client made here for ``scheduler``. A ``client`` given is left open.
    """
    import dask
    from distributed import Client, LocalCluster

    if client is not None:
        yield client
        return
    if scheduler:
        with Client(scheduler) as made:
            yield made
        return
    unset = {
        f"distributed.nanny.pre-spawn-environ.{name}": None
        for name in _DASK_THREAD_LIMITS
    }
    with (
        dask.config.set(unset),
        LocalCluster(
            n_workers=max(1, jobs),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never taken, never clashes
        ) as cluster,
        Client(cluster) as made,
    ):
        yield made


def _describe(client: Any) -> str:
    info = client.scheduler_info()
    workers = info.get("workers", {})
    threads = sum(w.get("nthreads", 0) for w in workers.values())
    line = (
        f"Dask scheduler {info.get('address', '?')}: {len(workers)} worker(s), "
        f"{threads} thread(s)"
    )
    if importlib.util.find_spec("bokeh") is not None:  # the dashboard needs it
        line += f"; dashboard {client.dashboard_link}"
    return line


def _fit_line(spec: RunSpec, cache_dir: Path, outcome: dict[str, Any]) -> str:
    """What one finished fit says: its metrics, or why it failed."""
    if not outcome.get("ok"):
        if "error" in outcome:
            return f"FAILED: {outcome['error']}"
        return (
            f"FAILED (exit {outcome['returncode']}) after "
            f"{outcome['seconds']:.0f} s; see {outcome['log']}"
        )
    if outcome.get("cached"):
        return "ok (finished by an earlier attempt)"
    line = f"ok in {outcome['seconds']:.0f} s"
    try:
        result = json.loads(spec.result_path(cache_dir).read_text())
    except (OSError, ValueError):
        return line
    m = result.get("metrics") or {}
    if "fit_seconds" in m:
        line += (
            f" (fit {m['fit_seconds']:.0f} s, divergences {m['divergences']:.0f}, "
            f"R-hat {m['r_hat_max']:.3f}, ESS {m['ess_bulk_min']:.0f})"
        )
    if result.get("errors"):
        line += f"; failed steps: {sorted(result['errors'])}"
    return line


def run_all(
    specs: Sequence[RunSpec],
    cache_dir: Path,
    *,
    jobs: int = 1,
    timeout: float | None = None,
    fresh: bool = False,
    scheduler: str | None = None,
    client: Any = None,
    retries: int = DEFAULT_RETRIES,
    command: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every spec without a cached result on Dask; return per-key launch info.

    Specs that share a fit (:meth:`RunSpec.fitted_as`) are fitted once. One
    line is printed per fit as it finishes, with the elapsed time and counts.

    Parameters
    ----------
    specs : sequence of RunSpec
    cache_dir : Path
        The cache; a spec whose result is there is skipped (unless ``fresh``).
    jobs : int
        Worker processes of the local cluster, i.e. fits at the same time.
    timeout : float, optional
        Seconds per fit.
    fresh : bool
        Refit even when a result is cached.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to run on instead of a
        local cluster. Its workers need this repository at the same path
        (``mmm_bench`` importable, e.g. ``PYTHONPATH=benchmarks``) and
        ``cache_dir`` on a shared file system.
    client : distributed.Client, optional
        A client to use (not closed); overrides ``jobs`` and ``scheduler``.
    retries : int
        Reruns of a fit whose process was killed by a signal.
    command : sequence of str, optional
        The fit's command line before the spec file (default
        ``python -m mmm_bench.worker``); see :func:`run_fit`.

    Returns
    -------
    dict
        ``{spec key: info}``, info as :func:`run_fit` returns it, or ``ok``
        False with ``error`` for a fit Dask gave up on.
    """
    fits = list({fit.key(): fit for fit in (s.fitted_as() for s in specs)}.values())
    todo = [s for s in fits if fresh or not s.result_path(cache_dir).exists()]
    shared = len(specs) - len(fits)
    print(
        f"Runs: {len(specs)} in total"
        + (f" ({shared} reuse the fit of the same data)" if shared else "")
        + f", {len(fits) - len(todo)} cached, {len(todo)} to fit.",
        flush=True,
    )
    info: dict[str, dict[str, Any]] = {}
    if not todo:
        return info
    from distributed import as_completed

    with dask_client(jobs, scheduler, client) as dask_:
        print(_describe(dask_), flush=True)
        start = time.perf_counter()
        futures = {
            dask_.submit(
                run_fit,
                asdict(spec),
                str(spec.result_path(cache_dir)),
                timeout=timeout,
                fresh=fresh,
                command=list(command) if command else None,
                key=f"fit-{spec.key()}",
                retries=retries,
                pure=False,
            ): spec
            for spec in todo
        }
        ok = failed = 0
        for number, future in enumerate(as_completed(futures), start=1):
            spec = futures[future]
            if future.status == "error":
                error = future.exception()
                outcome = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            else:
                outcome = future.result()
            info[spec.key()] = outcome
            ok += bool(outcome["ok"])
            failed += not outcome["ok"]
            elapsed = time.perf_counter() - start
            print(
                f"  [{number}/{len(todo)}] {elapsed // 60:.0f}:{elapsed % 60:02.0f} "
                f"elapsed, {ok} ok, {failed} failed, {len(todo) - number} to go | "
                f"{spec.mode} K_true={spec.k_true} seed={spec.seed} {spec.model}: "
                + _fit_line(spec, cache_dir, outcome),
                flush=True,
            )
    if failed:
        print(
            f"{failed} of {len(todo)} fit(s) failed: "
            + ", ".join(k for k, v in info.items() if not v["ok"]),
            flush=True,
        )
    return info
