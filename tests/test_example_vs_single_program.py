"""The example comparison's report, on a hand-made results file; no MCMC."""

import importlib
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
evs = importlib.import_module("example_vs_single")


def test_report_names_the_best_single_curve_and_the_differences(tmp_path):
    fit = {
        "fit_wall_s": 10.0,
        "sampling_s": 8.0,
        "divergences": 0,
        "rhat_contribution_max": 1.001,
        "ess_bulk_contribution_min": 2000.0,
    }
    against = {
        name: {
            "elpd_single": elpd,
            "elpd_k4": 400.0,
            "elpd_diff": 400.0 - elpd,
            "diff_se": 4.0,
            "z": (400.0 - elpd) / 4.0,
            "n_bad_pareto_k": 0,
        }
        for name, elpd in (("mixture_k1", 386.0), ("hill", 390.0), ("logistic", 381))
    }
    results = {
        "fits": {name: fit for name in evs.MODELS},
        "k4_against": against,
        "meta": {"command": "cmd", "sampler": evs.SAMPLER},
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    evs.report(tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "Best single curve by ELPD-LOO: hill." in text
    assert "| hill | 390.0 | 400.0 | +10.0 | 4.0 | 2.5 | 0 |" in text
    assert text.count("| 8.0 | 0 | 1.001 | 2000 |") == len(evs.MODELS)
