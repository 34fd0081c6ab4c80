"""Bad data and bad configuration stop before the sampler, with a message.

One table: each row breaks one thing (a spend or target cell of the built-in
example, ``n_components``, a prior) and states the error (or warning) type and
the words its message must contain. Build only, no sampling.
"""

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pymc_extras.prior import Prior
from pymc_marketing.mmm import MMM, GeometricAdstock, HillSaturation

from pmm_mixture import MixtureHillSaturation, validate_mmm_data
from pmm_mixture.example import build_mmm, with_trend
from pmm_mixture.synthetic import example_two_segment_data
from pmm_mixture.validation import (
    DataValidationError,
    DataValidationWarning,
    check_model_data,
)

BAD_ROW = 10  # index label 10 is the week of 2021-03-15 in the example data
BAD_DATE = "2021-03-15"


@pytest.fixture(scope="module")
def example():
    data = example_two_segment_data()
    assert str(data.X.loc[BAD_ROW, "date"].date()) == BAD_DATE
    return data


def set_spend(value):
    def change(X, y):
        X.loc[BAD_ROW, "search"] = value

    return change


def set_target(value):
    def change(X, y):
        y.loc[BAD_ROW] = value

    return change


@dataclass
class Case:
    """One bad input and what must be said about it."""

    change: Any  # mutates a copy of (X, y), or builds the bad saturation
    expected: type  # exception or warning type
    words: tuple[str, ...]  # all in the message
    # what the check of the built model (the automatic one) raises; None: it
    # cannot see the problem (PyMC-Marketing filled it with 0 before)
    in_model: type | None = None
    model_words: tuple[str, ...] = field(default=())


DATA_CASES = {
    "nan spend": Case(
        set_spend(np.nan),
        DataValidationWarning,
        ("spend column 'search'", "missing (NaN)", "fills it with 0", BAD_DATE),
    ),
    "negative spend": Case(
        set_spend(-100_000.0),
        DataValidationError,
        ("spend column 'search'", "negative", "index 10", BAD_DATE),
        DataValidationError,
        ("spend column 'search'", "negative", BAD_DATE),
    ),
    "infinite spend": Case(
        set_spend(np.inf),
        DataValidationError,
        ("spend column 'search'", "infinite", "index 10", BAD_DATE),
        DataValidationError,
        ("spend column 'search'", "infinite", BAD_DATE),
    ),
    "nan target": Case(
        set_target(np.nan),
        DataValidationError,
        ("target 'y'", "missing (NaN)", "fill with 0", "index 10", BAD_DATE),
    ),
    "infinite target": Case(
        set_target(-np.inf),
        DataValidationError,
        ("target 'y'", "infinite", BAD_DATE),
        DataValidationError,
        ("target", "infinite", BAD_DATE),
    ),
}

CONFIG_CASES = {
    "n_components 0": Case(
        lambda: MixtureHillSaturation(n_components=0),
        ValueError,
        ("n_components", "positive integer", "got 0"),
    ),
    "n_components 2.5": Case(
        lambda: MixtureHillSaturation(n_components=2.5),
        TypeError,
        ("n_components", "positive integer", "2.5", "float"),
    ),
    "n_components True": Case(
        lambda: MixtureHillSaturation(n_components=True),
        TypeError,
        ("n_components", "True", "bool"),
    ),
    "n_components '3'": Case(
        lambda: MixtureHillSaturation(n_components="3"),
        TypeError,
        ("n_components", "'3'", "str"),
    ),
    "plain Prior for weights": Case(
        lambda: MixtureHillSaturation(
            priors={"weights": Prior("HalfNormal", dims=("channel", "component"))}
        ),
        ValueError,
        ("'weights'", "simplex", "HalfNormal"),
    ),
    "unordered kappa": Case(
        lambda: MixtureHillSaturation(
            priors={"kappa": Prior("LogNormal", dims=("channel", "component"))}
        ),
        ValueError,
        ("'kappa'", "cannot be ordered", "OrderedKappa"),
    ),
    "decreasing fixed kappa": Case(
        lambda: MixtureHillSaturation(
            n_components=2,
            priors={
                "kappa": xr.DataArray([0.8, 0.2], dims=("component",)),
            },
        ),
        ValueError,
        ("kappa", "strictly increasing", "[0.8, 0.2]"),
    ),
}


@pytest.mark.parametrize("name", [*DATA_CASES, *CONFIG_CASES])
def test_bad_input_is_refused_with_a_message(name, example):
    if name in CONFIG_CASES:
        case = CONFIG_CASES[name]
        with pytest.raises(case.expected) as info:
            case.change()
        assert_words(str(info.value), case.words)
        return

    case = DATA_CASES[name]
    X, y = with_trend(example.X), example.y.copy()
    case.change(X, y)
    X_given, y_given = X.copy(), y.copy()
    mmm = build_mmm(example, 3)

    # the explicit check, on the data as the user has it
    if issubclass(case.expected, Warning):
        with pytest.warns(case.expected) as record:
            validate_mmm_data(X, y, mmm=mmm)
        assert_words(" ".join(str(w.message) for w in record), case.words)
    else:
        with pytest.raises(case.expected) as info:
            validate_mmm_data(X, y, mmm=mmm)
        assert_words(str(info.value), case.words)

    # the automatic check, on the model PyMC-Marketing built from that data
    # (MixtureHillSaturation runs it while building; calling it on the built
    # model tests it whether or not the build already raised it)
    try:
        mmm.build_model(X, y)
    except DataValidationError as error:
        built_error = error
    else:
        built_error = None
        if case.in_model is not None:
            with pytest.raises(case.in_model) as info:
                check_model_data(mmm.model)
            built_error = info.value
    if case.in_model is None:
        assert built_error is None
        # not visible: PyMC-Marketing made the missing value a 0
        check_model_data(mmm.model)
        data = "channel_data" if "spend" in name else "target_data"
        values = mmm.model[data].get_value()
        row = values[BAD_ROW]
        assert (row[1] if values.ndim == 2 else row) == 0.0
    else:
        assert isinstance(built_error, case.in_model)
        assert_words(str(built_error), case.model_words)
        assert "validate_mmm_data" in str(built_error)

    # the user's data are not modified
    pd.testing.assert_frame_equal(X, X_given)
    pd.testing.assert_series_equal(y, y_given)


def assert_words(message, words):
    missing = [w for w in words if w not in message]
    assert not missing, f"{missing} not in the message:\n{message}"


def test_building_a_mixture_mmm_runs_the_model_check(example):
    X, y = with_trend(example.X), example.y.copy()
    X.loc[BAD_ROW, "search"] = -100_000.0
    mmm = build_mmm(example, 3)
    try:
        mmm.build_model(X, y)
    except DataValidationError as error:
        assert_words(str(error), ("spend column 'search'", "negative", BAD_DATE))
    else:
        raise AssertionError("the build of the mixture MMM did not check the data")


def test_good_data_and_other_saturations_pass(example):
    X, y = with_trend(example.X), example.y
    mmm = build_mmm(example, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataValidationWarning)
        validate_mmm_data(X, y, mmm=mmm)
        validate_mmm_data(X.assign(y=y), mmm=mmm)  # target carried by X
    mmm.build_model(X, y)
    check_model_data(mmm.model)
    # the check belongs to the mixture: PyMC-Marketing's own saturations keep
    # PyMC-Marketing's behaviour
    hill = build_mmm(example, None, saturation=HillSaturation())
    hill.build_model(X.assign(search=-X["search"]), y)
    # and models without MMM data are left alone
    prior = MixtureHillSaturation(n_components=2).sample_prior(
        coords={"channel": ["tv"]}, draws=5, random_seed=1
    )
    assert prior.sizes["component"] == 2


def test_messages_name_dims_and_many_rows():
    dates = pd.date_range("2024-01-01", periods=8, freq="W-MON")
    X = pd.DataFrame(
        {
            "date": np.tile(dates, 2),
            "geo": ["north"] * 8 + ["south"] * 8,
            "tv": np.r_[np.full(8, 100.0), np.full(8, -1.0)],
        },
        index=pd.RangeIndex(100, 116),
    )
    y = pd.Series(np.full(16, 10.0), index=X.index, name="sales")
    with pytest.raises(DataValidationError) as info:
        validate_mmm_data(
            X, y, channel_columns=["tv"], date_column="date", dims=("geo",)
        )
    (problem,) = info.value.problems
    assert problem.column == "spend column 'tv'"
    assert len(problem.rows) == 8
    assert problem.rows[0] == "index 108 (date 2024-01-01, geo south)"
    assert "at 8 rows" in str(info.value) and "and 3 more" in str(info.value)

    mmm = MMM(
        date_column="date",
        channel_columns=["tv"],
        target_column="sales",
        dims=("geo",),
        adstock=GeometricAdstock(l_max=2),
        saturation=HillSaturation(),
    )
    mmm.build_model(X, y)
    with pytest.raises(DataValidationError) as info:
        check_model_data(mmm.model)
    (problem,) = info.value.problems
    assert problem.rows[0] == "date 2024-01-01, geo south"


def test_validate_mmm_data_arguments():
    X = pd.DataFrame({"date": ["2024-01-01"], "tv": ["a lot"]})
    with pytest.raises(DataValidationError, match="'tv' is not numeric"):
        validate_mmm_data(X, [1.0], channel_columns=["tv"])
    with pytest.raises(DataValidationError, match="'radio' is not a column of X"):
        validate_mmm_data(X, [1.0], channel_columns=["radio"])
    with pytest.raises(DataValidationError, match="has 2 values for 1 rows"):
        validate_mmm_data(X.assign(tv=1.0), [1.0, 2.0], channel_columns=["tv"])
    with pytest.raises(TypeError, match="channel_columns"):
        validate_mmm_data(X)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        validate_mmm_data(X.to_xarray(), channel_columns=["tv"])
