"""One fit, run in a child process: data, saturation, MMM, fit and every metric.

``python -m mmm_bench.worker SPEC.json`` (what :mod:`mmm_bench.runner`
launches, with ``benchmarks/`` on ``PYTHONPATH``) reads a spec file, runs
:func:`run_one` and writes the result JSON atomically.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .specs import (
    METRIC_KEYS,
    MODELS,
    RunSpec,
    package_versions,
    pmm_mixture_digest,
    uses_mixture_saturation,
)

CURVE_POINTS = 201  # grid on [0, max scaled spend] for curve recovery
DIAGNOSTIC_POINTS = 20  # positive grid points for the label-invariant curve
# Post-processing steps whose cost grows with the number of posterior draws.
DRAW_DEPENDENT_STEPS = (
    "loo",
    "diagnostics",
    "predictive",
    "curves",
    "segments",
    "budget",
)


def fit_spec(mmm, spec: RunSpec, X_train, y_train) -> None:
    """``mmm.fit`` with the run's sampler settings (every fit goes through here).

    Everything goes through ``nuts_sampler_kwargs``: ``jitter`` is a keyword
    of PyMC's ``sample_jax_nuts`` (the chains' start); ``max_tree_depth`` and
    the mass matrix reach NumPyro's ``NUTS`` (PyMC passes them on as the
    kernel's keyword arguments, in ``pymc.sampling.jax._sample_numpyro_nuts``
    and in ``mmm_bench.step_size.common_step_size``'s replacement of it).
    """
    from .step_size import common_step_size

    step_size = (
        nullcontext()
        if spec.step_size == "per_chain"
        else common_step_size(spec.step_size)
    )
    with step_size:
        mmm.fit(
            X_train,
            y_train,
            nuts_sampler="numpyro",
            chains=spec.chains,
            tune=spec.tune,
            draws=spec.draws,
            target_accept=spec.target_accept,
            random_seed=spec.seed,
            progressbar=False,
            nuts_sampler_kwargs={
                "dense_mass": spec.mass_matrix == "dense",
                "max_tree_depth": spec.max_tree_depth,
                "jitter": spec.jitter,
            },
        )


def prepare_data(spec: RunSpec):
    """Synthetic data of the cell, with a ``trend`` control, split train/test.

    ``aggregate`` and ``latent``: ``make_mixture_mmm_data``; ``separated``:
    :func:`mmm_bench.data.make_separated_data`; ``geo``: the panel of
    :func:`mmm_bench.panel.prepare_geo_data` (long frames with a ``geo``
    column).

    Returns
    -------
    tuple
        ``(data, X_train, y_train, X_test, y_test)``; the trend runs from 0 to
        1 over all weeks, so it continues into the test period.
    """
    if spec.mode == "geo":
        from .panel import prepare_geo_data

        return prepare_geo_data(spec)
    if spec.mode == "separated":
        from .data import make_separated_data

        data = make_separated_data(
            spec.k_true,
            n_channels=spec.n_channels,
            n_weeks=spec.n_weeks,
            noise=spec.noise,
            seed=spec.seed,
        )
    else:
        from pmm_mixture.synthetic import make_mixture_mmm_data

        data = make_mixture_mmm_data(
            spec.k_true,
            n_channels=spec.n_channels,
            n_weeks=spec.n_weeks,
            mode=spec.mode,
            noise=spec.noise,
            seed=spec.seed,
        )
    X_train, y_train, X_test, y_test = data.split(spec.n_test)
    trend = np.arange(data.n_weeks, dtype=float) / (data.n_weeks - 1)
    X_train = X_train.assign(trend=trend[: len(X_train)])
    X_test = X_test.assign(trend=trend[len(X_train) :])
    return data, X_train, y_train, X_test, y_test


def build_saturation(
    model: str,
    mixture_priors: Mapping[str, Any] | None = None,
    pooled_weights: bool = False,
):
    """The saturation component of a benchmark model.

    ``mixture_priors`` (``{parameter: serialized prior}``, as
    :meth:`RunSpec.priors_dict` gives) replaces default priors of a
    ``MixtureHillSaturation``; the other models take none. ``pooled_weights``
    gives a mixture the geo tier's weights prior, ``PartiallyPooledWeights()``
    (:data:`~mmm_bench.specs.GEO_MIXTURE_WEIGHTS`), unless ``mixture_priors``
    has ``weights``.
    """
    from pymc_marketing.mmm import HillSaturation, LogisticSaturation

    from pmm_mixture import MixtureHillSaturation

    from .priors import deserialize_priors

    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}.")
    if model == "hill":
        saturation = HillSaturation()
    elif model == "logistic":
        saturation = LogisticSaturation()
    else:
        n_components = MODELS[model]["n_components"]
        priors = deserialize_priors(mixture_priors) if mixture_priors else {}
        if pooled_weights and "weights" not in priors:
            from pmm_mixture.pooled_weights import PartiallyPooledWeights

            priors["weights"] = PartiallyPooledWeights()
        return MixtureHillSaturation(n_components=n_components, priors=priors or None)
    if mixture_priors or pooled_weights:
        raise ValueError(f"{model} takes no mixture priors.")
    return saturation


def build_mmm(
    data,
    model: str,
    mixture_priors: Mapping[str, Any] | None = None,
    pooled_weights: bool = False,
):
    """PyMC-Marketing MMM exactly as the main job builds it, with this saturation
    (for a geo panel, :func:`mmm_bench.panel.build_geo_mmm`: the same with
    ``dims=("geo",)``)."""
    saturation = build_saturation(model, mixture_priors, pooled_weights)
    if hasattr(data, "markets"):
        from .panel import build_geo_mmm

        return build_geo_mmm(data, saturation)
    from pmm_mixture.example import build_mmm as build_example_mmm

    return build_example_mmm(data, None, saturation=saturation)


def build_run_model(spec: RunSpec, data, X_train, y_train):
    """The run's MMM, ready to fit: with lift tests when the spec has them.

    With ``spec.lift_levels`` the model is built on the training data and the
    lift tests of :func:`mmm_bench.data.lift_test_table` (from the truth, the
    largest spend read from the training weeks) are added with
    :func:`pmm_mixture.add_lift_test_measurements` (which calls
    ``MMM.add_lift_test_measurements`` for Hill and Logistic); ``mmm.fit``
    then uses that model.

    Returns
    -------
    tuple
        ``(mmm, lift_tests)``: the MMM and the lift-test table (``None``
        without lift tests).
    """
    mmm = build_mmm(data, spec.model, spec.priors_dict(), spec.pooled_weights())
    if not spec.lift_levels:
        return mmm, None
    from pmm_mixture import add_lift_test_measurements

    from .data import lift_test_table

    table = lift_test_table(
        data,
        spec.lift_levels,
        spec.lift_delta,
        spec.lift_sigma,
        n_train=len(X_train),
    )
    mmm.build_model(X_train, y_train)
    add_lift_test_measurements(
        mmm, table[["channel", "x", "delta_x", "delta_y", "sigma"]]
    )
    return mmm, table


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux: KB units)."""
    scale = 1024.0 if sys.platform != "darwin" else 1024.0**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


JAX_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


class _JaxCompileClock:
    """Sum JAX's tracing and XLA compilation durations from now until ``stop``.

    Uses ``jax.monitoring`` duration events, so the fit's wall time can be split
    into compilation and the rest (sampling, mostly).
    """

    def __init__(self) -> None:
        import jax.monitoring

        self.seconds = 0.0
        self._running = True
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, event: str, duration: float, **_: Any) -> None:
        if self._running and event in JAX_COMPILE_EVENTS:
            self.seconds += duration

    def stop(self) -> float:
        self._running = False
        return self.seconds


class _Sections:
    """Run named steps, timing each and recording failures without stopping."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.timings: dict[str, float] = {}

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return step()
        except Exception as error:  # a failed metric must not hide the others
            self.errors[name] = "".join(
                traceback.format_exception_only(type(error), error)
            ).strip()
            traceback.print_exc()
            return None
        finally:
            self.timings[name] = time.perf_counter() - start


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Fit one model on one data set and compute every metric.

    Parameters
    ----------
    spec : RunSpec

    Returns
    -------
    dict
        JSON-serialisable result: ``metrics`` (the flat :data:`METRIC_KEYS`),
        ``elpd_i`` (pointwise ELPD-LOO, original target units; for a geo
        panel over every geo-week, geo by geo), per-channel (and per-geo)
        details, diagnostics tables, timings and errors.
    """
    start_total = time.perf_counter()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import arviz as az
    import pymc as pm

    from pmm_mixture.diagnostics import label_invariant_diagnostics, n_divergences
    from pmm_mixture.summary import effective_components

    from . import metrics as bm
    from . import panel as geo

    sections = _Sections()
    values: dict[str, float] = dict.fromkeys(METRIC_KEYS, float("nan"))
    details: dict[str, Any] = {}

    data, X_train, y_train, X_test, y_test = prepare_data(spec)
    channels = list(data.channel_columns)
    is_panel = spec.n_geos is not None
    n_train = spec.n_weeks - spec.n_test  # weeks (of every geo) in training
    mmm, lift_tests = build_run_model(spec, data, X_train, y_train)
    if lift_tests is not None:
        details["lift_tests"] = lift_tests.to_dict(orient="records")

    compile_clock = _JaxCompileClock()
    start = time.perf_counter()
    fit_spec(mmm, spec, X_train, y_train)
    values["fit_seconds"] = time.perf_counter() - start
    values["compile_seconds"] = compile_clock.stop()
    values["sampling_seconds"] = values["fit_seconds"] - values["compile_seconds"]
    values["peak_rss_fit_mb"] = _peak_rss_mb()
    idata = mmm.idata
    posterior = idata.posterior.dataset
    target_scale = float(idata.constant_data["target_scale"])
    channel_scale = idata.constant_data["channel_scale"]
    is_mixture = uses_mixture_saturation(spec.model)

    def sampler_stats() -> None:
        values["divergences"] = float(n_divergences(mmm))
        depth = np.asarray(idata.sample_stats["tree_depth"])
        values["tree_depth_mean"] = float(depth.mean())
        # NumPyro's tree depth is log2(leapfrog steps) + 1, at most max_tree_depth
        values["max_tree_depth_frac"] = float((depth >= spec.max_tree_depth).mean())

    def loo() -> None:
        # the sales observations only: lift tests, where there are any, are
        # observed too, but they are the same for every model
        pm.compute_log_likelihood(
            idata,
            var_names=["y"],
            model=mmm.model,
            extend_inferencedata=True,
            progressbar=False,
        )
        result = az.loo(idata, pointwise=True, var_name="y")
        # The likelihood is on the scaled target y / target_scale: shift every
        # pointwise value by -log(target_scale) to get densities of y itself.
        elpd = result.elpd_i
        if is_panel:  # every geo-week, geo by geo (the same order in every run)
            elpd = elpd.transpose(geo.GEO, geo.DATE)
        elpd_i = np.ravel(np.asarray(elpd, dtype=float)) - math.log(target_scale)
        pareto_k = np.asarray(result.pareto_k, dtype=float)
        details["elpd_i"] = elpd_i.tolist()
        values["elpd_loo"] = float(elpd_i.sum())
        values["elpd_loo_se"] = float(result.se)
        values["p_loo"] = float(result.p)
        values["pareto_k_max"] = float(np.nanmax(pareto_k))
        values["n_pareto_k_bad"] = float((pareto_k > result.good_k).sum())

    def diagnostics() -> None:
        if is_mixture:
            table = label_invariant_diagnostics(mmm, n_points=DIAGNOSTIC_POINTS)
            table = table.to_dict(orient="index")
        else:
            curve = mmm.saturation.sample_curve(
                posterior, max_value=1.0, num_points=DIAGNOSTIC_POINTS + 1
            ).isel(x=slice(1, None))
            quantities = {
                "curve": curve,
                "saturation_beta": posterior["saturation_beta"],
                "channel_contribution": posterior["channel_contribution"],
            }
            if "log_likelihood" in idata.children:
                for name, draws in idata["log_likelihood"].dataset.data_vars.items():
                    quantities[f"log_likelihood_{name}"] = draws
            table = bm.draws_diagnostics(quantities)
        details["diagnostics"] = table
        frame = pd.DataFrame.from_dict(table, orient="index")
        values["r_hat_max"] = float(frame["r_hat_max"].max())
        values["ess_bulk_min"] = float(frame["ess_bulk_min"].min())
        values["ess_tail_min"] = float(frame["ess_tail_min"].min())
        values["ess_bulk_per_s"] = values["ess_bulk_min"] / values["fit_seconds"]

    def predictive() -> None:
        predictions = mmm.sample_posterior_predictive(
            X_test,
            extend_idata=False,
            include_last_observations=True,
            progressbar=False,
            random_seed=spec.seed,
        )
        if is_panel:  # (date, geo) flattened, observed values likewise
            draws = predictions["y"].transpose("sample", geo.DATE, geo.GEO)
            geos = [str(g) for g in draws[geo.GEO].values]
            draws = draws.values.reshape(draws.sizes["sample"], -1) * target_scale
            y_true = geo.by_date_and_geo(X_test, y_test, geos).ravel()
        else:
            draws = predictions["y"].transpose("sample", "date").values * target_scale
            y_true = y_test.to_numpy(dtype=float)
        values["test_crps"] = bm.crps(y_true, draws)
        values["test_cov50"] = bm.interval_coverage(y_true, draws, 0.5)
        values["test_cov90"] = bm.interval_coverage(y_true, draws, 0.9)
        values["test_rmse"] = bm.rmse(y_true, draws.mean(axis=0))

    def curves() -> None:
        curve = mmm.saturation.sample_curve(
            posterior, max_value=1.0, num_points=CURVE_POINTS
        )
        mean_curve = curve.mean(bm.SAMPLE_DIMS) * target_scale
        if is_panel:
            errors = geo.curve_errors(
                mean_curve, channel_scale, data, n_train, bm.curve_recovery_error
            )
            details["curve_error"] = errors
            values["curve_err_max"] = geo.mean_over(errors, "max")
            values["curve_err_mean"] = geo.mean_over(errors, "mean")
            return
        adstocked = data.adstocked_spend.iloc[:n_train]
        per_channel = {}
        for channel in channels:
            spend = curve["x"].values * float(channel_scale.sel(channel=channel))
            observed = adstocked[channel].to_numpy()
            low, high = observed[observed > 0].min(), observed.max()
            inside = (spend >= low) & (spend <= high)
            truth = data.channels[channel].curve(spend[inside])
            fitted = mean_curve.sel(channel=channel).values[inside]
            per_channel[channel] = bm.curve_recovery_error(truth, fitted)
        details["curve_error"] = per_channel
        values["curve_err_max"] = float(
            np.mean([e["max"] for e in per_channel.values()])
        )
        values["curve_err_mean"] = float(
            np.mean([e["mean"] for e in per_channel.values()])
        )

    def contributions() -> None:
        fitted_all = posterior["channel_contribution"].mean(bm.SAMPLE_DIMS)
        markets = data.markets if is_panel else {None: data}
        per_geo, totals = {}, []
        for name, market in markets.items():
            fitted = fitted_all.sel(channel=channels)
            if name is not None:
                fitted = fitted.sel({geo.GEO: name})
            fitted = fitted.transpose("date", "channel").values * target_scale
            truth = market.contributions.iloc[:n_train][channels].to_numpy()
            errors = bm.contribution_recovery_error(truth, fitted)
            per_geo[name] = dict(zip(channels, errors.tolist(), strict=True))
            totals.append(bm.relative_rmse(truth.sum(axis=1), fitted.sum(axis=1)))
        details["contribution_error"] = per_geo if is_panel else per_geo[None]
        values["contrib_rel_rmse"] = float(
            np.mean([e for errors in per_geo.values() for e in errors.values()])
        )
        values["total_contrib_rel_rmse"] = float(np.mean(totals))

    def components() -> None:
        if is_mixture:
            table = effective_components(mmm)
            n_active = table["n_active"].astype(float).to_numpy()
            n_entropy = table["n_entropy_mean"].astype(float).to_numpy()
            truth = geo.true_segments(data, table.index)
            details["effective_components"] = {
                str(index): {"n_active": float(a), "n_entropy": float(e)}
                for index, a, e in zip(table.index, n_active, n_entropy, strict=True)
            }
        else:  # one curve per channel by construction
            n_active = n_entropy = np.ones(len(channels))
            truth = geo.true_segments(data, pd.Index(channels, name="channel"))
        values["n_active_mean"] = float(n_active.mean())
        values["n_entropy_mean"] = float(n_entropy.mean())
        values["n_active_abs_err"] = float(np.abs(n_active - truth).mean())

    def segments() -> None:
        # distinct segments (pmm_mixture.evidence) against the truth, per
        # channel (and geo when the weights vary by geo); one by construction
        # for the single curves and the K=1 mixture
        if is_mixture and MODELS[spec.model]["n_components"] > 1:
            from pmm_mixture.evidence import segment_evidence

            table = segment_evidence(mmm, random_seed=spec.seed)
            counts = table["segments"].astype(float).to_numpy()
            truth = geo.true_segments(data, table.index)
            details["segment_evidence"] = {
                str(index): {**row, "true_segments": int(t)}
                for (index, row), t in zip(
                    table.to_dict(orient="index").items(), truth, strict=True
                )
            }
        else:
            truth = geo.true_segments(data, pd.Index(channels, name="channel"))
            counts = np.ones(len(truth))
        values["segments_exact_frac"] = geo.segment_accuracy(counts, truth)

    def budget() -> None:
        if is_panel:
            panel_budget()
            return
        from pymc_marketing.mmm.budget_optimizer import MinimizeException

        weekly = float(X_train[channels].sum(axis=1).mean())
        values["budget_weekly"] = weekly
        optimizer = mmm.budget_optimizer(
            start_date=X_test["date"].iloc[0], end_date=X_test["date"].iloc[-1]
        )
        # BudgetOptimizer's total_budget is per period: each period of the
        # window gets the recommended per-channel budgets, which sum to it.
        historical = {c: float(X_train[c].mean()) for c in channels}
        start = np.array([historical[c] for c in channels])
        start = start * weekly / start.sum()
        # SLSQP from the uniform split occasionally stops with "Inequality
        # constraints incompatible"; start again from the historical split,
        # then with scipy's trust-constr method instead of SLSQP.
        tries = (
            {},
            {"x0": start},
            {"x0": start, "minimize_kwargs": {"method": "trust-constr"}},
        )
        attempts = []
        for number, extra in enumerate(tries, start=1):
            try:
                result = optimizer.allocate_budget(total_budget=weekly, **extra)
                break
            except MinimizeException as error:
                if number == len(tries):
                    raise
                attempts.append(str(error))
        recommended = {c: float(result.budgets.sel(channel=c).values) for c in channels}
        optimal = data.optimal_allocation(weekly)
        regret = bm.budget_regret(data.true_response, recommended, optimal)
        values["regret_pct"] = regret["regret_pct"]
        values["response_recommended"] = regret["response_recommended"]
        values["response_optimal"] = regret["response_optimal"]
        values["regret_historical_pct"] = bm.budget_regret(
            data.true_response, historical, optimal
        )["regret_pct"]
        details["allocation"] = {
            "recommended": recommended,
            "optimal": optimal,
            "historical": historical,
            "optimizer_success": bool(result.scipy_result.success),
            "failed_attempts": attempts,
        }

    def panel_budget() -> None:
        # every geo's weekly budget fixed at its historical mean, allocated
        # over its channels; regret per geo against its own optimum
        budgets = geo.geo_budgets(X_train, channels)
        values["budget_weekly"] = float(sum(budgets.values()))
        recommended, result, attempts = geo.allocate_per_geo(
            mmm, X_train, X_test, channels, budgets
        )
        per_geo, historical_regret, allocation = {}, {}, {}
        for name, market in data.markets.items():
            rows = X_train[X_train[geo.GEO] == name]
            historical = {c: float(rows[c].mean()) for c in channels}
            optimal = market.optimal_allocation(budgets[name])
            per_geo[name] = bm.budget_regret(
                market.true_response, recommended[name], optimal
            )
            historical_regret[name] = bm.budget_regret(
                market.true_response, historical, optimal
            )
            allocation[name] = {
                "budget": budgets[name],
                "recommended": recommended[name],
                "optimal": optimal,
                "historical": historical,
                "regret_pct": per_geo[name]["regret_pct"],
            }
        regret = geo.panel_regret(per_geo)
        values["regret_pct"] = regret["regret_pct"]
        values["response_recommended"] = regret["response_recommended"]
        values["response_optimal"] = regret["response_optimal"]
        values["regret_historical_pct"] = geo.panel_regret(historical_regret)[
            "regret_pct"
        ]
        details["allocation"] = {
            "by_geo": allocation,
            "regret_pooled_pct": regret["regret_pooled_pct"],
            "optimizer_success": bool(result.scipy_result.success),
            "failed_attempts": attempts,
        }

    for name, step in (
        ("sampler_stats", sampler_stats),
        ("loo", loo),
        ("diagnostics", diagnostics),
        ("predictive", predictive),
        ("curves", curves),
        ("contributions", contributions),
        ("components", components),
        ("segments", segments),
        ("budget", budget),
    ):
        sections.run(name, step)

    values["post_seconds"] = sum(
        sections.timings[name] for name in DRAW_DEPENDENT_STEPS
    )
    values["peak_rss_mb"] = _peak_rss_mb()
    values["total_seconds"] = time.perf_counter() - start_total
    return {
        "status": "ok",
        "spec": asdict(spec),
        "settings_hash": spec.settings_hash(),
        "versions": package_versions(),
        "pmm_mixture_digest": pmm_mixture_digest(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": {key: _float(values[key]) for key in METRIC_KEYS},
        "timings": {"fit": values["fit_seconds"], **sections.timings},
        "errors": sections.errors,
        **details,
    }


def _float(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def worker_main(spec_path: str) -> int:
    """Child-process entry: run the spec in ``spec_path``, write its result."""
    payload = json.loads(Path(spec_path).read_text())
    spec = RunSpec(**payload["spec"])
    out = Path(payload["result_path"])
    result = run_one(spec)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(out)  # atomic: a half-written file is never taken as finished
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m mmm_bench.worker SPEC.json")
    raise SystemExit(worker_main(sys.argv[1]))
