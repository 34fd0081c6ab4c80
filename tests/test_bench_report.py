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
    # against its own one-curve model, whichever single curve is best
    diff, se = bm.elpd_difference(elpd["seed1-mixture_k5"], elpd["seed1-mixture_k1"])
    assert seed1["elpd_diff_vs_k1"] == pytest.approx(diff)
    assert seed1["elpd_diff_se_vs_k1"] == pytest.approx(se)
    assert seed1["elpd_diff_vs_k1"] != pytest.approx(seed1["elpd_diff_vs_best"])
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
        "jitter": True,
        "parallel_chains": True,
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


# ---------------------------------------------------------------------------
# The separated, geo and lift tiers: cells, targets against the best single curve
# ---------------------------------------------------------------------------
HEALTHY = {"ess_tail_min": 1000.0, "divergences": 0.0, "r_hat_max": 1.0}


def cell_runs(mode, k, n_geos=np.nan):
    """Seeds 0 and 1 of a cell: best single regret 2 % and 4 % (logistic),
    best ELPD Hill's; K5 regret 1 % in both; K5's pointwise ELPD beats Hill's
    by 1 everywhere in seed 0 (z large) and by +-1 alternately in seed 1 (0)."""
    rows, elpd = [], {}
    base = RNG.normal(size=N_OBS)
    for seed, shift in ((0, np.ones(N_OBS)), (1, np.resize([1.0, -1.0], N_OBS))):
        for model, regret, points in (
            ("hill", 5.0, base),
            ("logistic", 2.0 * (seed + 1), base - 1.0),
            ("mixture_k1", 6.0, base - 2.0),
            ("mixture_k5", 1.0, base + shift),
        ):
            key = f"{mode}-K{k}-seed{seed}-{model}"
            extra = HEALTHY | {
                "mode": mode,
                "k_true": k,
                "n_geos": n_geos,
                "key": key,
                "result": key,
                "segments_exact_frac": 1.0 if seed == 0 else 0.5,
                "curve_err_mean": 0.05 if model == "mixture_k5" else 0.1,
            }
            rows.append(run(seed, model, regret, float(points.sum()), **extra))
            elpd[key] = points.tolist()
    return rows, elpd


def test_targets_of_the_separated_and_geo_cells():
    rows, elpd = [], {}
    for mode, k, n_geos in (
        ("separated", 2, np.nan),
        ("geo G=10", 3, 10),
        ("geo G=4", 2, 4),
    ):
        more, points = cell_runs(mode, k, n_geos)
        rows += more
        elpd |= points
    # K5 alone in a separated K_true=3 cell: nothing to compare with
    rows.append(run(0, "mixture_k5", 1.0, -10.0, mode="separated", k_true=3, **HEALTHY))
    # one unhealthy K=1 fit in the G=10 cell
    runs = pd.DataFrame(rows).assign(**dict.fromkeys(rp.PAIRWISE_KEYS, np.nan))
    runs.loc[
        (runs["mode"] == "geo G=10") & (runs["model"] == "mixture_k1"), "divergences"
    ] = [
        0.0,
        3.0,
    ]
    comparison = rp.compare_with_best_single(runs, elpd)
    targets = rp.evaluate_targets(runs, comparison)
    new = targets[
        targets["target"].isin(
            [
                t
                for t in targets["target"]
                if "best single" in t or "every mixture" in t or "segment count" in t
            ]
        )
    ]
    table = {(r.mode, r.k_true, r.target): r for r in new.itertuples(index=False)}

    def status(mode, k, start):
        (hit,) = [
            v
            for (m, kk, t), v in table.items()
            if m == mode and kk == k and t.startswith(start)
        ]
        return hit.status, hit.numbers

    # regret: K5 1 % against the best single's mean 3 % (2 and 4): 1 <= 2.1
    assert status("separated", 2, "K5 regret <= 0.7x")[0] == "met"
    assert "ratio of means 0.33" in status("separated", 2, "K5 regret")[1]
    # ΔELPD: seed 0 z is large, seed 1 z is 0: not in every seed
    elpd_status, numbers = status(
        "separated", 2, "K5 ΔELPD vs best single curve > 2 SE"
    )
    assert elpd_status == "NOT met" and "1/2 seeds" in numbers
    assert status("separated", 2, "every mixture fit")[0] == "met"
    # nothing to compare: not assessable
    assert status("separated", 3, "K5 regret")[0] == "n/a"
    assert status("separated", 3, "K5 ΔELPD")[0] == "n/a"
    # geo G=10: segment counts exact in (1.0 + 0.5) / 2 = 75 % of channel fits
    segments = status("geo G=10", 3, "K5 exact segment count")
    assert segments[0] == "NOT met" and segments[1].startswith("75% of channel fits")
    assert status("geo G=10", 3, "K5 ΔELPD vs best single curve > 4 SE")[0] == "NOT met"
    assert status("geo G=10", 3, "K5 regret <= 0.7x")[0] == "met"
    health = status("geo G=10", 3, "every mixture fit")
    assert health[0] == "NOT met"
    assert "mixture_k1 1/2, mixture_k5 2/2" in health[1]
    # geo G=4: only the health target
    assert [t for (m, _, t) in table if m == "geo G=4"] == [
        "every mixture fit: 0 div., R-hat<=1.01, bulk and tail ESS>=400"
    ]
    # the full tier's cells get none of these
    runs_full, _ = hand_made()
    runs_full = runs_full.assign(**dict.fromkeys(rp.PAIRWISE_KEYS, np.nan))
    assert not any("best single" in t for t in rp.evaluate_targets(runs_full)["target"])

    # the comparison table carries curve error and segment accuracy
    cells = rp.summarize_vs_best(comparison)
    row = cells[(cells["mode"] == "geo G=10") & (cells["model"] == "mixture_k5")].iloc[
        0
    ]
    assert row["curve err"].startswith("0.050")
    assert row["curve err / best"].startswith("0.50")
    assert row["segments exact"].startswith("0.75")
    # cells in order: by mode, geo panels by size
    assert list(dict.fromkeys(cells["mode"])) == ["separated", "geo G=4", "geo G=10"]


def test_load_results_names_the_cells_and_targets_read_the_kept_elpd(tmp_path):
    specs = [
        s
        for s in sp.build_specs("geo", sp.TIERS["geo"], list(sp.MODELS))
        if s.n_geos in (4, 10) and s.k_true == 2 and s.seed == 0
    ]
    for spec in specs:
        fabricate(spec, tmp_path, 1.0 if spec.model == "mixture_k5" else 3.0, -50.0)
    runs, elpd = rp.load_results(specs, tmp_path)
    assert set(runs["mode"]) == {"geo G=4", "geo G=10"}
    assert set(runs["n_geos"]) == {4, 10}
    assert not runs["lift"].any()
    assert runs.attrs["elpd"] == elpd
    runs = rp.add_pairwise(runs, elpd, specs, tmp_path)
    assert runs.attrs["elpd"] == elpd  # kept through add_pairwise
    targets = rp.evaluate_targets(runs)
    geo10 = targets[targets["mode"] == "geo G=10"].set_index("target")
    regret = geo10.loc["K5 regret <= 0.7x best single curve's (mean over seeds)"]
    assert regret["status"] == "met"  # 1 % against 3 %
    elpd_row = geo10.loc["K5 ΔELPD vs best single curve > 4 SE (every seed)"]
    assert elpd_row["status"] in ("met", "NOT met")  # assessed from attrs
    summary = rp.summarize(runs)
    assert list(dict.fromkeys(summary["mode"])) == ["geo G=4", "geo G=10"]
    lift = [
        s
        for s in sp.build_specs("lift", sp.TIERS["lift"], ["hill"])
        if s.k_true == 2 and s.seed == 0
    ]
    lift_runs, _ = rp.load_results(lift, tmp_path)
    assert list(lift_runs["mode"]) == ["aggregate + lift", "separated + lift"]
    assert lift_runs["lift"].all() and lift_runs["n_geos"].isna().all()


def test_figures_with_geo_cells():
    import matplotlib

    matplotlib.use("Agg")
    rows, _ = cell_runs("geo G=10", 2, 10)
    more, _ = cell_runs("geo G=4", 2, 4)
    runs = pd.DataFrame(rows + more).assign(**dict.fromkeys(rp.PAIRWISE_KEYS, 0.0))
    summary = rp.summarize(runs)
    fig = rp.metric_figure(summary, rp.FIGURES[3])
    assert [ax.get_title() for ax in fig.axes] == ["geo G=4 data", "geo G=10 data"]


def test_speed_vs_single_uses_the_fastest_single_curve_per_data_set():
    def timed(seed, model, fit, ess_per_s, divergences=0.0):
        return run(
            seed,
            model,
            1.0,
            1.0,
            fit_seconds=fit,
            sampling_seconds=fit / 2,
            ess_bulk_per_s=ess_per_s,
            divergences=divergences,
        )

    runs = pd.DataFrame(
        [
            timed(0, "hill", 20.0, 10.0),
            timed(0, "mixture_k1", 10.0, 50.0),
            timed(0, "mixture_k5", 30.0, 20.0, divergences=1.0),
            timed(1, "hill", 10.0, 10.0),
            timed(1, "mixture_k1", 40.0, 50.0),
            timed(1, "mixture_k5", 20.0, 5.0),
            timed(1, "logistic", 1.0, 99.0),  # not a speed baseline
        ]
    )
    speed = rp.speed_vs_single(runs).set_index("mode")
    cell = speed.loc["aggregate"]
    # seed 0: 30 / min(20, 10) = 3; seed 1: 20 / min(10, 40) = 2; median 2.5
    assert cell["fit_time_vs_best_single"] == 2.5
    assert cell["sampling_time_vs_best_single"] == 2.5
    assert cell["ess_per_s_vs_hill"] == 1.25  # median of 2.0 and 0.5
    assert cell["k5_fits_with_divergences"] == 1
    assert cell["k1_fits_with_divergences"] == 0
    assert speed.loc["all", "n"] == 2


def test_speed_vs_single_is_empty_without_the_models():
    runs = pd.DataFrame([run(0, "hill", 1.0, 1.0, fit_seconds=1.0)])
    assert rp.speed_vs_single(runs).empty
