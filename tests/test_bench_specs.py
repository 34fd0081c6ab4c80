"""Run specs of the benchmark: cache keys, models, per-model sampler settings.

No MCMC: specs, keys, option parsing, and ``fit_spec`` against a stand-in MMM.
"""

import importlib
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
sp = importlib.import_module("mmm_bench.specs")
wk = importlib.import_module("mmm_bench.worker")
cli = importlib.import_module("mmm_bench.cli")

CACHE = BENCHMARKS / "cache" / "full"
OLD_MODELS = ("hill", "logistic", "mixture_k3", "mixture_k5")


@pytest.fixture
def committed_versions(monkeypatch):
    """Key the specs with the package versions of the committed full run."""
    meta = json.loads((BENCHMARKS / "results" / "full" / "meta.json").read_text())
    versions = tuple((name, meta["versions"][name]) for name in sp.VERSION_PACKAGES)
    monkeypatch.setattr(sp, "_package_versions", lambda: versions)


def cli_specs(*argv):
    args = cli.parse_args(list(argv))
    table = cli.parse_model_settings(args)
    models = args.only_model or list(sp.MODELS)
    return sp.build_specs(
        args.tier, cli.resolve_tier(args), models, cli.parse_priors(args), table
    )


# ---------------------------------------------------------------------------
# Cache keys of the committed full run
# ---------------------------------------------------------------------------
# File stems in benchmarks/cache/full/ (the default run, and the run with
# --mixture-step-size per_chain).
KNOWN_DEFAULT_KEYS = (
    "aggregate-K1-seed0-hill-b56a9e3767",
    "aggregate-K1-seed0-logistic-b4cd151f18",
    "aggregate-K1-seed0-mixture_k3-3b2ca01576",
    "aggregate-K1-seed0-mixture_k5-18c291b6ac",
    "latent-K3-seed4-mixture_k5-18c291b6ac",
    "aggregate-K5-seed2-logistic-b4cd151f18",
)
KNOWN_PER_CHAIN_KEYS = (
    "aggregate-K2-seed1-mixture_k3-3b79c0f700",
    "latent-K5-seed0-mixture_k5-8f764a17d7",
)


def test_default_specs_keep_the_committed_cache_keys(committed_versions):
    specs = cli_specs("--tier", "full")
    keys = {s.key() for s in specs}
    for key in KNOWN_DEFAULT_KEYS:
        assert key in keys
        assert (CACHE / f"{key}.json").exists()
    # every fit of the four original models is in the committed cache
    old = [s for s in specs if s.model in OLD_MODELS]
    assert len(old) == 160
    assert all(s.result_path(CACHE.parent).exists() for s in old)
    # the new model joins every data set (8 cells x 5 seeds)
    assert sum(s.model == "mixture_k1" for s in specs) == 40


def test_per_chain_step_size_keeps_its_committed_cache_keys(committed_versions):
    specs = cli_specs("--tier", "full", "--mixture-step-size", "per_chain")
    keys = {s.key() for s in specs}
    assert set(KNOWN_PER_CHAIN_KEYS) <= keys
    assert "aggregate-K1-seed0-hill-b56a9e3767" in keys  # Hill unchanged
    mixtures = [s for s in specs if s.model in sp.MIXTURE_MODELS]
    assert all(s.result_path(CACHE.parent).exists() for s in mixtures)


# ---------------------------------------------------------------------------
# The K=1 mixture
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("tier", sorted(sp.TIERS))
def test_mixture_k1_joins_every_data_set_of_every_tier(tier):
    specs = cli_specs("--tier", tier)
    data_sets = {s.data_set() for s in specs}
    k1 = [s for s in specs if s.model == "mixture_k1"]
    assert {s.data_set() for s in k1} == data_sets
    spec = k1[0]
    assert spec.settings()["model_spec"] == {
        "label": "MixtureHill K=1",
        "n_components": 1,
    }
    # the sampler settings of the mixtures, default priors
    mixture = next(s for s in specs if s.model == "mixture_k5")
    assert spec.sampler_settings() == mixture.sampler_settings()
    assert spec.mixture_priors == ()
    assert "mixture_k1" in sp.SINGLE_CURVE_MODELS
    assert "mixture_k1" not in sp.MIXTURE_MODELS
    assert sp.uses_mixture_saturation("mixture_k1")
    saturation = wk.build_saturation("mixture_k1")
    assert saturation.n_components == 1
    default = wk.build_saturation("mixture_k3").function_priors
    for name in ("beta", "slope", "weights"):
        assert saturation.function_priors[name] == default[name]


# ---------------------------------------------------------------------------
# Per-model sampler settings
# ---------------------------------------------------------------------------
def test_default_table_is_todays_settings():
    table = sp.MODEL_SAMPLER_SETTINGS
    assert set(table) == set(sp.MODELS)
    assert {s.target_accept for s in table.values()} == {0.999}
    assert {s.max_tree_depth for s in table.values()} == {10}
    assert {s.mass_matrix for s in table.values()} == {"diag"}
    assert table["hill"].step_size == table["logistic"].step_size == "per_chain"
    for model in ("mixture_k1", *sp.MIXTURE_MODELS):
        assert table[model].step_size == "min"
    assert sp.resolve_model_settings() == table


def test_max_tree_depth_is_absent_from_the_settings_at_its_default():
    (spec,) = cli_specs("--tier", "quick", "--only-model", "hill", "--k-true", "1")
    assert "max_tree_depth" not in spec.settings()
    deeper = replace(spec, max_tree_depth=12)
    assert deeper.settings()["max_tree_depth"] == 12
    assert deeper.key() != spec.key()
    assert sp.RunSpec(**json.loads(json.dumps(asdict(deeper)))) == deeper


def test_jitter_and_parallel_chains_are_absent_from_the_settings_by_default():
    (spec,) = cli_specs("--tier", "quick", "--only-model", "hill", "--k-true", "1")
    assert not {"jitter", "parallel_chains"} & set(spec.settings())
    for name in ("jitter", "parallel_chains"):
        changed = replace(spec, **{name: False})
        assert changed.settings()[name] is False
        assert changed.key() != spec.key()
        assert sp.RunSpec(**json.loads(json.dumps(asdict(changed)))) == changed
    with pytest.raises(ValueError, match="jitter must be True or False"):
        sp.SamplerSettings(jitter="no")
    # a run built directly (e.g. from a cached spec file) is checked the same way
    with pytest.raises(ValueError, match="parallel_chains must be True or False"):
        replace(spec, parallel_chains="false")


def test_model_setting_changes_only_its_model():
    default = {s.model: s for s in cli_specs("--tier", "quick", "--k-true", "1")}
    changed = {
        s.model: s
        for s in cli_specs(
            "--tier",
            "quick",
            "--k-true",
            "1",
            "--model-setting",
            "hill.max_tree_depth=12",
            "--model-setting",
            "hill.target_accept=0.95",
            "--model-setting",
            "mixture_k1.step_size=per_chain",
        )
    }
    assert changed["hill"].max_tree_depth == 12
    assert changed["hill"].target_accept == 0.95
    assert changed["mixture_k1"].step_size == "per_chain"
    for model in ("logistic", *sp.MIXTURE_MODELS):
        assert changed[model].key() == default[model].key()
    for model in ("hill", "mixture_k1"):
        assert changed[model].key() != default[model].key()


def test_model_setting_after_the_global_options():
    table = sp.resolve_model_settings(
        target_accept=0.99,
        mixture_step_size="per_chain",
        overrides=[("mixture_k5", "target_accept", 0.9995)],
    )
    assert table["hill"].target_accept == 0.99
    assert table["mixture_k5"].target_accept == 0.9995
    assert table["mixture_k5"].step_size == "per_chain"
    assert table["mixture_k1"].step_size == "min"  # a baseline, not a mixture


def test_parse_model_setting_values_and_errors():
    assert sp.parse_model_setting("hill.target_accept=0.95") == (
        "hill",
        "target_accept",
        0.95,
    )
    assert sp.parse_model_setting("logistic.max_tree_depth=12") == (
        "logistic",
        "max_tree_depth",
        12,
    )
    assert sp.parse_model_setting("mixture_k5.mass_matrix=dense")[2] == "dense"
    assert sp.parse_model_setting("mixture_k1.step_size=median")[2] == "median"
    assert sp.parse_model_setting("mixture_k5.jitter=false")[2] is False
    assert sp.parse_model_setting("mixture_k5.parallel_chains=True")[2] is True
    for item, message in (
        ("hill.target_accept", "MODEL.FIELD=VALUE"),
        ("target_accept=0.9", "MODEL.FIELD=VALUE"),
        ("hill.target_accept=", "MODEL.FIELD=VALUE"),
        ("gompertz.target_accept=0.9", "unknown model 'gompertz'"),
        ("hill.tree_depth=12", "unknown field 'tree_depth'"),
        ("hill.target_accept=high", "target_accept needs a number"),
        ("hill.target_accept=1.2", "target_accept must lie in"),
        ("hill.max_tree_depth=12.5", "max_tree_depth needs an integer"),
        ("hill.max_tree_depth=0", "max_tree_depth must be an integer"),
        ("hill.step_size=mean", "step_size must be one of"),
        ("hill.mass_matrix=full", "mass_matrix must be one of"),
        ("hill.jitter=0", "jitter needs true or false"),
    ):
        with pytest.raises(ValueError, match=message):
            sp.parse_model_setting(item)


def test_bad_model_setting_stops_before_any_fit(tmp_path, capsys):
    argv = ["--model-setting", "hill.max_tree_depth=deep"]
    argv += ["--cache-dir", str(tmp_path), "--out", str(tmp_path)]
    assert cli.main(argv) == 2
    assert "max_tree_depth needs an integer" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


class _FakeMMM:
    def __init__(self):
        self.calls = []

    def fit(self, X, y, **kwargs):
        import pymc.sampling.jax as pymc_jax

        self.calls.append((kwargs, pymc_jax._sample_numpyro_nuts.__name__))


def test_fit_spec_passes_the_sampler_settings_to_numpyro():
    (spec,) = cli_specs("--tier", "quick", "--only-model", "hill", "--k-true", "1")
    mmm = _FakeMMM()
    wk.fit_spec(mmm, replace(spec, max_tree_depth=12, target_accept=0.95), None, None)
    kwargs, sampler = mmm.calls[0]
    assert kwargs["nuts_sampler"] == "numpyro"
    assert kwargs["target_accept"] == 0.95
    assert kwargs["nuts_sampler_kwargs"] == {
        "dense_mass": False,
        "max_tree_depth": 12,
        "jitter": True,
    }
    assert sampler == "_sample_numpyro_nuts"  # PyMC's own: per-chain step size
    shared = replace(
        spec, model="mixture_k3", step_size="min", mass_matrix="dense", jitter=False
    )
    wk.fit_spec(mmm, shared, None, None)
    kwargs, sampler = mmm.calls[1]
    assert kwargs["nuts_sampler_kwargs"] == {
        "dense_mass": True,
        "max_tree_depth": 10,
        "jitter": False,
    }
    assert sampler == "sample"  # mmm_bench.step_size.common_step_size's


def test_pymc_passes_nuts_kwargs_to_numpyros_nuts():
    # max_tree_depth reaches numpyro.infer.NUTS: PyMC hands nuts_sampler_kwargs
    # to sample_jax_nuts as nuts_kwargs, which _sample_numpyro_nuts splats
    # into NUTS(...)
    import inspect

    import pymc.sampling.jax as pymc_jax
    from numpyro.infer import NUTS

    assert "max_tree_depth" in inspect.signature(NUTS).parameters
    source = inspect.getsource(pymc_jax._sample_numpyro_nuts)
    assert "**nuts_kwargs" in source


# ---------------------------------------------------------------------------
# The separated, geo and lift tiers
# ---------------------------------------------------------------------------
NEW_FIELDS = ("n_geos", "lift_levels", "lift_delta", "lift_sigma", "mixture_weights")


def test_existing_tiers_are_unchanged_and_carry_no_new_setting():
    assert sp.TIERS["quick"] == sp.Tier(
        modes=("aggregate",), k_true=(1, 2), seeds=(0,), chains=2, tune=200, draws=200
    )
    assert sp.TIERS["full"] == sp.Tier(
        modes=("aggregate", "latent"),
        k_true=(1, 2, 3, 5),
        seeds=(0, 1, 2, 3, 4),
        chains=4,
        tune=1000,
        draws=2000,
    )
    for tier in ("quick", "full"):
        for spec in cli_specs("--tier", tier):
            assert not set(NEW_FIELDS) & set(spec.settings())
            assert spec.cell == spec.mode
            assert spec.key().startswith(f"{spec.mode}-K{spec.k_true}-seed")


def test_new_tiers_cells_models_and_draws():
    separated = cli_specs("--tier", "separated")
    assert len(separated) == 2 * 5 * len(sp.MODELS)
    assert {s.mode for s in separated} == {"separated"}
    assert {(s.chains, s.tune, s.draws) for s in separated} == {(4, 1000, 2000)}

    geo = cli_specs("--tier", "geo")
    assert len(geo) == 3 * 2 * 3 * 4  # G x K_true x seeds x models
    assert {s.model for s in geo} == set(sp.GEO_MODELS)
    assert {s.n_geos for s in geo} == {1, 4, 10}
    assert {(s.chains, s.tune, s.draws) for s in geo} == {(2, 500, 500)}
    assert {s.cell for s in geo} == {"geo G=1", "geo G=4", "geo G=10"}
    ten = cli_specs("--tier", "geo", "--n-geos", "10")
    assert {s.n_geos for s in ten} == {10}
    assert {s.key() for s in ten} == {s.key() for s in geo if s.n_geos == 10}
    # --only-model keeps to the tier's models
    only = cli_specs("--tier", "geo", "--only-model", "mixture_k3", "hill")
    assert {s.model for s in only} == {"hill"}

    lift = cli_specs("--tier", "lift")
    assert len(lift) == 2 * 2 * 5 * len(sp.MODELS)
    assert {s.cell for s in lift} == {"aggregate + lift", "separated + lift"}
    assert {s.lift_levels for s in lift} == {(0.25, 0.9)}
    assert {(s.chains, s.tune, s.draws) for s in lift} == {(4, 1000, 2000)}


def test_new_tier_keys_are_distinct_and_name_the_cell():
    specs = {t: cli_specs("--tier", t) for t in ("full", "separated", "geo", "lift")}
    keys = [s.key() for tier in specs.values() for s in tier]
    assert len(keys) == len(set(keys))
    geo = {(s.n_geos, s.k_true, s.seed, s.model): s for s in specs["geo"]}
    spec = geo[(10, 3, 2, "mixture_k5")]
    assert spec.key().startswith("geo-G10-K3-seed2-mixture_k5-")
    settings = spec.settings()
    assert settings["n_geos"] == 10
    assert settings["mixture_weights"] == sp.GEO_MIXTURE_WEIGHTS
    # the label names what the worker builds: PartiallyPooledWeights' defaults
    from pmm_mixture import PartiallyPooledWeights

    defaults = PartiallyPooledWeights().parameters
    assert f"alpha={defaults['alpha']}," in sp.GEO_MIXTURE_WEIGHTS
    assert f"sigma=HalfNormal({defaults['sigma'].parameters['sigma']})" in (
        sp.GEO_MIXTURE_WEIGHTS
    )
    for model in ("hill", "logistic", "mixture_k1"):  # no weights to pool
        assert "mixture_weights" not in geo[(10, 3, 2, model)].settings()
    # the same data with another panel size is another data set and key
    assert spec.data_set() != geo[(4, 3, 2, "mixture_k5")].data_set()
    lift = next(s for s in specs["lift"] if s.mode == "aggregate")
    assert lift.key().startswith("aggregate-lift-K2-seed0-")
    assert lift.settings()["lift_levels"] == [0.25, 0.9]
    assert lift.settings()["lift_delta"] == sp.LIFT_DELTA
    assert lift.settings()["lift_sigma"] == sp.LIFT_SIGMA
    # the lift tier's aggregate data are the full tier's, the fit is not
    full = next(
        s
        for s in specs["full"]
        if (s.mode, s.k_true, s.seed, s.model) == ("aggregate", 2, 0, lift.model)
    )
    assert replace(lift, tier="full", lift_levels=()).key() == full.key()
    assert lift.key() != full.key()
    # JSON round trip (the runner writes the spec as JSON)
    for s in (spec, lift):
        assert sp.RunSpec(**json.loads(json.dumps(asdict(s)))) == s
        assert sp.RunSpec(**json.loads(json.dumps(asdict(s)))).key() == s.key()


def test_geo_reference_is_the_hill_fit_of_the_same_panel():
    specs = cli_specs("--tier", "geo")
    mixture = next(s for s in specs if s.model == "mixture_k5" and s.n_geos == 4)
    hill = next(
        s for s in specs if s.model == "hill" and s.data_set() == mixture.data_set()
    )
    assert mixture.reference() == hill
    assert not hill.pooled_weights() and mixture.pooled_weights()
    # weights in --mixture-priors take precedence over the pooled weights
    own = replace(mixture, mixture_priors={"weights": {"dist": "X"}})
    assert not own.pooled_weights()
    assert "mixture_weights" not in own.settings()


def test_run_spec_refuses_inconsistent_panel_and_lift_settings():
    (spec,) = cli_specs("--tier", "quick", "--only-model", "hill", "--k-true", "1")
    with pytest.raises(ValueError, match="n_geos is set for the geo mode only"):
        replace(spec, n_geos=4)
    with pytest.raises(ValueError, match="n_geos is set for the geo mode only"):
        replace(spec, mode="geo")
    with pytest.raises(ValueError, match="n_geos must be a positive integer"):
        replace(spec, mode="geo", n_geos=0)
    with pytest.raises(ValueError, match="single-market data only"):
        replace(spec, mode="geo", n_geos=4, lift_levels=(0.5,))
    with pytest.raises(ValueError, match="mode must be one of"):
        replace(spec, mode="national")
    with pytest.raises(ValueError, match="lift_levels must be positive"):
        replace(spec, lift_levels=(0.0,))


def test_cell_order():
    cells = ["separated + lift", "geo G=10", "latent", "geo G=4", "aggregate + lift"]
    assert sp.cell_order([*cells, "aggregate", "geo G=4"]) == [
        "aggregate",
        "latent",
        "geo G=4",
        "geo G=10",
        "aggregate + lift",
        "separated + lift",
    ]
