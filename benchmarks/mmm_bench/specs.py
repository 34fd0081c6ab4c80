"""What a benchmark run is: models, tiers, sampler settings and the run specs.

A :class:`RunSpec` is one fit (a model on one data set under a tier); its
:meth:`RunSpec.key` names the cached result. The key hashes
:meth:`RunSpec.settings`, so every setting that is at its long-standing default
is left out of it and the committed cache stays valid when a setting is added.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------
SCHEMA_VERSION = 1
"""Bump when the content of a result file changes, to invalidate the cache."""

#: The benchmark's models. Each entry is hashed into the cache key of its
#: runs (``model_spec``): changing an existing entry moves its keys.
MODELS: dict[str, dict[str, Any]] = {
    "hill": {"label": "HillSaturation", "n_components": None},
    "logistic": {"label": "LogisticSaturation", "n_components": None},
    "mixture_k1": {"label": "MixtureHill K=1", "n_components": 1},
    "mixture_k3": {"label": "MixtureHill K=3", "n_components": 3},
    "mixture_k5": {"label": "MixtureHill K=5 (sparse)", "n_components": 5},
}
REFERENCE_MODEL = "hill"
TARGET_MODEL = "mixture_k5"
#: One curve per channel: the baselines the mixtures are compared with.
SINGLE_CURVE_MODELS = ("hill", "logistic", "mixture_k1")
#: The mixtures proper: ``--mixture-priors``, ``--mixture-mass-matrix`` and
#: ``--mixture-step-size`` apply to these, and the report compares them with
#: the best single curve. ``mixture_k1`` is a baseline: default priors, and
#: its sampler settings only change through ``--model-setting``.
MIXTURE_MODELS = ("mixture_k3", "mixture_k5")
#: Data modes: the full tier's ``aggregate`` and ``latent`` data
#: (``make_mixture_mmm_data``), ``separated`` (aggregate data whose segments
#: are well separated, :func:`mmm_bench.data.make_separated_data`) and ``geo``
#: (a geo panel, ``make_geo_panel_data``, fitted with a geo MMM).
MODES = ("aggregate", "latent", "separated", "geo")
SINGLE_MARKET_MODES = ("aggregate", "latent", "separated")


def uses_mixture_saturation(model: str) -> bool:
    """Whether ``model`` is built with ``MixtureHillSaturation`` (K=1 included)."""
    return MODELS[model]["n_components"] is not None


def takes_mixture_options(model: str) -> bool:
    """Whether the mixture-only options (priors, mass matrix, step size) apply."""
    return model in MIXTURE_MODELS


# ---------------------------------------------------------------------------
# Sampler settings per model
# ---------------------------------------------------------------------------
TARGET_ACCEPT = 0.999
BOOLEAN_SAMPLER_FIELDS = ("jitter", "parallel_chains")
NUMPYRO_MAX_TREE_DEPTH = 10  # numpyro's default
MASS_MATRICES = ("diag", "dense")
#: "per_chain": NumPyro's own adaptation; "min"/"median": one step size for all
#: chains after warmup (mmm_bench.step_size.common_step_size)
STEP_SIZES = ("per_chain", "min", "median")
# defaults of --mixture-mass-matrix / --mixture-step-size
MIXTURE_MASS_MATRIX = "diag"
MIXTURE_STEP_SIZE = "min"


@dataclass(frozen=True)
class SamplerSettings:
    """NumPyro NUTS settings of one model.

    ``step_size`` is the step size after warmup (see :data:`STEP_SIZES`),
    ``mass_matrix`` NumPyro's ``dense_mass`` (``"dense"``) or not (``"diag"``),
    ``jitter`` whether PyMC jitters each chain's initial point (``False``: all
    chains start at the model's initial point), ``parallel_chains`` whether
    the chains run at once, one XLA host device each (``False``: one after
    the other on one device; NumPyro's parallel chains on CPU hold memory
    that grows with the draws for the geo mixture, 15 GB at 4 x (300 + 300)).
    """

    target_accept: float = TARGET_ACCEPT
    max_tree_depth: int = NUMPYRO_MAX_TREE_DEPTH
    step_size: str = "per_chain"
    mass_matrix: str = "diag"
    jitter: bool = True
    parallel_chains: bool = True

    def __post_init__(self) -> None:
        check_sampler_settings(**asdict(self))


def check_sampler_settings(
    target_accept: float,
    max_tree_depth: int,
    step_size: str,
    mass_matrix: str,
    jitter: bool = True,
    parallel_chains: bool = True,
) -> None:
    """Raise ``ValueError`` naming the first sampler setting out of range."""
    if not 0.0 < target_accept < 1.0:
        raise ValueError(f"target_accept must lie in (0, 1), got {target_accept}.")
    if (
        isinstance(max_tree_depth, bool)
        or not isinstance(max_tree_depth, int)
        or not 1 <= max_tree_depth <= 20
    ):
        raise ValueError(
            f"max_tree_depth must be an integer from 1 to 20, got {max_tree_depth!r}."
        )
    if step_size not in STEP_SIZES:
        raise ValueError(f"step_size must be one of {STEP_SIZES}, got {step_size!r}.")
    if mass_matrix not in MASS_MATRICES:
        raise ValueError(
            f"mass_matrix must be one of {MASS_MATRICES}, got {mass_matrix!r}."
        )
    flags = {"jitter": jitter, "parallel_chains": parallel_chains}
    for name in BOOLEAN_SAMPLER_FIELDS:
        if not isinstance(flags[name], bool):
            raise ValueError(f"{name} must be True or False, got {flags[name]!r}.")


SAMPLER_FIELDS = tuple(f.name for f in fields(SamplerSettings))

#: The sampler settings each model runs at by default. Every model samples
#: at target_accept 0.999 with NumPyro's tree depth (10) and a diagonal mass
#: matrix; the MixtureHill models share one step size after warmup (the
#: smallest adapted one), Hill and Logistic keep NumPyro's per-chain one.
MODEL_SAMPLER_SETTINGS: dict[str, SamplerSettings] = {
    "hill": SamplerSettings(),
    "logistic": SamplerSettings(),
    "mixture_k1": SamplerSettings(step_size=MIXTURE_STEP_SIZE),
    "mixture_k3": SamplerSettings(step_size=MIXTURE_STEP_SIZE),
    "mixture_k5": SamplerSettings(step_size=MIXTURE_STEP_SIZE),
}


def parse_model_setting(item: str) -> tuple[str, str, Any]:
    """``"hill.target_accept=0.95"`` as ``("hill", "target_accept", 0.95)``.

    Raises
    ------
    ValueError
        With the problem named: no ``MODEL.FIELD=VALUE`` form, an unknown model
        or field, or a value of the wrong type or out of range.
    """
    target, sep, text = item.partition("=")
    model, dot, name = target.partition(".")
    if not sep or not dot or not text:
        raise ValueError(
            f"--model-setting takes MODEL.FIELD=VALUE (e.g. "
            f"hill.target_accept=0.95), got {item!r}."
        )
    if model not in MODELS:
        raise ValueError(
            f"--model-setting {item!r}: unknown model {model!r}; one of {list(MODELS)}."
        )
    if name not in SAMPLER_FIELDS:
        raise ValueError(
            f"--model-setting {item!r}: unknown field {name!r}; one of "
            f"{list(SAMPLER_FIELDS)}."
        )
    value: Any = text
    if name in BOOLEAN_SAMPLER_FIELDS:
        if text.lower() not in ("true", "false"):
            raise ValueError(
                f"--model-setting {item!r}: {name} needs true or false, got {text!r}."
            )
        value = text.lower() == "true"
    try:
        if name == "target_accept":
            value = float(text)
        elif name == "max_tree_depth":
            value = int(text)
    except ValueError:
        kind = "a number" if name == "target_accept" else "an integer"
        raise ValueError(
            f"--model-setting {item!r}: {name} needs {kind}, got {text!r}."
        ) from None
    try:
        replace(SamplerSettings(), **{name: value})
    except ValueError as error:
        raise ValueError(f"--model-setting {item!r}: {error}") from None
    return model, name, value


def resolve_model_settings(
    target_accept: float | None = None,
    mixture_mass_matrix: str | None = None,
    mixture_step_size: str | None = None,
    overrides: Sequence[tuple[str, str, Any]] = (),
) -> dict[str, SamplerSettings]:
    """:data:`MODEL_SAMPLER_SETTINGS` with the command line's changes.

    ``target_accept`` applies to every model, the two ``mixture_*`` options to
    :data:`MIXTURE_MODELS`; then each ``(model, field, value)`` of
    ``overrides`` (from :func:`parse_model_setting`), in order.
    """
    table = dict(MODEL_SAMPLER_SETTINGS)
    for model, settings in table.items():
        changes: dict[str, Any] = {}
        if target_accept is not None:
            changes["target_accept"] = target_accept
        if takes_mixture_options(model):
            if mixture_mass_matrix is not None:
                changes["mass_matrix"] = mixture_mass_matrix
            if mixture_step_size is not None:
                changes["step_size"] = mixture_step_size
        table[model] = replace(settings, **changes)
    for model, name, value in overrides:
        table[model] = replace(table[model], **{name: value})
    return table


def sampler_settings_table(
    model_settings: Mapping[str, SamplerSettings], models: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """``{model: {label, target_accept, ...}}`` for meta.json and the report."""
    return {
        model: {"label": MODELS[model]["label"], **asdict(model_settings[model])}
        for model in (models or list(model_settings))
    }


# ---------------------------------------------------------------------------
# Data and tiers
# ---------------------------------------------------------------------------
N_CHANNELS = 3
N_WEEKS = 156
N_TEST = 13
NOISE = 0.02
#: Smallest ratio of neighbouring half-saturation points in the ``separated``
#: and ``geo`` data (``pmm_mixture.synthetic.well_separated_segments``).
MIN_KAPPA_RATIO = 4.0
#: Lift tests (tier ``lift``): spend levels as fractions of each channel's
#: largest weekly spend, the spend change as a fraction of that largest
#: spend, and the standard error as a fraction of the true lift.
LIFT_LEVELS = (0.25, 0.9)
LIFT_DELTA = 0.1
LIFT_SIGMA = 0.1
#: The geo tier's models: the single curves and the sparse K=5 mixture, whose
#: segment shares are partially pooled across geos (``PartiallyPooledWeights``).
GEO_MODELS = ("hill", "logistic", "mixture_k1", "mixture_k5")
#: Weights prior of the mixtures with more than one component in a geo MMM
#: (``settings()["mixture_weights"]``): segment shares per geo partially pooled
#: around a shared sparse mix; ``kappa`` and ``slope`` keep the default priors,
#: whose dims the MMM sets to ``("channel", "component")``: shared by the geos.
#: The geo MMM's adstock (:func:`mmm_bench.panel.build_geo_mmm`): the same
#: model as ``GeometricAdstock(l_max=6)`` (tested equal), computed by lags,
#: whose JAX gradient does not grow with the square of geos x channels.
GEO_L_MAX = 6
GEO_ADSTOCK = f"LaggedGeometricAdstock(l_max={GEO_L_MAX})"
GEO_MIXTURE_WEIGHTS = "PartiallyPooledWeights(alpha=0.5, sigma=HalfNormal(0.5))"


@dataclass(frozen=True)
class Tier:
    """Cells and sampler settings of a tier.

    ``n_geos`` (empty: single-market data) lists the panel sizes of the ``geo``
    mode's cells; ``lift_levels`` (empty: none) adds lift tests at these spend
    levels to every fit; ``models`` (``None``: all of :data:`MODELS`) limits
    the models the tier fits.
    """

    modes: tuple[str, ...]
    k_true: tuple[int, ...]
    seeds: tuple[int, ...]
    chains: int
    tune: int
    draws: int
    n_geos: tuple[int, ...] = ()
    lift_levels: tuple[float, ...] = ()
    models: tuple[str, ...] | None = None


FULL_SEEDS = (0, 1, 2, 3, 4)
TIERS: dict[str, Tier] = {
    "quick": Tier(
        modes=("aggregate",), k_true=(1, 2), seeds=(0,), chains=2, tune=200, draws=200
    ),
    "full": Tier(
        modes=("aggregate", "latent"),
        k_true=(1, 2, 3, 5),
        seeds=FULL_SEEDS,
        chains=4,
        tune=1000,
        draws=2000,
    ),
    # Segments the data can show: neighbours >= 4x apart, slopes >= 2.5.
    "separated": Tier(
        modes=("separated",),
        k_true=(2, 3),
        seeds=FULL_SEEDS,
        chains=4,
        tune=1000,
        draws=2000,
    ),
    # Geo panels of 1, 4 and 10 geos sharing segment shapes; K_true segments
    # on the first channel, one on the others. Geo fits are slow (an 8-geo
    # fit took ~9 min at 2 chains x 1,000 iterations), hence 2 x (500 + 500).
    "geo": Tier(
        modes=("geo",),
        k_true=(2, 3),
        seeds=(0, 1, 2),
        chains=2,
        tune=500,
        draws=500,
        n_geos=(1, 4, 10),
        models=GEO_MODELS,
    ),
    # The full tier's K_true 2 and 3 and the separated cells, calibrated with
    # two lift tests per channel.
    "lift": Tier(
        modes=("aggregate", "separated"),
        k_true=(2, 3),
        seeds=FULL_SEEDS,
        chains=4,
        tune=1000,
        draws=2000,
        lift_levels=LIFT_LEVELS,
    ),
}

# Flat metrics of one run (the keys of ``result["metrics"]``).
METRIC_KEYS = (
    "fit_seconds",
    "compile_seconds",
    "sampling_seconds",
    "post_seconds",
    "total_seconds",
    "peak_rss_fit_mb",
    "peak_rss_mb",
    "divergences",
    "tree_depth_mean",
    "max_tree_depth_frac",
    "elpd_loo",
    "elpd_loo_se",
    "p_loo",
    "pareto_k_max",
    "n_pareto_k_bad",
    "r_hat_max",
    "ess_bulk_min",
    "ess_tail_min",
    "ess_bulk_per_s",
    "test_crps",
    "test_cov50",
    "test_cov90",
    "test_rmse",
    "curve_err_max",
    "curve_err_mean",
    "contrib_rel_rmse",
    "total_contrib_rel_rmse",
    "n_active_mean",
    "n_entropy_mean",
    "n_active_abs_err",
    "segments_exact_frac",
    "regret_pct",
    "regret_historical_pct",
    "budget_weekly",
    "response_recommended",
    "response_optimal",
)


# ---------------------------------------------------------------------------
# Run specs
# ---------------------------------------------------------------------------
def _canonical_priors(value: Any) -> tuple[tuple[str, str], ...]:
    """Serialized priors as sorted ``(name, canonical JSON text)`` pairs.

    Accepts a mapping ``{name: serialized prior}`` or pairs whose second item is
    the serialized prior or its JSON text (pairs come back as lists from JSON).
    """
    items = value.items() if isinstance(value, Mapping) else value
    pairs = {}
    for name, prior in items:
        data = json.loads(prior) if isinstance(prior, str) else prior
        if not isinstance(data, Mapping):
            raise ValueError(
                f"mixture_priors[{name!r}] must be a serialized prior (a dict), "
                f"got {data!r}."
            )
        pairs[str(name)] = json.dumps(data, sort_keys=True)
    return tuple(sorted(pairs.items()))


@dataclass(frozen=True)
class RunSpec:
    """One fit: a model on one data set (mode, K_true, seed) under a tier.

    ``mixture_priors`` holds serialized priors (``prior.to_dict()``) by
    parameter name, as canonical JSON text so the spec stays hashable; see
    :meth:`priors_dict`. ``n_geos`` is the panel size of the ``geo`` mode
    (``None`` for single-market data); ``lift_levels`` (empty: none) adds lift
    tests at these fractions of each channel's largest spend, with spend
    change ``lift_delta`` times that spend and standard error ``lift_sigma``
    times the true lift (:func:`mmm_bench.data.lift_test_table`).
    """

    tier: str
    mode: str
    k_true: int
    seed: int
    model: str
    chains: int
    tune: int
    draws: int
    target_accept: float = TARGET_ACCEPT
    n_channels: int = N_CHANNELS
    n_weeks: int = N_WEEKS
    n_test: int = N_TEST
    noise: float = NOISE
    mixture_priors: tuple[tuple[str, str], ...] = ()
    mass_matrix: str = "diag"
    step_size: str = "per_chain"
    max_tree_depth: int = NUMPYRO_MAX_TREE_DEPTH
    jitter: bool = True
    parallel_chains: bool = True
    n_geos: int | None = None
    lift_levels: tuple[float, ...] = ()
    lift_delta: float = LIFT_DELTA
    lift_sigma: float = LIFT_SIGMA

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "mixture_priors", _canonical_priors(self.mixture_priors)
        )
        # tuples again after a JSON round trip (lists there)
        object.__setattr__(
            self, "lift_levels", tuple(float(v) for v in self.lift_levels)
        )
        self.sampler_settings()  # checks the sampler fields
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}.")
        if (self.mode == "geo") != (self.n_geos is not None):
            raise ValueError(
                f"n_geos is set for the geo mode only (mode {self.mode!r}, "
                f"n_geos {self.n_geos!r})."
            )
        if self.n_geos is not None and (
            isinstance(self.n_geos, bool)
            or not isinstance(self.n_geos, int)
            or self.n_geos < 1
        ):
            raise ValueError(f"n_geos must be a positive integer, got {self.n_geos!r}.")
        if self.lift_levels and self.n_geos is not None:
            raise ValueError("Lift tests are for single-market data only.")
        if any(not 0.0 < v for v in self.lift_levels):
            raise ValueError(f"lift_levels must be positive, got {self.lift_levels}.")
        if not (self.lift_delta > 0 and self.lift_sigma > 0):
            raise ValueError(
                f"lift_delta and lift_sigma must be positive, got {self.lift_delta} "
                f"and {self.lift_sigma}."
            )

    def priors_dict(self) -> dict[str, dict[str, Any]]:
        """``{parameter: serialized prior}`` of the run (empty: default priors)."""
        return {name: json.loads(text) for name, text in self.mixture_priors}

    def sampler_settings(self) -> SamplerSettings:
        """The run's NUTS settings."""
        return SamplerSettings(**{name: getattr(self, name) for name in SAMPLER_FIELDS})

    def pooled_weights(self) -> bool:
        """Whether the run's mixture gets :data:`GEO_MIXTURE_WEIGHTS`: a geo
        panel, a mixture with more than one component, and no ``weights`` in
        :attr:`mixture_priors` (which would take precedence)."""
        n_components = MODELS[self.model]["n_components"]
        return (
            self.n_geos is not None
            and n_components is not None
            and n_components > 1
            and "weights" not in dict(self.mixture_priors)
        )

    def settings(self) -> dict[str, Any]:
        """Everything that defines the result except the cell and the model.

        Settings at their long-standing defaults are left out, so results
        cached before a setting existed keep their keys.
        """
        fields_ = asdict(self)
        for key in ("tier", "mode", "k_true", "seed", "model"):
            fields_.pop(key)
        if self.mixture_priors:
            fields_["mixture_priors"] = self.priors_dict()
        else:
            fields_.pop("mixture_priors")
        if self.mass_matrix == "diag":
            fields_.pop("mass_matrix")
        if self.step_size == "per_chain":
            fields_.pop("step_size")
        if self.max_tree_depth == NUMPYRO_MAX_TREE_DEPTH:
            fields_.pop("max_tree_depth")
        for name in BOOLEAN_SAMPLER_FIELDS:
            if getattr(self, name):
                fields_.pop(name)
        if self.n_geos is None:
            fields_.pop("n_geos")
        else:
            fields_["adstock"] = GEO_ADSTOCK
        if self.lift_levels:
            fields_["lift_levels"] = list(self.lift_levels)
        else:
            for key in ("lift_levels", "lift_delta", "lift_sigma"):
                fields_.pop(key)
        if self.pooled_weights():
            fields_["mixture_weights"] = GEO_MIXTURE_WEIGHTS
        return {
            **fields_,
            "schema": SCHEMA_VERSION,
            "model_spec": MODELS[self.model],
            "versions": package_versions(),
        }

    def settings_hash(self) -> str:
        """Short hash of :meth:`settings`."""
        text = json.dumps(self.settings(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def key(self) -> str:
        """File stem of the cached result."""
        return (
            f"{self.mode}{self._key_extras()}-K{self.k_true}-seed{self.seed}-"
            f"{self.model}-{self.settings_hash()}"
        )

    def _key_extras(self) -> str:
        geos = "" if self.n_geos is None else f"-G{self.n_geos}"
        return geos + ("-lift" if self.lift_levels else "")

    @property
    def cell(self) -> str:
        """The data's name in tables (the ``mode`` column of the report):
        the mode, ``"geo G=4"`` for a 4-geo panel, ``"aggregate + lift"``
        with lift tests."""
        name = self.mode if self.n_geos is None else f"geo G={self.n_geos}"
        return name + (" + lift" if self.lift_levels else "")

    def data_set(self) -> tuple[str, int, int]:
        """``(cell, K_true, seed)``: the data the run is fitted on."""
        return self.cell, self.k_true, self.seed

    def with_model(
        self,
        model: str,
        model_settings: Mapping[str, SamplerSettings] | None = None,
        mixture_priors: Any = (),
    ) -> RunSpec:
        """The run of ``model`` on the same data and draws, as built by
        :func:`build_specs` with ``model_settings`` and ``mixture_priors``."""
        table = MODEL_SAMPLER_SETTINGS if model_settings is None else model_settings
        return replace(
            self,
            model=model,
            mixture_priors=mixture_priors if takes_mixture_options(model) else (),
            **asdict(table[model]),
        )

    def reference(
        self, model_settings: Mapping[str, SamplerSettings] | None = None
    ) -> RunSpec:
        """The Hill run on the same data, with the settings Hill is fitted with."""
        return self.with_model(REFERENCE_MODEL, model_settings)

    def fitted_as(self) -> RunSpec:
        """The run whose fit stands for this one.

        With one segment per channel the weekly latent draw always picks that
        segment, so the latent K_true=1 data are the aggregate K_true=1 data
        (same seed and random streams): that fit is reused, not repeated.
        """
        if self.mode == "latent" and self.k_true == 1:
            return replace(self, mode="aggregate")
        return self

    def result_path(self, cache_dir: Path) -> Path:
        """Where the result JSON of this run (or of the fit it shares) lives."""
        return cache_dir / self.tier / f"{self.fitted_as().key()}.json"


def cell_order(cells: Sequence[str]) -> list[str]:
    """Cell names (:attr:`RunSpec.cell`) in table order: by mode as in
    :data:`MODES`, single market before lift tests, geo panels by size."""

    def rank(cell: str) -> tuple[int, int, int, str]:
        base, lift, _ = cell.partition(" + lift")
        mode, _, geos = base.partition(" G=")
        index = MODES.index(mode) if mode in MODES else len(MODES)
        return (bool(lift), index, int(geos) if geos.isdigit() else 0, cell)

    return sorted(dict.fromkeys(cells), key=rank)


def build_specs(
    tier: str,
    settings: Tier,
    models: Sequence[str],
    mixture_priors: Any = (),
    model_settings: Mapping[str, SamplerSettings] | None = None,
) -> list[RunSpec]:
    """All runs of the tier, in :data:`MODELS` order within every data set.

    ``model_settings`` (default :data:`MODEL_SAMPLER_SETTINGS`) gives each
    model's sampler settings; ``mixture_priors`` (serialized priors by
    parameter name) applies to :data:`MIXTURE_MODELS` only. Models the tier
    does not fit (``Tier.models``) are left out; the ``geo`` mode has one data
    set per panel size in ``Tier.n_geos``, and ``Tier.lift_levels`` adds the
    lift tests to every run.
    """
    allowed = set(MODELS) if settings.models is None else set(settings.models)
    ordered = sorted(
        (m for m in models if m in allowed), key=lambda m: list(MODELS).index(m)
    )
    template = RunSpec(
        tier=tier,
        mode="aggregate",
        k_true=settings.k_true[0],
        seed=settings.seeds[0],
        model=REFERENCE_MODEL,
        chains=settings.chains,
        tune=settings.tune,
        draws=settings.draws,
        lift_levels=settings.lift_levels,
    )
    panels: list[tuple[str, int | None]] = []
    for mode in settings.modes:
        if mode == "geo":
            if not settings.n_geos:
                raise ValueError("The geo mode needs Tier.n_geos (panel sizes).")
            panels += [(mode, n) for n in settings.n_geos]
        else:
            panels.append((mode, None))
    return [
        replace(template, mode=mode, n_geos=n_geos, k_true=k, seed=seed).with_model(
            model, model_settings, mixture_priors
        )
        for mode, n_geos in panels
        for k in settings.k_true
        for seed in settings.seeds
        for model in ordered
    ]


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------
# pmm_mixture modules whose code the results depend on (hashed into each result).
DIGEST_MODULES = (
    "__init__",
    "curves",
    "diagnostics",
    "evidence",
    "example",
    "lift_test",
    "pooled_weights",
    "posterior",
    "priors",
    "sampling",
    "saturation",
    "summary",
    "synthetic",
    "validation",
)

VERSION_PACKAGES = (
    "pymc",
    "pymc-marketing",
    "pytensor",
    "numpyro",
    "jax",
    "jaxlib",
    "arviz",
    "pmm-mixture",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> tuple[tuple[str, str], ...]:
    versions = {}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return tuple(versions.items())


def pmm_mixture_digest() -> str:
    """Short hash of the ``pmm_mixture`` modules the benchmark runs."""
    spec = importlib.util.find_spec("pmm_mixture")
    if spec is None or not spec.submodule_search_locations:
        return "unknown"
    digest = hashlib.sha256()
    package = Path(spec.submodule_search_locations[0])
    for name in DIGEST_MODULES:
        path = package / f"{name}.py"
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:10]


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory and platform of this machine."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    return info
