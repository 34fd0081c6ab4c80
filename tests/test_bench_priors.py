"""``--mixture-priors FILE.json``: serialized priors in, the same priors out."""

import importlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from pymc_extras.prior import Prior

from pmm_mixture.priors import (
    DirichletWeights,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
sp = importlib.import_module("mmm_bench.specs")
pr = importlib.import_module("mmm_bench.priors")
wk = importlib.import_module("mmm_bench.worker")
cli = importlib.import_module("mmm_bench.cli")

PRIORS = {
    "beta": Prior("HalfNormal", sigma=2.0),
    "weights": StickBreakingWeights(alpha=0.5, min_remainder=1e-6),
    "kappa": OrderedKappa(
        log_first=Prior("TruncatedNormal", mu=-1.6, sigma=0.5, lower=-3.0),
        log_gap=Prior("Gamma", alpha=2.0, beta=3.0),
    ),
    "slope": PooledSlope(log_sigma=Prior("HalfNormal", sigma=0.2)),
}


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_json_file_round_trips_into_the_same_priors(tmp_path):
    path = write(tmp_path / "priors.json", pr.serialize_priors(PRIORS))
    serialized = pr.read_mixture_priors(path)
    assert serialized == {name: prior.to_dict() for name, prior in PRIORS.items()}
    assert pr.deserialize_priors(serialized) == PRIORS
    # through a run spec (canonical JSON text) and the worker's saturation
    args = cli.parse_args(["--tier", "quick", "--mixture-priors", str(path)])
    specs = sp.build_specs(
        "quick", sp.TIERS["quick"], list(sp.MODELS), cli.parse_priors(args)
    )
    spec = next(s for s in specs if s.model == "mixture_k5")
    assert spec.priors_dict() == serialized
    assert spec.settings()["mixture_priors"] == serialized
    again = sp.RunSpec(**json.loads(json.dumps(asdict(spec))))
    assert again == spec and again.key() == spec.key()
    saturation = wk.build_saturation(spec.model, spec.priors_dict())
    for name, prior in PRIORS.items():
        assert saturation.function_priors[name] == prior


def test_dirichlet_weights_round_trip(tmp_path):
    priors = {"weights": DirichletWeights(concentration=0.3)}
    path = write(tmp_path / "dirichlet.json", pr.serialize_priors(priors))
    assert pr.deserialize_priors(pr.read_mixture_priors(path)) == priors


def test_priors_change_only_the_mixture_runs(tmp_path):
    path = write(tmp_path / "slope.json", {"slope": PRIORS["slope"].to_dict()})
    priors = pr.read_mixture_priors(path)
    tier = sp.TIERS["quick"]
    default = {s.model: s for s in sp.build_specs("quick", tier, list(sp.MODELS))}
    variant = {
        s.model: s for s in sp.build_specs("quick", tier, list(sp.MODELS), priors)
    }
    # the single-curve models (mixture_k1 included) keep their keys and fits
    for model in sp.SINGLE_CURVE_MODELS:
        assert variant[model].key() == default[model].key()
        assert "mixture_priors" not in variant[model].settings()
    for model in sp.MIXTURE_MODELS:
        assert variant[model].key() != default[model].key()
        assert "mixture_priors" not in default[model].settings()
        # paired with the default-prior Hill fit of the same data
        assert variant[model].reference().key() == default["hill"].key()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        ({"alpha": {"dist": "HalfNormal", "kwargs": {"sigma": 1}}}, "'alpha'"),
        ({"slope": {"dist": "Nrmal", "kwargs": {"sigma": 1}}}, "'slope' cannot be"),
        ({"kappa": 0.5}, "'kappa' must be a serialized prior"),
        (
            {"weights": {"dist": "Normal", "kwargs": {"sigma": 1}}},
            "rejects these priors",
        ),
    ],
)
def test_bad_priors_file_is_refused_with_the_problem_named(tmp_path, content, message):
    path = write(tmp_path / "bad.json", content)
    with pytest.raises(ValueError, match=message) as error:
        pr.read_mixture_priors(path)
    assert str(path) in str(error.value)


def test_unknown_parameter_names_the_parameters_there_are(tmp_path):
    path = write(tmp_path / "p.json", {"alpha": Prior("Normal").to_dict()})
    with pytest.raises(ValueError, match="unknown parameter 'alpha'") as error:
        pr.read_mixture_priors(path)
    assert "['beta', 'weights', 'kappa', 'slope']" in str(error.value)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        pr.read_mixture_priors(tmp_path / "absent.json")


def test_cli_refuses_a_bad_priors_file_before_any_fit(tmp_path, capsys):
    path = write(tmp_path / "bad.json", {"gap": Prior("Normal").to_dict()})
    out = tmp_path / "out"
    argv = ["--mixture-priors", str(path), "--cache-dir", str(out), "--out", str(out)]
    assert cli.main(argv) == 2
    assert "unknown parameter 'gap'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_says_the_string_option_was_replaced(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--mixture-prior", "alpha=0.5", "--cache-dir", str(out), "--out", str(out)]
    assert cli.main(argv) == 2
    assert "replaced by --mixture-priors FILE.json" in capsys.readouterr().err
    assert not out.exists()
