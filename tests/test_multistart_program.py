"""The multistart regret program's start points and report; no MCMC."""

import importlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
ms = importlib.import_module("multistart_regret")


def test_every_start_spends_the_budget():
    points = ms.starts(100.0, np.array([1.0, 3.0, 6.0]), seed=0)
    assert points.pop("default") is None
    assert len(points) == 1 + 3 + ms.N_RANDOM
    for point in points.values():
        assert np.isclose(point.sum(), 100.0) and (point >= 0).all()
    np.testing.assert_allclose(points["historical"], [10.0, 30.0, 60.0])
    assert points["corner 1"][1] == 95.0


def test_report_averages_over_seeds(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    for seed, default, best in ((0, 8.0, 2.0), (1, 4.0, 4.0)):
        record = {
            "spec": {"mode": "separated", "k_true": 2, "seed": seed, "model": "m"},
            "benchmark_regret_pct": default,
            "default_regret_pct": default,
            "best_start": "corner 0",
            "best_regret_pct": best,
        }
        (cache / f"run{seed}.json").write_text(json.dumps(record))
    args = SimpleNamespace(
        cache=cache,
        out=tmp_path / "out",
        tier_cache=BENCHMARKS / "cache" / "separated",
        k_true=[2],
        models=["m"],
    )
    ms.report(args)
    text = (tmp_path / "out" / "report.md").read_text()
    assert "6.0" in text and "3.0" in text
