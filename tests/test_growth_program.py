"""Unit tests of the growth study's bookkeeping (no model is built or fitted)."""

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import growth as gr


def test_growth_exponent_is_the_log_log_slope():
    x = np.array([104, 156, 260, 520])
    assert gr.growth_exponent(x, 3.0 * x**1.5) == pytest.approx(1.5)
    assert np.isnan(gr.growth_exponent([5], [1.0]))


def test_tasks_cover_every_axis_and_size_once():
    todo = gr.tasks("gradient", {"evals": 5, "vmap_chains": 4, "budget": 30.0})
    keys = [t.key() for t in todo]
    assert len(keys) == len(set(keys))
    # 3 models at every non-component point (base once), K = 2, 3, 8 extra,
    # 3 models at the three PyMC Labs sizes
    per_model_sizes = 1 + 3 + 3 + 5  # base, weeks, channels, geos (panel)
    assert len(todo) == 3 * per_model_sizes + 3 + 3 * 3
    base = [t for t in todo if t.size == gr.BASE]
    assert {t.model for t in base} == {
        "hill",
        "mixture_k1",
        "mixture_k2",
        "mixture_k3",
        "mixture_k5",
        "mixture_k8",
    }
    large = [t for t in todo if t.size == gr.LABS["large"]]
    assert {t.size.n_controls for t in large} == {10}
    assert all(t.size.panel for t in todo if t.size.n_geos > 1)


def test_values_filter_keeps_the_axis_points_asked_for():
    todo = gr.tasks(
        "fit", {}, axes=["weeks"], labs=[], models=["mixture_kK"], values=[104]
    )
    assert [(t.size.n_weeks, t.model) for t in todo] == [(104, "mixture_k5")]


def test_memberships():
    assert set(gr.memberships(gr.BASE, "mixture_k5")) == {
        ("weeks", 156),
        ("channels", 3),
        ("components", 5),
    }
    assert gr.memberships(gr.BASE, "mixture_k2") == [("components", 2)]
    one_geo = gr.axis_size("geos", 1)
    assert one_geo != gr.BASE and one_geo.panel
    assert gr.memberships(one_geo, "hill") == [("geos", 1)]
    assert gr.memberships(gr.LABS["medium"], "hill") == [("labs", "medium")]


def test_task_round_trips_through_json_and_key_depends_on_settings():
    task = gr.Task("fit", gr.LABS["large"], "mixture_k5", {"chains": 4})
    again = gr.Task.from_json(task.to_json())
    assert again.key() == task.key()
    other = gr.Task("fit", gr.LABS["large"], "mixture_k5", {"chains": 2})
    assert other.key() != task.key()


def test_no_jitter_is_a_setting_only_when_asked(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(gr, "run", lambda todo, *_: asked.extend(todo))
    base = ["fit", "--labs", "medium", "--models", "mixture_kK"]
    base += ["--cache-dir", str(tmp_path)]
    assert gr.main(base) == 0
    assert gr.main([*base, "--no-jitter"]) == 0
    default, unjittered = asked
    assert "jitter" not in default.settings
    assert unjittered.settings["jitter"] is False
    assert unjittered.key() != default.key()


def _fake_gradient(size, model, seconds, rss):
    task = gr.Task(
        "gradient", size, model, {"evals": 5, "vmap_chains": 4, "budget": 30.0}
    )
    return {
        "task": asdict(task),
        "key": task.key(),
        "grad_seconds": seconds,
        "vmap_grad_seconds": 3 * seconds,
        "first_call_seconds": 1.0,
        "compile_seconds": 0.5,
        "peak_rss_mb": rss,
        "rss_import_mb": 300.0,
        "machine": {"nproc": 2, "loadavg": [1.0, 1.0, 1.0]},
        "created": "2026-01-01T00:00:00+00:00",
    }


def _fake_fit(size, model, sampling, steps):
    settings = {"chains": 4, "tune": 500, "draws": 500, "chain_method": "vectorized"}
    task = gr.Task("fit", size, model, settings)
    return {
        "task": asdict(task),
        "key": task.key(),
        "fit_seconds": sampling + 10,
        "compile_seconds": 10.0,
        "sampling_seconds": sampling,
        "n_steps_sum": steps * 2000,
        "steps_per_draw": steps,
        "steps_per_iteration_max_chain": steps * 1.2,
        "divergences": 0,
        "r_hat_max": 1.0,
        "ess_bulk_min": 500.0,
        "time_to_1000_ess_seconds": sampling * 2,
        "peak_rss_mb": 900.0,
        "machine": {"nproc": 2, "loadavg": [1.0, 1.0, 1.0]},
        "created": "2026-01-01T00:00:00+00:00",
    }


def test_report_from_a_fake_cache(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    records = [
        _fake_gradient(gr.axis_size("weeks", w), m, 1e-4 * w / 104, 500 + w)
        for w in gr.AXES["weeks"]
        for m in ("hill", "mixture_k5")
    ]
    records += [
        _fake_gradient(gr.LABS[name], "mixture_k5", 5e-3, 2000.0)
        for name in ("small", "large")
    ]
    records.append(_fake_fit(gr.LABS["small"], "mixture_k5", 100.0, 31.0))
    for r in records:
        (cache / f"{r['key']}.json").write_text(json.dumps(r))
    out = tmp_path / "out"
    text = gr.report(cache, out, "python benchmarks/growth.py report")
    exps = (out / "exponents.csv").read_text()
    assert "weeks,hill,4" in exps
    frame = pd.read_csv(out / "exponents.csv")
    assert frame["grad_time"].to_numpy() == pytest.approx([1.0, 1.0])
    labs = pd.read_csv(out / "pymc_labs_sizes.csv")
    large = labs[labs["size"] == "large"].iloc[0]
    assert large["kind"] == "PROJECTION"
    # 5 ms x 31 steps per draw x 500 draws x 4 chains
    assert large["projected_sampling_s_draws_only"] == pytest.approx(310.0)
    assert labs[labs["size"] == "small"].iloc[0]["kind"] == "measured"
    assert "PROJECTION" in text and (out / "growth.png").exists()


def test_a_fit_with_other_settings_is_another_row(tmp_path):
    first = _fake_fit(gr.LABS["small"], "mixture_k5", 100.0, 31.0)
    rerun = _fake_fit(gr.LABS["small"], "mixture_k5", 90.0, 30.0)
    rerun["created"] = "2026-01-02T00:00:00+00:00"
    unjittered = _fake_fit(gr.LABS["small"], "mixture_k5", 80.0, 29.0)
    unjittered["task"]["settings"]["jitter"] = False
    unjittered["key"] = "other-settings"
    unjittered["created"] = "2026-01-03T00:00:00+00:00"
    for name, record in (("fit-a", first), ("fit-b", rerun), ("fit-c", unjittered)):
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    frame = gr.load(tmp_path, "fit")
    assert sorted(frame["sampling_seconds"]) == [80.0, 90.0]  # the rerun replaced
