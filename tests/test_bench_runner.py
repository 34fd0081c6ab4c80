"""The benchmark's runner on Dask (benchmarks/mmm_bench/runner.py).

The fits are a fake worker command (a small Python script that sleeps and then
writes a result, on purpose not atomically), so the tests exercise the
scheduling, the cache, failures and a killed worker without any MCMC.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
sp = importlib.import_module("mmm_bench.specs")
runner = importlib.import_module("mmm_bench.runner")
cli = importlib.import_module("mmm_bench.cli")

# argv: SLEEP SPEC.json. Behaviour by the spec's K_true: 2 exits with 3, 5
# sleeps a minute (for the timeout), 4 kills itself on its first attempt;
# the others sleep, then write the result in two halves 0.3 s apart.
FAKE_WORKER = """
import json, os, signal, sys, time
sleep, spec_file = float(sys.argv[1]), sys.argv[2]
payload = json.loads(open(spec_file).read())
spec = payload["spec"]
if spec["k_true"] == 2:
    sys.exit(3)
if spec["k_true"] == 5:
    time.sleep(60)
marker = spec_file + ".attempted"
if spec["k_true"] == 4 and not os.path.exists(marker):
    open(marker, "w").close()
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(sleep)
text = json.dumps({
    "metrics": {}, "errors": {}, "k_true": spec["k_true"], "seed": spec["seed"],
    "pid": os.getpid(), "ppid": os.getppid(),
    "xla_flags": os.environ.get("XLA_FLAGS"),
    "pythonpath": os.environ.get("PYTHONPATH"),
    "omp": os.environ.get("OMP_NUM_THREADS"),
    "padding": "x" * 4000,
})
with open(payload["result_path"], "w") as out:
    out.write(text[: len(text) // 2])
    out.flush()
    time.sleep(0.3)
    out.write(text[len(text) // 2 :])
"""


@pytest.fixture(scope="module")
def fake_worker(tmp_path_factory):
    path = tmp_path_factory.mktemp("fake") / "fake_worker.py"
    path.write_text(FAKE_WORKER)
    return path


def command(fake_worker, sleep=0.2):
    return [sys.executable, str(fake_worker), str(sleep)]


def make_specs(k_true=(1,), seeds=(0,), modes=("aggregate",)):
    tier = replace(sp.TIERS["quick"], k_true=k_true, seeds=seeds, modes=modes)
    return sp.build_specs("quick", tier, ["hill"])


def snapshot(paths):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in paths}


@pytest.fixture(scope="module")
def client():
    # the runner's own local cluster (2 single-threaded worker processes)
    with runner.dask_client(jobs=2) as made:
        yield made


def test_local_cluster_runs_every_fit_and_a_rerun_skips_them(
    tmp_path, fake_worker, capsys
):
    # latent K_true=1 shares the aggregate fit: 4 runs, 3 fits
    specs = make_specs(k_true=(1, 3), modes=("aggregate", "latent"))
    assert len(specs) == 4
    info = runner.run_all(specs, tmp_path, jobs=2, command=command(fake_worker))
    out = capsys.readouterr().out
    assert "4 in total (1 reuse the fit of the same data), 0 cached, 3 to fit" in out
    assert "2 worker(s), 2 thread(s)" in out
    assert len(info) == 3 and all(v["ok"] for v in info.values())
    for number in (1, 2, 3):
        assert f"[{number}/3]" in out
    assert "3 ok, 0 failed, 0 to go" in out
    paths = {s.result_path(tmp_path) for s in specs}
    assert len(paths) == 3
    for path in paths:
        result = json.loads(path.read_text())
        # one XLA host device per chain, mmm_bench importable, no thread limit
        # from Dask's nanny leaking into the fit
        assert result["xla_flags"].endswith("device_count=2")
        assert str(BENCHMARKS) in result["pythonpath"].split(os.pathsep)
        assert result["omp"] == os.environ.get("OMP_NUM_THREADS")
        assert not path.with_suffix(".spec.json").exists()
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("*.tmp"))
    before = snapshot(paths)

    assert runner.run_all(specs, tmp_path, jobs=2, command=command(fake_worker)) == {}
    assert "3 cached, 0 to fit" in capsys.readouterr().out
    assert snapshot(paths) == before


def test_chains_run_one_after_the_other_on_one_device_when_asked(tmp_path, fake_worker):
    from dataclasses import asdict

    (spec,) = make_specs()
    for parallel, flag in ((True, "device_count=2"), (False, "device_count=1")):
        serial = replace(spec, parallel_chains=parallel)
        path = serial.result_path(tmp_path)
        outcome = runner.run_fit(
            asdict(serial), str(path), command=command(fake_worker, 0.0)
        )
        assert outcome["ok"]
        assert json.loads(path.read_text())["xla_flags"].endswith(flag)


def test_fresh_refits_on_a_given_client(tmp_path, fake_worker, client, capsys):
    specs = make_specs()
    runner.run_all(specs, tmp_path, client=client, command=command(fake_worker))
    path = specs[0].result_path(tmp_path)
    first = json.loads(path.read_text())["pid"]
    info = runner.run_all(
        specs, tmp_path, client=client, fresh=True, command=command(fake_worker)
    )
    assert capsys.readouterr().out.count("0 cached, 1 to fit") == 2
    assert info[specs[0].key()]["ok"]
    assert json.loads(path.read_text())["pid"] != first
    assert client.status == "running"  # a client given is left open


def test_failed_and_timed_out_fits_are_reported_not_cached(
    tmp_path, fake_worker, client, capsys
):
    specs = make_specs(k_true=(1, 2, 5))
    start = time.perf_counter()
    info = runner.run_all(
        specs, tmp_path, client=client, timeout=3, command=command(fake_worker)
    )
    assert time.perf_counter() - start < 30
    ok, exits, timed_out = (info[s.key()] for s in specs)
    assert ok["ok"]
    assert not exits["ok"] and exits["returncode"] == 3
    assert not timed_out["ok"] and timed_out["returncode"] == -1
    out = capsys.readouterr().out
    assert "FAILED (exit 3)" in out and "FAILED (exit -1)" in out
    assert "2 of 3 fit(s) failed" in out
    for spec in specs[1:]:
        path = spec.result_path(tmp_path)
        assert not path.exists()
        assert path.with_suffix(".spec.json").exists()  # to rerun it by hand
        assert path.with_suffix(".log").exists()
    assert not list(tmp_path.rglob("*.part"))


def test_a_fit_killed_by_a_signal_is_retried(tmp_path, fake_worker, client, capsys):
    specs = make_specs(k_true=(4,))
    info = runner.run_all(specs, tmp_path, client=client, command=command(fake_worker))
    assert info[specs[0].key()]["ok"]
    assert specs[0].result_path(tmp_path).exists()

    # without retries the crash is reported as the fit's failure
    other = tmp_path / "no-retries"
    info = runner.run_all(
        specs, other, client=client, retries=0, command=command(fake_worker)
    )
    outcome = info[specs[0].key()]
    assert not outcome["ok"] and outcome["error"].startswith("FitCrashed")
    assert "killed by signal 9" in outcome["error"]
    assert "FAILED: FitCrashed" in capsys.readouterr().out
    assert not specs[0].result_path(other).exists()


def test_killing_a_worker_mid_run_loses_no_finished_fit(tmp_path, fake_worker):
    specs = make_specs(k_true=(1, 3), seeds=(0, 1, 2))
    assert len(specs) == 6
    paths = [s.result_path(tmp_path) for s in specs]
    with runner.dask_client(jobs=2) as client:
        outcome = {}

        def run():
            outcome["info"] = runner.run_all(
                specs, tmp_path, client=client, command=command(fake_worker, 1.5)
            )

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 60
        while not any(p.exists() for p in paths):
            assert time.monotonic() < deadline, "no fit finished in 60 s"
            time.sleep(0.05)
        # a worker in the middle of a fit: kill it, and see its fit die with it
        deadline = time.monotonic() + 30
        while True:
            busy = [w for w, keys in client.processing().items() if keys]
            pids = client.run(os.getpid, workers=busy) if busy else {}
            children = {
                w: [
                    child
                    for child in psutil.Process(pid).children(recursive=True)
                    if str(fake_worker) in " ".join(child.cmdline())
                ]
                for w, pid in pids.items()
            }
            victims = [w for w in busy if children.get(w)]
            if victims:
                break
            assert time.monotonic() < deadline, "no worker busy with a fit"
            time.sleep(0.05)
        finished = snapshot([p for p in paths if p.exists()])
        assert 1 <= len(finished) < len(specs)
        os.kill(pids[victims[0]], signal.SIGKILL)
        _, alive = psutil.wait_procs(children[victims[0]], timeout=10)
        assert not alive, "the killed worker's fit outlived it"
        thread.join(timeout=120)
        assert not thread.is_alive()

    info = outcome["info"]
    assert len(info) == 6 and all(v["ok"] for v in info.values()), info
    # every result whole, those finished before the kill untouched
    for spec, path in zip(specs, paths, strict=True):
        result = json.loads(path.read_text())
        assert (result["k_true"], result["seed"]) == (spec.k_true, spec.seed)
    assert snapshot(finished) == finished
    assert not list(tmp_path.rglob("*.part"))


def test_cli_passes_the_scheduler_to_the_runner(tmp_path, monkeypatch):
    calls = []

    def fake_run_all(specs, cache_dir, **kwargs):
        calls.append(kwargs)
        return {}

    monkeypatch.setattr(cli, "run_all", fake_run_all)
    argv = ["--tier", "quick", "--only-model", "hill", "--k-true", "1"]
    argv += ["--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o")]
    argv += ["--scheduler", "tcp://127.0.0.1:8786", "--retries", "1", "--jobs", "3"]
    assert cli.main(argv) == 1  # nothing fitted: nothing to report
    assert calls == [
        {
            "jobs": 3,
            "timeout": None,
            "fresh": False,
            "scheduler": "tcp://127.0.0.1:8786",
            "retries": 1,
        }
    ]


def test_run_benchmark_help_names_the_dask_options():
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_benchmark.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--scheduler ADDRESS", "--jobs", "--retries"):
        assert option in result.stdout
