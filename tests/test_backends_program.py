"""The backend comparison's bookkeeping and report, on hand-made records; no MCMC."""

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
bk = importlib.import_module("backends")

SETTINGS = bk.Settings(chains=2, tune=30, draws=30, cores=2)


def test_job_round_trips_and_keys_depend_on_settings():
    job = bk.Job("fit", "mixture_k5", "nutpie", 1, SETTINGS)
    assert bk.Job.from_json(job.to_json()) == job
    other = bk.Job("fit", "mixture_k5", "nutpie", 1, bk.Settings(draws=31))
    assert job.key() != other.key()
    assert job.key().startswith("mixture_k5-nutpie-seed1-")
    probe = bk.Job("probe", "mixture_k5", "nutpie", 1, SETTINGS)
    assert probe.key() == "probe-" + job.key()


def test_jobs_probe_each_model_and_backend_once():
    todo = list(bk.jobs(["hill"], ["pymc", "nutpie"], [3, 4], SETTINGS, 10))
    probes = [j for j in todo if j.kind == "probe"]
    assert [(j.backend, j.seed) for j in probes] == [("pymc", 3), ("nutpie", 3)]
    assert all(j.settings.tune == j.settings.draws == 10 for j in probes)
    assert len([j for j in todo if j.kind == "fit"]) == 4
    assert not [
        j for j in bk.jobs(["hill"], ["pymc"], [0], SETTINGS, 0) if j.kind == "probe"
    ]


def test_sampler_kwargs_are_fresh_copies():
    first = bk.sampler_kwargs("numpyro_vectorized", SETTINGS, 7)
    first["nuts_sampler_kwargs"]["target_accept"] = 0.5  # what pm.sample does
    second = bk.sampler_kwargs("numpyro_vectorized", SETTINGS, 7)
    assert second["nuts_sampler_kwargs"] == {"chain_method": "vectorized"}
    assert second["random_seed"] == 7 and second["target_accept"] == 0.95
    assert "nuts_sampler_kwargs" not in bk.sampler_kwargs("pymc", SETTINGS, 0)
    assert bk.sampler_kwargs("nutpie", SETTINGS, 0)["nuts_sampler"] == "nutpie"


def test_write_json_leaves_no_temp_file(tmp_path):
    path = tmp_path / "a" / "x.json"
    bk.write_json(path, {"a": 1})
    bk.write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]


def record(job, status="ok", **values):
    out = {
        "job": bk.asdict(job),
        "key": job.key(),
        "command": "python benchmarks/backends.py run",
        "versions": {"pymc": "x"},
        "status": status,
        "loadavg_start": [1.0, 1.0, 1.0],
    }
    if status != "ok":
        return out | {"message": "ValueError: boom | here"}
    base = {
        "wall_seconds": 10.0,
        "build_seconds": 1.0,
        "fit_seconds": 9.0,
        "sampling_seconds": 6.0,
        "outside_sampling_seconds": 3.0,
        "sampling_seconds_source": "idata.posterior.attrs['sampling_time']",
        "peak_rss_mb": 900.0,
        "tree_peak_rss_mb": 950.0,
    }
    if job.kind == "fit":
        base |= {
            "divergences": 0,
            "r_hat_max": 1.0,
            "ess_bulk_min": 600.0,
            "contribution_ess_bulk_min": 700.0,
            "max_tree_depth_frac": 0.0,
            "max_tree_depth_source": "tree_depth >= 10",
            "n_steps_mean": 31.0,
        }
    return out | base | values


def write_cache(cache):
    def put(job, **kw):
        bk.write_json(cache / f"{job.key()}.json", record(job, **kw))

    for seed in (0, 1):
        put(
            bk.Job("fit", "hill", "numpyro_parallel", seed, SETTINGS), wall_seconds=10.0
        )
        # faster, but one seed diverges: not recommended
        put(
            bk.Job("fit", "hill", "nutpie", seed, SETTINGS),
            wall_seconds=5.0,
            divergences=seed,
        )
        put(bk.Job("fit", "hill", "pymc", seed, SETTINGS), wall_seconds=8.0)
        put(bk.Job("fit", "mixture_k5", "numpyro_parallel", seed, SETTINGS))
        put(bk.Job("fit", "mixture_k5", "nutpie", seed, SETTINGS), wall_seconds=4.0)
    put(bk.Job("fit", "mixture_k5", "pymc", 0, SETTINGS), status="failed")
    probe = bk.replace(SETTINGS, tune=10, draws=10)
    put(bk.Job("probe", "hill", "numpyro_parallel", 0, probe), wall_seconds=4.0)
    # another run's settings: left out of this report
    put(bk.Job("fit", "hill", "pymc", 0, bk.Settings()), wall_seconds=1.0)


def test_summary_medians_ratios_and_recommendation(tmp_path):
    write_cache(tmp_path)
    frame = bk.load(tmp_path, SETTINGS, 10)
    summary = bk.summarise(frame)
    assert summary.loc[("hill", "nutpie"), "divergences_max"] == 1
    assert summary.loc[("hill", "pymc"), "wall_seconds_vs_ref"] == pytest.approx(0.8)
    assert summary.loc[("hill", "numpyro_parallel"), "net_seconds"] == 6.0
    assert summary.loc[("mixture_k5", "pymc"), "failed"] == 1
    per_model, overall = bk.recommend(summary)
    assert per_model == {"hill": "pymc", "mixture_k5": "nutpie"}
    # pymc failed a mixture fit, nutpie diverged on hill
    assert overall == "numpyro_parallel"


def test_report_renders(tmp_path):
    write_cache(tmp_path / "cache")
    text = bk.report(tmp_path / "cache", tmp_path / "out", SETTINGS, 10, "cmd")
    assert "hill: **pymc**; mixture_k5: **nutpie**" in text
    assert "over all models: **numpyro_parallel**" in text
    assert "ValueError: boom / here" in text
    assert "`python benchmarks/backends.py run`" in text
    for name in ("report.md", "fits.csv", "summary.csv", "meta.json"):
        assert (tmp_path / "out" / name).exists()


def test_run_skips_finished_and_retries_failed_only_when_asked(tmp_path, monkeypatch):
    write_cache(tmp_path)
    ran = []

    def fake(job, path, timeout, command):
        ran.append(job.key())
        return record(job)

    monkeypatch.setattr(bk, "run_child", fake)
    todo = list(bk.jobs(["mixture_k5"], ["pymc", "nutpie"], [0], SETTINGS, 0))
    bk.run(todo, tmp_path, retry_failed=False, timeout=None, command="")
    assert ran == []
    bk.run(todo, tmp_path, retry_failed=True, timeout=None, command="")
    assert ran == [bk.Job("fit", "mixture_k5", "pymc", 0, SETTINGS).key()]
