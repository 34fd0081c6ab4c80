"""Fit one MMM specification to many data sets (brands, markets, scenarios) on Dask.

:func:`fit_many` sends one fit per data set to a Dask ``distributed`` cluster
(a local one by default, a scheduler's address, or a client of your own),
saves each fitted model with PyMC-Marketing's own ``mmm.save`` (netCDF) as
``cache_dir/<name>.nc`` and returns a table of what happened. The folder is the
record of what has finished: a rerun fits only the names without a file, so an
interrupted batch resumes where it stopped, and each file is written under a
temporary name and renamed, so it is whole or absent.

Load a fitted model with PyMC-Marketing's ``MMM.load(path)`` after
``import pmm_mixture`` (which registers :class:`MixtureHillSaturation`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["FIT_TABLE_COLUMNS", "fit_many", "model_path"]

#: Columns of the table :func:`fit_many` returns (its index is ``name``).
FIT_TABLE_COLUMNS = ("status", "path", "seconds", "divergences", "error")

_NAME = re.compile(r"\w[\w.+=-]*")


def model_path(cache_dir: str | os.PathLike[str], name: str) -> Path:
    """Where :func:`fit_many` saves the model fitted to data set ``name``.

    Parameters
    ----------
    cache_dir : str or path-like
        The folder of the fitted models.
    name : str
        The data set's name: letters, digits, ``_``, and after the first
        character also ``.``, ``+``, ``=`` and ``-``.

    Returns
    -------
    Path
        ``cache_dir/<name>.nc``.

    Raises
    ------
    ValueError
        For a name that is not a plain file name (empty, a path, spaces...).

    Examples
    --------
    >>> model_path("fits", "brand_a-UK").as_posix()
    'fits/brand_a-UK.nc'
    >>> model_path("fits", "../x")
    Traceback (most recent call last):
    ...
    ValueError: Data set names must be plain file names ...; got '../x'.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            "Data set names must be plain file names (letters, digits, '_', then "
            f"also '.', '+', '=', '-'); got {name!r}."
        )
    return Path(cache_dir) / f"{name}.nc"


def _count_divergences(sample_stats: Any) -> int | None:
    """Divergent transitions in ``sample_stats`` (None without a ``diverging``)."""
    if sample_stats is None or "diverging" not in sample_stats:
        return None
    return int(np.asarray(sample_stats["diverging"]).sum())


def _divergences_in(path: Path) -> int | None:
    """Divergences recorded in a saved model's ``sample_stats`` group."""
    import xarray as xr

    try:
        with xr.open_dataset(path, group="sample_stats") as stats:
            return _count_divergences(stats)
    except (OSError, ValueError, KeyError):
        return None


def _fit_and_save(
    build_mmm: Callable[[], Any],
    X: pd.DataFrame,
    y: Any,
    fit_kwargs: Mapping[str, Any],
    path: str,
) -> dict[str, Any]:
    """Build, fit and save one model (the Dask task); the file lands atomically."""
    import pmm_mixture  # noqa: F401  (registers the saturation for the save)

    target = Path(path)
    if target.exists():  # an earlier attempt of this task finished
        return {"status": "cached", "seconds": math.nan, "divergences": None}
    start = time.perf_counter()
    mmm = build_mmm()
    mmm.fit(X, y, **fit_kwargs)
    seconds = time.perf_counter() - start
    sample_stats = getattr(mmm.idata, "sample_stats", None)
    divergences = _count_divergences(sample_stats)
    for stale in target.parent.glob(f".{target.stem}.*.part.nc"):
        stale.unlink(missing_ok=True)  # of an attempt whose worker died
    part = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.part.nc")
    try:
        mmm.save(str(part))
        os.replace(part, target)  # atomic: the file is whole or absent
    finally:
        part.unlink(missing_ok=True)
    return {"status": "fitted", "seconds": seconds, "divergences": divergences}


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@contextlib.contextmanager
def _dask_client(
    client: Client | None, scheduler: str | None, n_workers: int, chains: int
) -> Iterator[Client]:
    """Yield the client given, one of ``scheduler``, or a local cluster's."""
    import dask
    from distributed import Client, LocalCluster

    if client is not None:
        yield client
        return
    if scheduler:
        with Client(scheduler) as made:
            yield made
        return
    # One XLA host device per chain in every worker (read when JAX starts its
    # backend, i.e. at the first fit); non-daemonic workers, so that PyMC's own
    # sampler can start a process per chain.
    flags = f"--xla_force_host_platform_device_count={chains}"
    xla_flags = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env={"XLA_FLAGS": xla_flags},
        ) as cluster,
        Client(cluster) as made,
    ):
        yield made


def fit_many(
    build_mmm: Callable[[], Any],
    datasets: Mapping[str, tuple[pd.DataFrame, Any]],
    *,
    cache_dir: str | os.PathLike[str],
    fit_kwargs: Mapping[str, Any] | None = None,
    client: Client | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    retries: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Fit the MMM that ``build_mmm`` builds to every data set, one Dask task each.

    Each task builds a new model with ``build_mmm()``, fits it with
    ``mmm.fit(X, y, **fit_kwargs)`` in a Dask worker process and saves it with
    ``mmm.save`` to ``cache_dir/<name>.nc`` (written under a temporary name,
    then renamed: a file there is a finished fit). Names whose file exists are
    not fitted again. One line per fit is printed as it finishes.

    Parameters
    ----------
    build_mmm : callable
        ``build_mmm()`` returns a new, unfitted PyMC-Marketing ``MMM`` (the
        one specification of all the fits). It is pickled to the workers, so
        a module-level function, a ``functools.partial`` or a function defined
        in a notebook or script (cloudpickle sends it by value) will do.
    datasets : mapping of str to (X, y)
        Data set name (brand, market, scenario...; a plain file name, see
        :func:`model_path`) to the ``X`` and ``y`` of ``mmm.fit``.
    cache_dir : str or path-like
        Folder of the fitted models, created if needed. It must be reachable
        under the same path from every worker (a shared file system on a
        real cluster).
    fit_kwargs : mapping, optional
        Keyword arguments of ``mmm.fit`` (``chains``, ``draws``, ``tune``,
        ``nuts_sampler``, ``random_seed``...); ``progressbar`` defaults to
        False.
    client : distributed.Client, optional
        Run on this client's cluster (left open).
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``) to connect to
        when no ``client`` is given. Its workers need ``pmm_mixture``
        installed; start them with ``XLA_FLAGS`` set as you need it.
    n_workers : int, optional
        Worker processes of the local cluster made when neither ``client``
        nor ``scheduler`` is given (one fit at a time each); by default the
        usable cores divided by ``fit_kwargs["chains"]`` (4 when not given),
        at least 1. Each gets ``--xla_force_host_platform_device_count=chains``
        so that NumPyro runs the chains in parallel.
    retries : int, default 0
        Extra attempts for a fit that raised an error. A fit whose worker
        died (crash, out of memory) is rerun by the scheduler anyway, up to
        ``distributed.scheduler.allowed-failures`` times (3 by default).
    progress : bool, default True
        Print one line per finished fit.

    Returns
    -------
    pandas.DataFrame
        One row per data set, in the order of ``datasets``, indexed by
        ``name``, columns :data:`FIT_TABLE_COLUMNS`: ``status`` (``"fitted"``,
        ``"cached"``: the file was there, or ``"failed"``), ``path`` (the saved
        model), ``seconds`` (build and fit), ``divergences`` (divergent
        transitions, read from the file when cached) and ``error`` (why a fit
        failed); missing values (``pd.isna``) where they do not apply.

    Raises
    ------
    ValueError
        For a data set name that is not a plain file name.

    See Also
    --------
    model_path : where a data set's model is saved.

    Examples
    --------
    Two markets, one specification, one worker; tiny chains to keep it quick
    (``tests/test_many.py`` runs this example):

    >>> import tempfile
    >>> from pymc_marketing.mmm import MMM, GeometricAdstock
    >>> from pmm_mixture import MixtureHillSaturation
    >>> from pmm_mixture.many import fit_many
    >>> from pmm_mixture.synthetic import make_mixture_mmm_data
    >>> def build_mmm():
    ...     return MMM(
    ...         date_column="date",
    ...         channel_columns=["x1"],
    ...         target_column="y",
    ...         adstock=GeometricAdstock(l_max=2),
    ...         saturation=MixtureHillSaturation(n_components=2),
    ...     )
    >>> datasets = {}
    >>> for seed, market in enumerate(["north", "south"]):
    ...     sim = make_mixture_mmm_data(1, n_channels=1, n_weeks=30, seed=seed)
    ...     datasets[market] = (sim.X, sim.y)
    >>> fit_kwargs = dict(
    ...     chains=1, tune=50, draws=50, nuts_sampler="numpyro", random_seed=1
    ... )
    >>> cache_dir = tempfile.mkdtemp()
    >>> table = fit_many(
    ...     build_mmm,
    ...     datasets,
    ...     fit_kwargs=fit_kwargs,
    ...     cache_dir=cache_dir,
    ...     n_workers=1,
    ...     progress=False,
    ... )
    >>> table["status"].tolist()
    ['fitted', 'fitted']
    >>> again = fit_many(
    ...     build_mmm, datasets, fit_kwargs=fit_kwargs, cache_dir=cache_dir,
    ...     n_workers=1, progress=False,
    ... )
    >>> again["status"].tolist()
    ['cached', 'cached']
    >>> mmm = MMM.load(table.loc["north", "path"])
    >>> type(mmm.saturation).__name__
    'MixtureHillSaturation'
    """
    names = list(datasets)
    folder = Path(cache_dir).absolute()  # the workers may run elsewhere
    paths = {name: model_path(folder, name) for name in names}
    folder.mkdir(parents=True, exist_ok=True)
    kwargs = {"progressbar": False, **(fit_kwargs or {})}
    rows: dict[str, dict[str, Any]] = {}
    for name in names:
        if paths[name].exists():
            rows[name] = {
                "status": "cached",
                "seconds": math.nan,
                "divergences": _divergences_in(paths[name]),
            }
    todo = [name for name in names if name not in rows]

    def say(text: str) -> None:
        if progress:
            print(text, flush=True)

    say(f"fit_many: {len(names)} data sets, {len(rows)} cached, {len(todo)} to fit.")
    if todo:
        from distributed import as_completed

        chains = int(kwargs.get("chains", 4))
        workers = n_workers or max(1, _usable_cores() // max(1, chains))
        with _dask_client(client, scheduler, workers, chains) as dask_client:
            start = time.perf_counter()
            futures = {
                dask_client.submit(
                    _fit_and_save,
                    build_mmm,
                    *datasets[name],
                    kwargs,
                    str(paths[name]),
                    key=f"fit_many-{name}-{uuid.uuid4().hex[:8]}",
                    retries=retries,
                    pure=False,
                ): name
                for name in todo
            }
            counts = {"fitted": 0, "failed": 0}
            for number, future in enumerate(as_completed(futures), start=1):
                name = futures[future]
                if future.status == "error":
                    error = future.exception()
                    row = {
                        "status": "failed",
                        "error": f"{type(error).__name__}: {error}",
                    }
                    what = f"FAILED: {row['error']}"
                else:
                    row = future.result()
                    what = f"{row['status']}"
                    if row["status"] == "fitted":
                        what += f" in {row['seconds']:.0f} s, "
                        what += f"{row['divergences']} divergences"
                counts["failed" if row["status"] == "failed" else "fitted"] += 1
                rows[name] = row
                elapsed = time.perf_counter() - start
                say(
                    f"  [{number}/{len(todo)}] {elapsed // 60:.0f}:"
                    f"{elapsed % 60:02.0f} elapsed | {name}: {what} "
                    f"({counts['fitted']} done, {counts['failed']} failed, "
                    f"{len(todo) - number} to go)"
                )
    table = pd.DataFrame(
        [
            {
                "name": name,
                "status": rows[name]["status"],
                "path": None if rows[name]["status"] == "failed" else str(paths[name]),
                "seconds": rows[name].get("seconds", math.nan),
                "divergences": rows[name].get("divergences"),
                "error": rows[name].get("error"),
            }
            for name in names
        ],
        columns=["name", *FIT_TABLE_COLUMNS],
    ).set_index("name")
    table["seconds"] = table["seconds"].astype(float)
    table["divergences"] = table["divergences"].astype("Int64")
    return table
