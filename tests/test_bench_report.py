"""The report's comparison with the best single curve and its health table.

Hand-made results where the answers are known; no MCMC.
"""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
sp = importlib.import_module("mmm_bench.specs")
bm = importlib.import_module("mmm_bench.metrics")
rp = importlib.import_module("mmm_bench.report")
cli = importlib.import_module("mmm_bench.cli")

RNG = np.random.default_rng(0)
N_OBS = 20


def run(seed, model, regret, elpd, status="ok", **extra):
    row = dict.fromkeys(sp.METRIC_KEYS, 1.0) | {
        "mode": "aggregate",
        "k_true": 2,
        "seed": seed,
        "model": model,
        "key": f"seed{seed}-{model}",
        "result": f"seed{seed}-{model}",
        "status": status,
        "regret_pct": regret,
        "elpd_loo": elpd,
        "max_tree_depth_frac": 0.0,
        "r_hat_max": 1.0,
        "ess_bulk_min": 1000.0,
        "divergences": 0.0,
    }
    return row | extra


def hand_made():
    """Seed 0: logistic best by regret, k1 by ELPD. Seed 1: k1 best by regret,
    Hill by ELPD. Seed 2: only Hill ran (logistic missing, k1 absent)."""
    rows = [
        run(0, "hill", 5.0, -100.0),
        run(0, "logistic", 2.0, -105.0),
        run(0, "mixture_k1", 3.0, -99.0),
        run(0, "mixture_k3", 4.0, -98.0),
        run(0, "mixture_k5", 1.0, -97.0),
        run(1, "hill", 4.0, -90.0),
        run(1, "logistic", 6.0, -95.0),
        run(1, "mixture_k1", 1.0, -92.0),
        run(1, "mixture_k5", 2.0, -91.0),  # no K=3 run for seed 1
        run(2, "hill", 3.0, -80.0),
        run(2, "logistic", np.nan, np.nan, status="missing"),
        run(2, "mixture_k5", 1.5, -79.0),
    ]
    runs = pd.DataFrame(rows)
    elpd = {
        key: (RNG.normal(size=N_OBS) + value / N_OBS).tolist()
        for key, value in zip(runs["key"], runs["elpd_loo"], strict=True)
        if np.isfinite(value)
    }
    return runs, elpd


def test_best_single_curve_by_regret_and_by_elpd():
    runs, _ = hand_made()
    best = rp.best_single_curve(runs).set_index("seed")
    assert best.loc[0, "best_regret_model"] == "logistic"
    assert best.loc[0, "best_regret_pct"] == 2.0
    assert best.loc[0, "best_elpd_model"] == "mixture_k1"
    assert best.loc[1, "best_regret_model"] == "mixture_k1"
    assert best.loc[1, "best_elpd_model"] == "hill"
    assert best.loc[1, "best_elpd_key"] == "seed1-hill"
    # a missing or absent baseline is left out and listed as not run
    assert best.loc[2, "best_regret_model"] == "hill"
    assert best.loc[2, "not_run"] == "logistic,mixture_k1"
    assert best.loc[0, "not_run"] == ""
    # the mixtures are never candidates
    assert not set(best["best_regret_model"]) & set(sp.MIXTURE_MODELS)


def test_best_single_curve_with_no_baseline_at_all():
    runs = pd.DataFrame([run(0, "mixture_k5", 1.0, -10.0)])
    best = rp.best_single_curve(runs).iloc[0]
    assert best["best_regret_model"] == best["best_elpd_model"] == "not run"
    assert np.isnan(best["best_regret_pct"])
    assert best["not_run"] == "hill,logistic,mixture_k1"


def test_compare_with_best_single_pairs_the_pointwise_elpd():
    runs, elpd = hand_made()
    table = rp.compare_with_best_single(runs, elpd).set_index(["seed", "model"])
    k5 = table.loc[(0, "mixture_k5")]
    assert k5["regret_ratio_vs_best"] == pytest.approx(1.0 / 2.0)  # vs logistic
    diff, se = bm.elpd_difference(elpd["seed0-mixture_k5"], elpd["seed0-mixture_k1"])
    assert k5["elpd_diff_vs_best"] == pytest.approx(diff)
    assert k5["elpd_diff_se_vs_best"] == pytest.approx(se)
    assert k5["elpd_diff_z_vs_best"] == pytest.approx(diff / se)
    seed1 = table.loc[(1, "mixture_k5")]
    assert seed1["regret_ratio_vs_best"] == pytest.approx(2.0)  # vs mixture_k1
    diff, _ = bm.elpd_difference(elpd["seed1-mixture_k5"], elpd["seed1-hill"])
    assert seed1["elpd_diff_vs_best"] == pytest.approx(diff)
    # no K=3 run for seed 1 (absent) or seed 2: not run, no crash
    assert table.loc[(1, "mixture_k3"), "status"] == "not run"
    assert np.isnan(table.loc[(1, "mixture_k3"), "regret_ratio_vs_best"])
    assert table.loc[(2, "mixture_k3"), "status"] == "not run"

    cells = rp.summarize_vs_best(table.reset_index()).set_index("model")
    assert cells.loc["mixture_k5", "seeds"] == "3/3"
    assert cells.loc["mixture_k3", "seeds"] == "1/3"
    assert (
        cells.loc["mixture_k5", "best by regret"] == "hill 1, logistic 1, mixture_k1 1"
    )
    assert cells.loc["mixture_k5", "best by ELPD"] == "hill 2, mixture_k1 1"
    assert cells.loc["mixture_k5", "single curves not run"] == (
        "logistic (1/3), mixture_k1 (1/3)"
    )
    # mean regret ratio over seeds: (0.5 + 2.0 + 0.5) / 3
    assert cells.loc["mixture_k5", "regret / best"].startswith("1.00 ± ")


def test_health_by_model():
    runs = pd.DataFrame(
        [
            run(0, "hill", 1, 1, max_tree_depth_frac=0.3, r_hat_max=1.02),
            run(1, "hill", 1, 1, max_tree_depth_frac=0.1, divergences=2.0),
            run(0, "logistic", 1, 1, max_tree_depth_frac=0.08),
            run(1, "logistic", 1, 1, max_tree_depth_frac=0.12, ess_bulk_min=300.0),
            run(0, "mixture_k1", 1, 1, status="missing"),
        ]
    )
    health = rp.health_by_model(runs).set_index("model")
    assert list(health.index) == ["hill", "logistic", "mixture_k1"]
    hill = health.loc["hill"]
    assert hill["at max depth: worst cell mean"] == "0.200"  # (0.3 + 0.1) / 2
    assert hill["at max depth: worst fit"] == "0.300"
    assert hill["worst R-hat"] == "1.020"
    assert hill["divergences (fits)"] == "2 (1)"
    assert hill["targets"] == "NOT met (depth, R-hat)"
    logistic = health.loc["logistic"]
    assert logistic["at max depth: worst cell mean"] == "0.100"
    assert logistic["min bulk ESS"] == "300"
    assert logistic["targets"] == "met"
    assert health.loc["mixture_k1", "targets"] == "not run"
    assert health.loc["mixture_k1", "fits"] == 0


def test_report_with_missing_models_does_not_crash():
    runs, elpd = hand_made()
    runs = runs[runs["model"] != "mixture_k3"]  # a model with no run at all
    runs = runs.assign(**dict.fromkeys(rp.PAIRWISE_KEYS, np.nan))
    summary = rp.summarize(runs)
    targets = rp.evaluate_targets(runs)
    text = rp.format_report(
        summary,
        targets,
        settings=rp.settings_frame(sp.MODEL_SAMPLER_SETTINGS, list(sp.MODELS)),
        vs_best=rp.summarize_vs_best(rp.compare_with_best_single(runs, elpd)),
        health=rp.health_by_model(runs, list(sp.MODELS)),
    )
    assert text.index("== Sampler settings per model") < text.index("== Targets")
    assert "not run" in text
    markdown = rp.format_markdown_report(
        summary, targets, health=rp.health_by_model(runs)
    )
    assert "### Sampling health per model" in markdown
    # nothing to compare at all
    empty = rp.compare_with_best_single(runs.iloc[0:0], {})
    assert empty.empty and rp.summarize_vs_best(empty).empty


def fabricate(spec, cache_dir, regret, elpd_total):
    path = spec.result_path(cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    metrics = dict.fromkeys(sp.METRIC_KEYS, 1.0)
    metrics |= {"regret_pct": regret, "elpd_loo": elpd_total, "divergences": 0.0}
    elpd_i = (RNG.normal(size=N_OBS) + elpd_total / N_OBS).tolist()
    result = {"metrics": metrics, "errors": {}, "elpd_i": elpd_i}
    path.write_text(json.dumps(result))


def test_report_only_from_a_cache_without_some_models(tmp_path, capsys):
    # Hill and the K=5 mixture are cached; logistic, K=1 and K=3 are not
    cache, out = tmp_path / "cache", tmp_path / "out"
    argv = ["--tier", "quick", "--cache-dir", str(cache), "--out", str(out)]
    args = cli.parse_args(argv)
    for spec in sp.build_specs("quick", cli.resolve_tier(args), list(sp.MODELS)):
        if spec.model in ("hill", "mixture_k5"):
            fabricate(spec, cache, 3.0 if spec.model == "hill" else 1.0, -50.0)
    argv += [
        "--report-only",
        "--no-figures",
        "--model-setting",
        "hill.target_accept=0.999",
    ]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "Report only: 4 of 10 runs are cached; fitting none." in printed
    folder = out / "quick"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["model_settings"]["mixture_k1"] == {
        "label": "MixtureHill K=1",
        "target_accept": 0.999,
        "max_tree_depth": 10,
        "step_size": "min",
        "mass_matrix": "diag",
    }
    report = (folder / "report.txt").read_text()
    assert report.lstrip().startswith("== Sampler settings per model")
    vs_best = pd.read_csv(folder / "vs_best_single.csv")
    k5 = vs_best[vs_best["model"] == "mixture_k5"]
    assert (k5["best_regret_model"] == "hill").all()
    assert k5["regret_ratio_vs_best"].tolist() == pytest.approx([1 / 3, 1 / 3])
    assert (vs_best[vs_best["model"] == "mixture_k3"]["status"] == "not run").all()
    health = pd.read_csv(folder / "health.csv").set_index("model")
    assert health.loc["logistic", "targets"] == "not run"
