"""Tests for :mod:`pmm_mixture.datasets` on the shared mmm_stan file."""

from __future__ import annotations

import doctest
import keyword
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmm_mixture import datasets
from pmm_mixture.datasets import (
    CHANNEL_NAMES,
    MMM_STAN_ATTRIBUTION,
    MMM_STAN_URL,
    TRAIN_END,
    CaseStudyData,
    load_mmm_stan,
)

DATA_PATH = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "mmm_stan_weekly.csv"
)

CHANNELS = [
    "mdsp_dm",
    "mdsp_inst",
    "mdsp_nsp",
    "mdsp_audtr",
    "mdsp_vidtr",
    "mdsp_so",
    "mdsp_on",
]

# Counted from the shared file: weeks with exactly zero spend per channel.
ZERO_WEEKS = {
    "mdsp_dm": 1,
    "mdsp_inst": 0,
    "mdsp_nsp": 6,
    "mdsp_audtr": 1,
    "mdsp_vidtr": 3,
    "mdsp_so": 7,
    "mdsp_on": 0,
}
N_WEEKS = 209
N_TRAIN = 183  # weeks with date <= 2018-02-01 (last one 2018-01-28)
N_TEST = 26  # weeks after it (2018-02-04 .. 2018-07-29)
N_HOLIDAYS = 22


@pytest.fixture(scope="module")
def data_path() -> Path:
    # Fail, never skip: the shared data set is part of the test set-up.
    assert DATA_PATH.is_file(), (
        f"shared case-study data not found at {DATA_PATH}; expected "
        "../shared/data/mmm_stan_weekly.csv beside the project root."
    )
    return DATA_PATH


@pytest.fixture(scope="module")
def raw(data_path: Path) -> pd.DataFrame:
    return pd.read_csv(data_path)


@pytest.fixture(scope="module")
def case(data_path: Path) -> CaseStudyData:
    return load_mmm_stan(data_path)


def _write(df: pd.DataFrame, tmp_path: Path, name: str = "data.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


# -- constants ---------------------------------------------------------------


def test_constants() -> None:
    assert MMM_STAN_URL == (
        "https://raw.githubusercontent.com/sibylhe/mmm_stan/main/data.csv"
    )
    assert list(CHANNEL_NAMES) == CHANNELS
    assert CHANNEL_NAMES["mdsp_vidtr"] == "TV"
    assert CHANNEL_NAMES["mdsp_audtr"] == "Radio"
    assert TRAIN_END == "2018-02-01"


def test_attribution(case: CaseStudyData) -> None:
    assert case.attribution == MMM_STAN_ATTRIBUTION
    assert "MIT" in MMM_STAN_ATTRIBUTION
    assert "Sibyl He" in MMM_STAN_ATTRIBUTION
    assert "Copyright (c) 2021 Sibyl He" in MMM_STAN_ATTRIBUTION
    assert "sibylhe/mmm_stan" in MMM_STAN_ATTRIBUTION
    assert "data.csv" in MMM_STAN_ATTRIBUTION
    assert "accompany" in MMM_STAN_ATTRIBUTION


# -- loaded content ------------------------------------------------------------


def test_shape_and_dates(case: CaseStudyData) -> None:
    df = case.data
    assert len(df) == N_WEEKS
    assert case.date_column == "date"
    assert pd.api.types.is_datetime64_dtype(df["date"])
    assert df["date"].iloc[0] == pd.Timestamp("2014-08-03")
    assert df["date"].iloc[-1] == pd.Timestamp("2018-07-29")
    assert (df["date"].diff().iloc[1:] == pd.Timedelta(days=7)).all()
    assert df["date"].is_unique
    assert list(df.index) == list(range(N_WEEKS))
    expected = ["date", *CHANNELS, *case.control_columns, "sales"]
    assert list(df.columns) == expected


def test_channels(case: CaseStudyData, raw: pd.DataFrame) -> None:
    assert case.channel_columns == CHANNELS
    for column in CHANNELS:
        assert case.data[column].dtype == np.float64
        assert (case.data[column] >= 0).all()
        np.testing.assert_array_equal(
            case.data[column].to_numpy(), raw[column].to_numpy(dtype=float)
        )
    zeros = {c: int((case.data[c] == 0).sum()) for c in CHANNELS}
    assert zeros == ZERO_WEEKS


def test_controls(case: CaseStudyData, raw: pd.DataFrame) -> None:
    raw_holidays = [c for c in raw.columns if c.startswith("hldy_")]
    assert len(raw_holidays) == N_HOLIDAYS
    controls = case.control_columns
    assert len(controls) == len(raw_holidays)
    assert len(set(controls)) == len(controls)
    for name in controls:
        assert name.startswith("hldy_")
        assert name.isidentifier() and not keyword.iskeyword(name)
        assert name == name.lower()
    for expected in [
        "hldy_black_friday",
        "hldy_father_s_day",
        "hldy_new_year_s_day",
        "hldy_july_4th",
        "hldy_day_after_christmas",
        "hldy_mlk",
    ]:
        assert expected in controls
    # Same order as the raw file, same 0/1 values, one consistent float dtype.
    for src, dst in zip(raw_holidays, controls, strict=True):
        assert case.data[dst].dtype == np.float64
        np.testing.assert_array_equal(
            case.data[dst].to_numpy(), raw[src].to_numpy(dtype=float)
        )
    assert set(np.unique(case.data[controls].to_numpy())) == {0.0, 1.0}
    # Columns not used by the case study are dropped.
    assert "mdsp_sem" not in case.data.columns
    assert "mdip_dm" not in case.data.columns
    assert "wk_strt_dt" not in case.data.columns


def test_X_and_y(case: CaseStudyData, raw: pd.DataFrame) -> None:
    X, y = case.X, case.y
    assert list(X.columns) == ["date", *CHANNELS, *case.control_columns]
    assert X.shape == (N_WEEKS, 1 + len(CHANNELS) + N_HOLIDAYS)
    assert y.name == "sales"
    assert case.target_column == "sales"
    np.testing.assert_array_equal(y.to_numpy(), raw["sales"].to_numpy(dtype=float))
    # X and y are copies: changing them leaves the data untouched.
    X.loc[0, "mdsp_dm"] = -1.0
    y.iloc[0] = -1.0
    assert case.data.loc[0, "mdsp_dm"] == raw.loc[0, "mdsp_dm"]
    assert case.data.loc[0, "sales"] == raw.loc[0, "sales"]


def test_split(case: CaseStudyData, raw: pd.DataFrame) -> None:
    assert case.train_end == pd.Timestamp("2018-02-01")
    X_train, y_train, X_test, y_test = case.split()
    raw_dates = pd.to_datetime(raw["wk_strt_dt"])
    assert len(X_train) == len(y_train) == N_TRAIN
    assert len(X_test) == len(y_test) == N_TEST
    assert N_TRAIN == int((raw_dates <= pd.Timestamp(TRAIN_END)).sum())
    assert N_TEST == int((raw_dates > pd.Timestamp(TRAIN_END)).sum())
    assert X_train["date"].max() == pd.Timestamp("2018-01-28")
    assert X_test["date"].min() == pd.Timestamp("2018-02-04")
    assert X_train["date"].max() < X_test["date"].min()
    assert not set(X_train["date"]) & set(X_test["date"])
    assert X_train.index.equals(y_train.index)
    assert X_test.index.equals(y_test.index)
    assert list(X_train.columns) == list(case.X.columns)


def test_split_with_other_train_end(data_path: Path) -> None:
    case = load_mmm_stan(data_path, train_end=pd.Timestamp("2017-12-31"))
    X_train, _, X_test, _ = case.split()
    assert X_train["date"].max() == pd.Timestamp("2017-12-31")
    assert len(X_train) + len(X_test) == N_WEEKS
    assert len(X_test) == 30
    # The first week alone is a valid training period.
    first = load_mmm_stan(data_path, train_end="2014-08-03")
    assert len(first.split()[0]) == 1


def test_channel_label(case: CaseStudyData) -> None:
    assert case.channel_label("mdsp_vidtr") == "TV"
    assert case.channel_label("mdsp_so") == "Social Media"
    assert [case.channel_label(c) for c in case.channel_columns] == [
        "Direct Mail",
        "Insert",
        "Newspaper",
        "Radio",
        "TV",
        "Social Media",
        "Online Display",
    ]
    with pytest.raises(ValueError, match="mdsp_sem"):
        case.channel_label("mdsp_sem")


def test_str_and_path_give_the_same_data(data_path: Path) -> None:
    from_path = load_mmm_stan(data_path)
    from_str = load_mmm_stan(str(data_path))
    pd.testing.assert_frame_equal(from_path.data, from_str.data)
    assert from_path.control_columns == from_str.control_columns


def test_loading_does_not_modify_the_file(data_path: Path) -> None:
    before_bytes = data_path.read_bytes()
    before_mtime = data_path.stat().st_mtime_ns
    load_mmm_stan(data_path)
    load_mmm_stan(str(data_path))
    assert data_path.read_bytes() == before_bytes
    assert data_path.stat().st_mtime_ns == before_mtime


def test_unsorted_rows_are_sorted(raw: pd.DataFrame, tmp_path: Path) -> None:
    shuffled = raw.sample(frac=1.0, random_state=0)
    assert not shuffled["wk_strt_dt"].is_monotonic_increasing
    case = load_mmm_stan(_write(shuffled, tmp_path))
    assert case.data["date"].is_monotonic_increasing
    np.testing.assert_array_equal(case.y.to_numpy(), raw["sales"].to_numpy(dtype=float))


def test_colliding_holiday_names_stay_unique(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw[["wk_strt_dt", *CHANNELS, "sales"]].copy()
    df["hldy_A B"] = 0
    df["hldy_a-b"] = 1
    df["hldy_a_b"] = 0
    df["hldy_Kid's  Day!"] = 0
    case = load_mmm_stan(_write(df, tmp_path))
    assert case.control_columns == [
        "hldy_a_b",
        "hldy_a_b_2",
        "hldy_a_b_3",
        "hldy_kid_s_day",
    ]
    assert (case.data["hldy_a_b_2"] == 1.0).all()


def test_docstring_examples_run(data_path: Path) -> None:
    result = doctest.testmod(
        datasets, extraglobs={"path": str(data_path)}, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 10
    assert result.failed == 0


# -- errors --------------------------------------------------------------------


def test_missing_target_column(raw: pd.DataFrame, tmp_path: Path) -> None:
    path = _write(raw.drop(columns=["sales"]), tmp_path, "no_sales.csv")
    with pytest.raises(ValueError, match="'sales'") as info:
        load_mmm_stan(path)
    assert "no_sales.csv" in str(info.value)


def test_missing_channel_and_holidays(raw: pd.DataFrame, tmp_path: Path) -> None:
    holidays = [c for c in raw.columns if c.startswith("hldy_")]
    path = _write(raw.drop(columns=["mdsp_on", *holidays]), tmp_path)
    with pytest.raises(ValueError, match="'mdsp_on'") as info:
        load_mmm_stan(path)
    assert "hldy_" in str(info.value)


def test_no_holiday_columns(raw: pd.DataFrame, tmp_path: Path) -> None:
    holidays = [c for c in raw.columns if c.startswith("hldy_")]
    with pytest.raises(ValueError, match=r"hldy_\*"):
        load_mmm_stan(_write(raw.drop(columns=holidays), tmp_path))


def test_negative_spend(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw.copy()
    df.loc[10, "mdsp_vidtr"] = -5.0
    with pytest.raises(ValueError, match="mdsp_vidtr"):
        load_mmm_stan(_write(df, tmp_path))


def test_duplicate_dates(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw.copy()
    df.loc[5, "wk_strt_dt"] = df.loc[4, "wk_strt_dt"]
    with pytest.raises(ValueError, match="duplicate dates"):
        load_mmm_stan(_write(df, tmp_path))


def test_missing_values(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw.copy()
    df["hldy_Easter"] = df["hldy_Easter"].astype(float)
    df.loc[3, "hldy_Easter"] = np.nan
    with pytest.raises(ValueError, match=r"missing values.*hldy_Easter"):
        load_mmm_stan(_write(df, tmp_path))


def test_missing_date(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw.copy()
    df.loc[100, "wk_strt_dt"] = np.nan
    with pytest.raises(ValueError, match=r"missing values.*wk_strt_dt"):
        load_mmm_stan(_write(df, tmp_path))


def test_unparseable_date(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw.copy()
    df.loc[100, "wk_strt_dt"] = "week 100"
    with pytest.raises(ValueError, match="wk_strt_dt"):
        load_mmm_stan(_write(df, tmp_path))


def test_non_numeric_spend(raw: pd.DataFrame, tmp_path: Path) -> None:
    df = raw.astype({"mdsp_so": object})
    df.loc[7, "mdsp_so"] = "n/a spend"
    with pytest.raises(ValueError, match="mdsp_so"):
        load_mmm_stan(_write(df, tmp_path))


@pytest.mark.parametrize(
    "train_end",
    ["2014-01-01", "2014-08-02", "2018-07-29", "2019-01-01", "not a date", None],
)
def test_train_end_outside_range(data_path: Path, train_end: str | None) -> None:
    with pytest.raises(ValueError):
        load_mmm_stan(data_path, train_end=train_end)


def test_train_end_message(data_path: Path) -> None:
    with pytest.raises(ValueError, match=r"2014-08-03.*2018-07-29"):
        load_mmm_stan(data_path, train_end="2020-01-01")


def test_train_end_not_a_date(data_path: Path) -> None:
    with pytest.raises(ValueError, match="train_end must be a date"):
        load_mmm_stan(data_path, train_end="not a date")
