"""The benchmark's metric functions, its aggregation, and one tiny cell end to end.

Expected values are worked out by hand in the comments. The end-to-end test
runs one Hill fit (1 chain x 30 draws) through the same code path as the CLI.
"""

import importlib
import json
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pymc_extras.prior import Prior

from pmm_mixture.priors import PooledSlope
from pmm_mixture.synthetic import make_mixture_mmm_data

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
bm = importlib.import_module("mmm_bench.metrics")
sp = importlib.import_module("mmm_bench.specs")
wk = importlib.import_module("mmm_bench.worker")
runner = importlib.import_module("mmm_bench.runner")
rp = importlib.import_module("mmm_bench.report")
cli = importlib.import_module("mmm_bench.cli")
dd = importlib.import_module("diagnose_divergences")
HN02 = Prior("HalfNormal", sigma=0.2)


# ---------------------------------------------------------------------------
# mmm_bench/metrics.py
# ---------------------------------------------------------------------------
@pytest.fixture
def uniform_draws():
    # 101 draws 0, 1, ..., 100 for each of 4 observations: the central 50 %
    # interval is [25, 75] and the central 90 % interval [5, 95].
    return np.tile(np.arange(101.0)[:, None], (1, 4))


def test_interval_coverage_counts_observations_inside(uniform_draws):
    y = np.array([25.0, 50.0, 80.0, 75.0])  # 80 is outside [25, 75]
    assert bm.interval_coverage(y, uniform_draws, 0.5) == pytest.approx(0.75)
    assert bm.interval_coverage(y, uniform_draws, 0.9) == pytest.approx(1.0)
    y = np.array([4.0, 96.0, 50.0, 50.0])  # 4 and 96 are outside [5, 95]
    assert bm.interval_coverage(y, uniform_draws, 0.9) == pytest.approx(0.5)


def test_interval_coverage_sample_axis_and_validation(uniform_draws):
    y = np.array([25.0, 50.0, 80.0, 75.0])
    assert bm.interval_coverage(y, uniform_draws.T, 0.5, sample_axis=1) == 0.75
    with pytest.raises(ValueError, match="shape"):
        bm.interval_coverage(y[:3], uniform_draws, 0.5)
    with pytest.raises(ValueError, match="prob"):
        bm.interval_coverage(y, uniform_draws, 1.5)


def test_rmse():
    # errors 0, 0, 2: sqrt(4 / 3)
    assert bm.rmse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(math.sqrt(4 / 3))


def test_crps_matches_hand_computation():
    # Draws {0, 2}, y = 1: E|X - y| = 1, E|X - X'| / 2 = (2 * 2 / 4) / 2 = 0.5,
    # CRPS = 1 - 0.5 = 0.5. A point mass at c gives |y - c|.
    assert bm.crps([1.0], np.array([[0.0], [2.0]])) == pytest.approx(0.5)
    assert bm.crps([1.0, 4.0], np.full((5, 2), 3.0)) == pytest.approx((2 + 1) / 2)
    # sample axis last
    assert bm.crps([1.0], np.array([[0.0, 2.0]]), sample_axis=1) == pytest.approx(0.5)


def test_relative_rmse():
    # truth (3, 4): root mean square sqrt(12.5); error (0, 1): rmse sqrt(0.5)
    assert bm.relative_rmse([3.0, 4.0], [3.0, 5.0]) == pytest.approx(0.2)
    assert bm.relative_rmse([3.0, 4.0], [0.0, 0.0]) == pytest.approx(1.0)
    assert math.isnan(bm.relative_rmse([0.0, 0.0], [1.0, 1.0]))


def test_curve_recovery_error_relative_to_true_max():
    # |errors| = 1, 0, 2 over a true maximum of 10
    error = bm.curve_recovery_error([0.0, 5.0, 10.0], [1.0, 5.0, 8.0])
    assert error["max"] == pytest.approx(0.2)
    assert error["mean"] == pytest.approx(0.1)
    with pytest.raises(ValueError):
        bm.curve_recovery_error([1.0, 2.0], [1.0])


def test_contribution_recovery_error_per_channel():
    truth = np.array([[3.0, 1.0], [4.0, 1.0]])
    fitted = np.array([[3.0, 1.0], [5.0, 1.0]])
    np.testing.assert_allclose(
        bm.contribution_recovery_error(truth, fitted), [0.2, 0.0]
    )


def test_budget_regret_by_hand():
    def response(alloc):
        return 2.0 * alloc["a"] + alloc["b"]

    # R(optimal) = 8, R(recommended) = 5: 3 / 8 of the optimum is lost
    regret = bm.budget_regret(response, {"a": 1.0, "b": 3.0}, {"a": 4.0, "b": 0.0})
    assert regret["regret_pct"] == pytest.approx(37.5)
    assert regret["response_recommended"] == pytest.approx(5.0)
    assert regret["response_optimal"] == pytest.approx(8.0)


def test_budget_regret_with_the_synthetic_oracle():
    data = make_mixture_mmm_data(2, n_channels=3, n_weeks=60, seed=1)
    budget = float(data.data[data.channel_columns].mean().sum())
    optimal = data.optimal_allocation(budget)
    same = bm.budget_regret(data.true_response, optimal, optimal)
    assert same["regret_pct"] == 0.0
    equal = {c: budget / 3 for c in data.channel_columns}
    assert bm.budget_regret(data.true_response, equal, optimal)["regret_pct"] > 0.0


def test_elpd_difference_by_hand():
    # d = (1, 2, 3): sum 6, population variance 2/3, SE sqrt(3 * 2/3) = sqrt(2)
    diff, se = bm.elpd_difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert diff == pytest.approx(6.0)
    assert se == pytest.approx(math.sqrt(2.0))
    with pytest.raises(ValueError):
        bm.elpd_difference([1.0, 2.0], [1.0])


def test_elpd_difference_agrees_with_arviz_compare():
    rng = np.random.default_rng(3)

    def fake(shift):
        log_lik = rng.normal(-1.0 - shift, 0.4, size=(2, 150, 40))
        return az.from_dict(
            {
                "posterior": {"mu": rng.normal(size=(2, 150))},
                "log_likelihood": {"y": log_lik},
            }
        )

    good, bad = fake(0.0), fake(0.3)
    loo_good = az.loo(good, pointwise=True)
    loo_bad = az.loo(bad, pointwise=True)
    diff, se = bm.elpd_difference(loo_bad.elpd_i.values, loo_good.elpd_i.values)
    table = az.compare({"good": loo_good, "bad": loo_bad}, round_to="none")
    # both are model minus reference: negative for the worse model
    assert diff < 0
    assert diff == pytest.approx(table.loc["bad", "elpd_diff"], rel=1e-9)
    assert se == pytest.approx(table.loc["bad", "dse"], rel=1e-9)


def test_draws_diagnostics_flags_disagreeing_chains():
    rng = np.random.default_rng(0)
    mixed = xr.DataArray(rng.normal(size=(2, 500, 3)), dims=("chain", "draw", "x"))
    stuck = mixed + xr.DataArray([0.0, 5.0], dims="chain")  # chain 2 shifted by 5 sd
    table = bm.draws_diagnostics({"mixed": mixed, "stuck": stuck})
    assert table["mixed"]["r_hat_max"] < 1.02
    assert table["mixed"]["ess_bulk_min"] > 500
    assert table["stuck"]["r_hat_max"] > 1.5
    assert table["stuck"]["ess_bulk_min"] < 50


# ---------------------------------------------------------------------------
# Run specs and options (mmm_bench/specs.py, mmm_bench/cli.py)
# ---------------------------------------------------------------------------
def table(**options):
    return sp.resolve_model_settings(**options)


def test_target_accept_option_applies_to_every_model(tmp_path, capsys):
    tier = sp.TIERS["quick"]
    models = list(sp.MODELS)
    specs = sp.build_specs("quick", tier, models, (), table(target_accept=0.9))
    assert {s.target_accept for s in specs} == {0.9}
    default = sp.build_specs("quick", tier, models)
    assert all(a.key() != b.key() for a, b in zip(specs, default, strict=True))
    argv = [
        "--target-accept",
        "1.5",
        "--cache-dir",
        str(tmp_path),
        "--out",
        str(tmp_path),
    ]
    assert cli.main(argv) == 2
    assert "--target-accept must lie in (0, 1)" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing fitted or written


def test_mass_matrix_option_applies_to_the_mixtures_only():
    tier = sp.TIERS["quick"]
    models = list(sp.MODELS)

    def specs(mass_matrix):
        settings = table(target_accept=0.9, mixture_mass_matrix=mass_matrix)
        return {s.model: s for s in sp.build_specs("quick", tier, models, (), settings)}

    diag, dense = specs("diag"), specs("dense")
    for model in sp.SINGLE_CURVE_MODELS:
        assert dense[model].mass_matrix == "diag"
        assert dense[model].key() == diag[model].key()
    for model in sp.MIXTURE_MODELS:
        assert dense[model].mass_matrix == "dense"
        assert dense[model].settings()["mass_matrix"] == "dense"
        assert dense[model].key() != diag[model].key()
        # a diagonal mass matrix leaves no trace in the settings, so the
        # results cached before the option existed keep their keys
        assert "mass_matrix" not in diag[model].settings()
    spec = dense["mixture_k3"]
    assert sp.RunSpec(**json.loads(json.dumps(asdict(spec)))) == spec
    with pytest.raises(ValueError, match="mass_matrix must be one of"):
        replace(spec, mass_matrix="full")


def test_step_size_option_applies_to_the_mixtures_only():
    tier = sp.TIERS["quick"]
    models = list(sp.MODELS)

    def specs(step_size):
        settings = table(target_accept=0.9, mixture_step_size=step_size)
        return {s.model: s for s in sp.build_specs("quick", tier, models, (), settings)}

    own, shared = specs("per_chain"), specs("min")
    for model in ("hill", "logistic"):
        assert shared[model].step_size == "per_chain"
        assert shared[model].key() == own[model].key()
    # the K=1 mixture is a baseline: its step size is its own table entry
    assert own["mixture_k1"].step_size == shared["mixture_k1"].step_size == "min"
    for model in sp.MIXTURE_MODELS:
        assert shared[model].settings()["step_size"] == "min"
        assert shared[model].key() != own[model].key()
        # NumPyro's own step size leaves no trace in the settings, so the
        # results cached before the option existed keep their keys
        assert "step_size" not in own[model].settings()
        # the ELPD differences and cost ratios pair it with the Hill fit made
        assert shared[model].reference(table(target_accept=0.9)) == shared["hill"]
    dense = specs("min")["mixture_k5"]
    dense = replace(dense, mass_matrix="dense", mixture_priors={"beta": {"dist": "X"}})
    assert dense.reference(table(target_accept=0.9)).key() == own["hill"].key()
    spec = shared["mixture_k3"]
    assert sp.RunSpec(**json.loads(json.dumps(asdict(spec)))) == spec
    with pytest.raises(ValueError, match="step_size must be one of"):
        replace(spec, step_size="mean")


def test_output_folder_names_every_departure_from_the_tier(tmp_path):
    def name(*argv: str) -> str:
        args = cli.parse_args(["--tier", "full", *argv])
        priors = cli.parse_priors(args)
        return cli.output_name(args, cli.resolve_tier(args), priors)

    assert name() == "full"
    assert name("--only-model", *sp.MODELS) == "full"
    assert name("--draws", "2000") == "full"  # the tier's own value
    assert name("--draws", "1000") == "full-draws1000"
    assert (
        name("--target-accept", "0.99", "--draws", "1000")
        == "full-target_accept0.99-draws1000"
    )
    assert name("--target-accept", str(sp.TARGET_ACCEPT)) == "full"
    other = next(m for m in sp.MASS_MATRICES if m != sp.MIXTURE_MASS_MATRIX)
    assert name("--mixture-mass-matrix", other) == f"full-mass_matrix{other}"
    assert name("--mixture-mass-matrix", sp.MIXTURE_MASS_MATRIX) == "full"
    assert name("--mixture-step-size", "per_chain") == "full-step_sizeper_chain"
    assert name("--mixture-step-size", sp.MIXTURE_STEP_SIZE) == "full"
    assert name("--seeds", "0") == "full-subset"
    assert name("--only-model", "hill") == "full-subset"
    assert (
        name("--model-setting", "hill.max_tree_depth=12")
        == "full-hill.max_tree_depth12"
    )
    assert name("--model-setting", "hill.max_tree_depth=10") == "full"
    path = tmp_path / "slope.json"
    path.write_text(json.dumps({"slope": PooledSlope(log_sigma=HN02).to_dict()}))
    priors = name("--mixture-priors", str(path))
    assert priors.startswith("full-priors_slope_") and len(priors) == 26


def test_constraints_pin_the_versions_of_the_committed_full_run():
    # The cache key includes these versions: with other ones installed the
    # committed fits are not found and the full tier refits everything.
    pins = {}
    for line in (BENCHMARKS / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    meta = json.loads((BENCHMARKS / "results" / "full" / "meta.json").read_text())
    keyed = set(sp.VERSION_PACKAGES) - {"pmm-mixture"}
    assert set(pins) == keyed
    assert pins == {name: meta["versions"][name] for name in keyed}


def test_latent_k_true_1_reuses_the_aggregate_fit(tmp_path):
    # one segment: the weekly latent draw always picks it, the data agree exactly
    for seed in (0, 3):
        latent = make_mixture_mmm_data(1, mode="latent", seed=seed)
        aggregate = make_mixture_mmm_data(1, mode="aggregate", seed=seed)
        pd.testing.assert_frame_equal(latent.data, aggregate.data, check_exact=True)
    assert not make_mixture_mmm_data(2, mode="latent", seed=0).data.equals(
        make_mixture_mmm_data(2, mode="aggregate", seed=0).data
    )

    tier = replace(sp.TIERS["full"], k_true=(1, 2), seeds=(0,))
    specs = sp.build_specs("full", tier, ["hill"])
    assert len(specs) == 4
    # three fits: the latent K_true=1 run is read from the aggregate one's file
    # (run_all fits each file once: tests/test_bench_runner.py)
    fits = {s.fitted_as().key() for s in specs}
    assert len(fits) == 3
    assert {s.result_path(tmp_path) for s in specs} == {
        tmp_path / "full" / f"{key}.json" for key in fits
    }
    for key in fits:
        path = tmp_path / "full" / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        metrics = dict.fromkeys(sp.METRIC_KEYS, 1.0)
        path.write_text(json.dumps({"metrics": metrics, "errors": {}}))
    runs, _ = rp.load_results(specs, tmp_path)
    assert list(runs["mode"]) == ["aggregate", "aggregate", "latent", "latent"]
    assert (runs["status"] == "ok").all()
    assert runs["result"].nunique() == 3


# ---------------------------------------------------------------------------
# Aggregation and targets (mmm_bench/report.py), on fabricated runs
# ---------------------------------------------------------------------------
def fabricated_runs():
    rows = []
    for k, z, diff, regret_mix in ((1, -1.0, -3.0, 2.0), (2, 3.0, 12.0, 1.0)):
        for seed in (0, 1):
            base = {"mode": "aggregate", "k_true": k, "seed": seed, "status": "ok"}
            rows.append(
                base
                | {
                    "model": "hill",
                    "regret_pct": 4.0 + seed,  # 4 and 5: mean 4.5, sd 0.71
                    "fit_seconds": 10.0,
                    "elpd_diff_vs_hill": 0.0,
                    "elpd_diff_se_vs_hill": 0.0,
                    "elpd_diff_z_vs_hill": np.nan,
                    "fit_seconds_ratio": 1.0,
                    "divergences": 0.0,
                    "r_hat_max": 1.0,
                    "ess_bulk_min": 500.0,
                }
            )
            rows.append(
                base
                | {
                    "model": "mixture_k5",
                    "regret_pct": regret_mix,
                    "fit_seconds": 25.0,  # 2.5x Hill: too slow
                    "elpd_diff_vs_hill": diff,
                    "elpd_diff_se_vs_hill": abs(diff / z),
                    "elpd_diff_z_vs_hill": z,
                    "fit_seconds_ratio": 2.5,
                    "divergences": float(seed),  # one divergence in seed 1
                    "r_hat_max": 1.0,
                    "ess_bulk_min": 500.0,
                }
            )
    return pd.DataFrame(rows)


def test_summarize_mean_and_sd_over_seeds():
    summary = rp.summarize(fabricated_runs())
    hill = summary[(summary["model"] == "hill") & (summary["k_true"] == 2)].iloc[0]
    assert hill["n_seeds"] == 2
    assert hill["regret_pct_mean"] == pytest.approx(4.5)
    assert hill["regret_pct_sd"] == pytest.approx(math.sqrt(0.5))
    assert list(summary["model"][:2]) == ["hill", "mixture_k5"]


def test_targets_met_and_not_met():
    targets = rp.evaluate_targets(fabricated_runs()).set_index(["k_true", "target"])
    status = targets["status"]
    assert status[(2, "K5 ELPD > Hill + 2 SE (every seed)")] == "met"
    assert status[(2, "K5 budget regret < Hill's (mean over seeds)")] == "met"
    assert status[(1, "K_true=1: K5 loses < 2 ELPD points (mean)")] == "NOT met"
    # K5 regret 2.0 <= Hill's 4.5 + 0.71
    assert status[(1, "K_true=1: K5 regret <= Hill regret + seed sd")] == "met"
    assert status[(1, "K5 sampling wall time <= 2x Hill's (mean)")] == "NOT met"
    health = "K5 health: 0 div., R-hat<=1.01, ESS>=400 (every seed)"
    assert status[(2, health)] == "NOT met"


def test_figures_are_written(tmp_path):
    summary = rp.summarize(fabricated_runs())
    paths = rp.make_figures(summary, tmp_path)
    assert {p.name for p in paths} >= {"elpd_diff.png", "regret.png"}
    assert all(p.stat().st_size > 1000 for p in paths)
    assert [p.name for p in paths] == [spec.filename for spec in rp.FIGURES]


# ---------------------------------------------------------------------------
# One tiny cell end to end, through the CLI's code path
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_one_cell_end_to_end(tmp_path, capsys):
    argv = [
        "--tier",
        "quick",
        "--only-model",
        "hill",
        "--k-true",
        "1",
        "--seeds",
        "0",
        "--chains",
        "1",
        "--tune",
        "30",
        "--draws",
        "30",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(tmp_path / "out"),
        "--no-figures",
    ]
    assert cli.main(argv) == 0
    files = list((tmp_path / "cache" / "quick").glob("aggregate-K1-seed0-hill-*.json"))
    assert len(files) == 1
    result = json.loads(files[0].read_text())
    assert result["status"] == "ok"
    assert result["errors"] == {}
    assert set(result["metrics"]) == set(sp.METRIC_KEYS)
    # R-hat needs two chains; every other metric of a Hill fit is defined.
    for key, value in result["metrics"].items():
        if key != "r_hat_max":
            assert np.isfinite(value), key
    metrics = result["metrics"]
    assert 0.0 <= metrics["test_cov50"] <= metrics["test_cov90"] <= 1.0
    assert metrics["n_active_mean"] == 1.0
    assert len(result["elpd_i"]) == sp.N_WEEKS - sp.N_TEST
    assert sum(result["elpd_i"]) == pytest.approx(metrics["elpd_loo"])
    recommended = result["allocation"]["recommended"]
    assert sum(recommended.values()) == pytest.approx(metrics["budget_weekly"])

    out = tmp_path / "out" / "quick-chains1-tune30-draws30-subset"
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 1
    assert runs.loc[0, "elpd_diff_vs_hill"] == 0.0
    assert runs.loc[0, "fit_seconds_ratio"] == 1.0
    summary = pd.read_csv(out / "summary.csv")
    assert "elpd_loo_mean" in summary and "regret_pct_sd" in summary
    meta = json.loads((out / "meta.json").read_text())
    assert meta["versions"]["pymc-marketing"].startswith("1.")
    report = (out / "report.txt").read_text()
    assert "== Targets" in report and "aggregate" in report
    markdown = (out / "report.md").read_text()
    assert "| mode | K_true | model |" in markdown and "|---|" in markdown

    # A second run finds the cached result and fits nothing.
    capsys.readouterr()
    assert cli.main(argv) == 0
    assert "1 cached, 0 to fit" in capsys.readouterr().out


def test_extreme_values_flags_only_the_tails_of_the_draw():
    # chain 1, draw 3 sets a[0] to the largest value and b[1] to the smallest;
    # every other scalar of that draw sits at its posterior median
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 50, 2))
    b = rng.normal(size=(2, 50, 2))
    a[1, 3] = [a.max() + 1, np.median(a[..., 1])]
    b[1, 3] = [np.median(b[..., 0]), b.min() - 1]
    posterior = xr.Dataset(
        {
            "a": (("chain", "draw", "channel"), a),
            "b": (("chain", "draw", "channel"), b),
        }
    )
    rows = dd.extreme_values(posterior, chain=1, draw=3)
    assert [(name, index) for name, index, *_ in rows] == [("a", 0), ("b", 1)]
    (_, _, value, percentile, median), (_, _, _, low, _) = rows
    assert value == a[1, 3, 0] and percentile == pytest.approx(99.0)
    assert median == pytest.approx(np.median(a[..., 0]))
    assert low == 0.0
    assert dd.extreme_values(posterior, chain=0, draw=0, low=0, high=100) == []
