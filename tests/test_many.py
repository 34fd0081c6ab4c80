"""pmm_mixture.many.fit_many: many fits of one MMM specification on Dask.

The fast tests use a stand-in model (fit and save without MCMC) on an
in-process cluster; the slow ones fit real tiny MMMs on a local cluster of
worker processes and load them back with ``MMM.load``.
"""

import doctest
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from distributed import Client, LocalCluster

import pmm_mixture.many
from pmm_mixture.many import FIT_TABLE_COLUMNS, fit_many, model_path
from pmm_mixture.synthetic import make_mixture_mmm_data


class FakeMMM:
    """What fit_many uses of an MMM: fit, idata.sample_stats and save."""

    def __init__(self, divergences=2):
        self.divergences = divergences
        self.idata = None

    def fit(self, X, y, **kwargs):
        if "fail" in X.columns:
            raise ValueError("this data set cannot be fitted")
        diverging = np.zeros((1, 10), dtype=bool)
        diverging[0, : self.divergences] = True
        stats = xr.Dataset({"diverging": (("chain", "draw"), diverging)})
        stats.attrs["fit_kwargs"] = repr(sorted(kwargs.items()))
        self.idata = xr.DataTree.from_dict({"sample_stats": stats})

    def save(self, fname):
        self.idata.to_netcdf(fname)


def build_fake():
    return FakeMMM()


@pytest.fixture(scope="module")
def threads_client():
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def frame(n=3, **extra):
    return pd.DataFrame({"x1": np.arange(n, dtype=float), **extra}), np.ones(n)


def test_model_path_refuses_names_that_are_not_file_names(tmp_path):
    assert model_path(tmp_path, "brand_a.UK-2") == tmp_path / "brand_a.UK-2.nc"
    for name in ("", "../up", "a/b", ".hidden", "two words", 3):
        with pytest.raises(ValueError, match="plain file names"):
            model_path(tmp_path, name)
    with pytest.raises(ValueError, match="plain file names"):
        fit_many(build_fake, {"a/b": frame()}, cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # refused before anything ran


def test_fit_many_saves_each_fit_and_a_rerun_skips_them(
    tmp_path, threads_client, capsys
):
    datasets = {"north": frame(), "south": frame(), "bad": frame(fail=[1, 2, 3])}
    table = fit_many(
        build_fake,
        datasets,
        fit_kwargs={"draws": 10},
        cache_dir=tmp_path,
        client=threads_client,
    )
    assert list(table.columns) == list(FIT_TABLE_COLUMNS)
    assert list(table.index) == ["north", "south", "bad"]  # the order given
    assert table.loc[["north", "south"], "status"].tolist() == ["fitted"] * 2
    assert (table.loc[["north", "south"], "divergences"] == 2).all()
    assert (table.loc[["north", "south"], "seconds"] >= 0).all()
    assert table.loc["bad", "status"] == "failed"
    assert table.loc["bad", "error"] == "ValueError: this data set cannot be fitted"
    assert pd.isna(table.loc["bad", "path"])
    assert table.loc[["north", "south"], "error"].isna().all()
    out = capsys.readouterr().out
    assert "3 data sets, 0 cached, 3 to fit" in out
    assert "[3/3]" in out and "bad: FAILED: ValueError" in out
    for name in ("north", "south"):
        path = tmp_path / f"{name}.nc"
        assert table.loc[name, "path"] == str(path)
        with xr.open_dataset(path, group="sample_stats") as stats:
            # fit_kwargs reach mmm.fit, with the progress bar off by default
            assert stats.attrs["fit_kwargs"] == repr(
                [("draws", 10), ("progressbar", False)]
            )
    assert not (tmp_path / "bad.nc").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["north.nc", "south.nc"]
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}

    # the rerun skips the saved fits and tries the failed one again
    again = fit_many(build_fake, datasets, cache_dir=tmp_path, client=threads_client)
    assert again["status"].tolist() == ["cached", "cached", "failed"]
    assert again.loc[["north", "south"], "divergences"].tolist() == [2, 2]
    assert again.loc[["north", "south"], "seconds"].isna().all()
    assert "3 data sets, 2 cached, 1 to fit" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == mtimes
    assert threads_client.status == "running"  # a client given is left open


def test_a_task_rerun_after_its_file_landed_does_not_refit(tmp_path):
    # what a retry finds when the first attempt saved the file, then its worker died
    path = tmp_path / "north.nc"
    path.write_bytes(b"already there")
    row = pmm_mixture.many._fit_and_save(build_fake, *frame(), {}, str(path))
    assert row["status"] == "cached"
    assert path.read_bytes() == b"already there"


@pytest.mark.slow
def test_fit_many_fits_saves_and_loads_real_mmms(tmp_path, capsys):
    from pymc_marketing.mmm import MMM, GeometricAdstock

    from pmm_mixture import MixtureHillSaturation

    def build_mmm():
        return MMM(
            date_column="date",
            channel_columns=["x1"],
            target_column="y",
            adstock=GeometricAdstock(l_max=2),
            saturation=MixtureHillSaturation(n_components=2),
        )

    datasets = {}
    for seed, name in enumerate(["brand_a", "brand_b"]):
        sim = make_mixture_mmm_data(1, n_channels=1, n_weeks=30, seed=seed)
        datasets[name] = (sim.X, sim.y)
    fit_kwargs = {
        "chains": 1,
        "tune": 50,
        "draws": 50,
        "nuts_sampler": "numpyro",
        "random_seed": 3,
    }
    table = fit_many(
        build_mmm, datasets, fit_kwargs=fit_kwargs, cache_dir=tmp_path, n_workers=1
    )
    assert table["status"].tolist() == ["fitted", "fitted"]
    assert "2 data sets, 0 cached, 2 to fit" in capsys.readouterr().out
    for name in datasets:
        path = tmp_path / f"{name}.nc"
        assert table.loc[name, "path"] == str(path)
        loaded = MMM.load(str(path))
        assert isinstance(loaded.saturation, MixtureHillSaturation)
        assert loaded.saturation.n_components == 2
        assert loaded.idata.posterior.sizes["draw"] == 50
        diverging = int(loaded.idata.sample_stats["diverging"].sum())
        assert table.loc[name, "divergences"] == diverging
        # the two data sets were fitted separately
        assert np.array_equal(
            loaded.idata.fit_data["y"].values, datasets[name][1].to_numpy()
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}

    # nothing to fit: no cluster is reached (this address has none)
    again = fit_many(
        build_mmm,
        datasets,
        fit_kwargs=fit_kwargs,
        cache_dir=tmp_path,
        scheduler="tcp://127.0.0.1:9",
    )
    assert again["status"].tolist() == ["cached", "cached"]
    assert again["divergences"].tolist() == table["divergences"].tolist()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == mtimes
    assert "2 data sets, 2 cached, 0 to fit" in capsys.readouterr().out


@pytest.mark.slow
def test_fit_many_docstring_example_runs():
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    tests = [t for t in finder.find(pmm_mixture.many) if t.examples]
    assert {t.name.rsplit(".", 1)[-1] for t in tests} == {"fit_many", "model_path"}
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} failed"


def test_model_path_example_runs():
    # the fast doctest of the module; fit_many's runs in the slow test above
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    (test,) = [
        t for t in finder.find(pmm_mixture.many) if t.name.endswith("model_path")
    ]
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert os.sep not in model_path(".", "x").name
