"""Loader for the real-data case study (the ``sibylhe/mmm_stan`` weekly data).

The data set holds 209 weeks (2014-08-03 to 2018-07-29) of sales, media spend
and controls for one retail brand. It is the data of PyMC-Marketing's "MMM
End-to-End Case Study", and :func:`load_mmm_stan` prepares it the way that case
study uses it:

* date column ``wk_strt_dt`` (renamed to ``"date"``), target ``sales``;
* the seven spend channels of :data:`CHANNEL_NAMES`, kept under their original
  ``mdsp_*`` names (:meth:`CaseStudyData.channel_label` gives readable labels);
* every ``hldy_*`` holiday dummy as a control, renamed to a valid identifier
  (``"hldy_Black Friday"`` becomes ``"hldy_black_friday"``);
* a chronological split with training weeks up to :data:`TRAIN_END`.

The loader takes a path or URL, so user code does not depend on where a copy of
the file lives; :data:`MMM_STAN_URL` is the public raw-file address of the
upstream file. The data are MIT licensed, see :data:`MMM_STAN_ATTRIBUTION`.

Examples
--------
``path`` is a local copy of the upstream ``data.csv`` (or :data:`MMM_STAN_URL`,
which needs internet access):

>>> from pmm_mixture.datasets import load_mmm_stan
>>> case = load_mmm_stan(path)
>>> len(case.data), len(case.channel_columns)
(209, 7)
>>> X_train, y_train, X_test, y_test = case.split()
>>> len(X_train), len(X_test)
(183, 26)

"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "CHANNEL_NAMES",
    "MMM_STAN_ATTRIBUTION",
    "MMM_STAN_URL",
    "TRAIN_END",
    "CaseStudyData",
    "load_mmm_stan",
]

#: Public raw-file address of the upstream ``data.csv`` of ``sibylhe/mmm_stan``.
MMM_STAN_URL: str = "https://raw.githubusercontent.com/sibylhe/mmm_stan/main/data.csv"

#: Where the data come from and under which terms they may be redistributed.
MMM_STAN_ATTRIBUTION: str = (
    "Data: file data.csv of the public GitHub repository sibylhe/mmm_stan "
    "(https://github.com/sibylhe/mmm_stan), distributed under the MIT License, "
    "Copyright (c) 2021 Sibyl He. The MIT License text, including this copyright "
    "notice and its permission notice, must accompany every copy or substantial "
    "portion of the data."
)

#: Spend columns used as channels, in model order, with readable labels.
CHANNEL_NAMES: dict[str, str] = {
    "mdsp_dm": "Direct Mail",
    "mdsp_inst": "Insert",
    "mdsp_nsp": "Newspaper",
    "mdsp_audtr": "Radio",
    "mdsp_vidtr": "TV",
    "mdsp_so": "Social Media",
    "mdsp_on": "Online Display",
}

#: Last date of the training period used by the case study (inclusive).
TRAIN_END = "2018-02-01"

_RAW_DATE_COLUMN = "wk_strt_dt"
_DATE_COLUMN = "date"
_TARGET_COLUMN = "sales"
_HOLIDAY_PREFIX = "hldy_"


@dataclass(frozen=True, eq=False)
class CaseStudyData:
    """The prepared case-study data with its column roles and train/test cut.

    Use :func:`load_mmm_stan` to build one.

    Attributes
    ----------
    data : pandas.DataFrame
        One row per week, sorted by date, with columns ``"date"``
        (``datetime64``), the channel columns, the control columns and
        ``"sales"``. Channel, control and target columns are ``float64``.
    date_column : str
        Name of the date column, ``"date"``.
    channel_columns : list of str
        The spend columns (original ``mdsp_*`` names), in the order of
        :data:`CHANNEL_NAMES`.
    control_columns : list of str
        The holiday dummies (0.0 or 1.0), in file order, renamed to distinct
        lower-case identifiers: each run of non-alphanumeric characters becomes
        ``_`` (``"hldy_Father's Day"`` becomes ``"hldy_father_s_day"``), and a
        clash gets a ``_2``, ``_3``... suffix.
    target_column : str
        Name of the target column, ``"sales"``.
    train_end : pandas.Timestamp
        Last date of the training period (inclusive).
    attribution : str
        Source and license of the data, :data:`MMM_STAN_ATTRIBUTION`.

    Examples
    --------
    >>> case = load_mmm_stan(path)
    >>> case.channel_columns[:3]
    ['mdsp_dm', 'mdsp_inst', 'mdsp_nsp']
    >>> case.control_columns[:2]
    ['hldy_black_friday', 'hldy_christmas_day']
    >>> case.train_end
    Timestamp('2018-02-01 00:00:00')

    """

    data: pd.DataFrame = field(repr=False)
    date_column: str
    channel_columns: list[str]
    control_columns: list[str]
    target_column: str
    train_end: pd.Timestamp
    attribution: str = field(repr=False)

    def __post_init__(self) -> None:
        needed = [
            self.date_column,
            *self.channel_columns,
            *self.control_columns,
            self.target_column,
        ]
        missing = [c for c in needed if c not in self.data.columns]
        if missing:
            raise ValueError(f"data lacks the columns {missing}.")

    @property
    def X(self) -> pd.DataFrame:
        """Date, channel and control columns (a copy).

        Returns
        -------
        pandas.DataFrame
            Columns ``[date_column, *channel_columns, *control_columns]``.

        Examples
        --------
        >>> case = load_mmm_stan(path)
        >>> case.X.shape
        (209, 30)

        """
        columns = [self.date_column, *self.channel_columns, *self.control_columns]
        return self.data[columns].copy()

    @property
    def y(self) -> pd.Series:
        """The target (a copy), named ``"sales"``.

        Returns
        -------
        pandas.Series
            Weekly sales, aligned with :attr:`X`.

        Examples
        --------
        >>> case = load_mmm_stan(path)
        >>> case.y.name
        'sales'

        """
        return self.data[self.target_column].copy()

    def split(self) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
        """Chronological split at :attr:`train_end`.

        Returns
        -------
        tuple
            ``(X_train, y_train, X_test, y_test)``: training weeks have
            ``date <= train_end``, test weeks ``date > train_end``. The row
            index of :attr:`data` is kept.

        Examples
        --------
        >>> case = load_mmm_stan(path)
        >>> X_train, y_train, X_test, y_test = case.split()
        >>> X_train["date"].max(), X_test["date"].min()
        (Timestamp('2018-01-28 00:00:00'), Timestamp('2018-02-04 00:00:00'))

        """
        X, y = self.X, self.y
        train = (X[self.date_column] <= self.train_end).to_numpy()
        return X[train], y[train], X[~train], y[~train]

    def channel_label(self, column: str) -> str:
        """Readable label of a channel column.

        Parameters
        ----------
        column : str
            One of :attr:`channel_columns`.

        Returns
        -------
        str
            The label used by the case study, e.g. ``"TV"`` for ``"mdsp_vidtr"``.

        Raises
        ------
        ValueError
            If ``column`` is not a channel column.

        Examples
        --------
        >>> case = load_mmm_stan(path)
        >>> case.channel_label("mdsp_vidtr")
        'TV'

        """
        if column not in self.channel_columns or column not in CHANNEL_NAMES:
            raise ValueError(
                f"{column!r} is not a channel column; expected one of "
                f"{self.channel_columns}."
            )
        return CHANNEL_NAMES[column]


def _identifier(name: str) -> str:
    """Lower-case ``name``, turn each run of non-alphanumerics into one ``_``.

    Leading and trailing underscores are dropped (``"hldy_July 4th!"`` becomes
    ``"hldy_july_4th"``); a leading digit gets an ``_`` prefix.
    """
    out = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    if not out or out[0].isdigit():
        out = "_" + out
    return out


def _unique_identifiers(names: list[str]) -> list[str]:
    """Map ``names`` to distinct identifiers, suffixing ``_2``, ``_3``... on clashes."""
    seen: set[str] = set()
    out = []
    for name in names:
        base = _identifier(name)
        candidate, k = base, 2
        while candidate in seen:
            candidate, k = f"{base}_{k}", k + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def load_mmm_stan(
    source: str | os.PathLike[str], *, train_end: str | pd.Timestamp = TRAIN_END
) -> CaseStudyData:
    """Load and check the ``sibylhe/mmm_stan`` weekly data for the case study.

    Parameters
    ----------
    source : str or os.PathLike
        Path of a local copy of the upstream ``data.csv``, or a URL such as
        :data:`MMM_STAN_URL`; it is passed to :func:`pandas.read_csv` as is.
    train_end : str or pandas.Timestamp, default TRAIN_END
        Last date of the training period (inclusive). At least one week must
        lie on each side of it.

    Returns
    -------
    CaseStudyData
        Weeks sorted by date; only the date, channel, holiday and sales columns
        are kept, as a new frame (the source is only read).

    Raises
    ------
    ValueError
        If required columns are missing, dates do not parse or repeat, a used
        column has missing or non-numeric values, a spend is negative, or
        ``train_end`` does not leave at least one week on each side.

    Examples
    --------
    >>> case = load_mmm_stan(path)  # or load_mmm_stan(MMM_STAN_URL)
    >>> case.data.columns[:3].tolist()
    ['date', 'mdsp_dm', 'mdsp_inst']
    >>> later = load_mmm_stan(path, train_end="2018-05-01")
    >>> len(later.split()[2])
    13

    """
    raw = pd.read_csv(source)
    channels = list(CHANNEL_NAMES)
    raw_holidays = [
        c for c in raw.columns if isinstance(c, str) and c.startswith(_HOLIDAY_PREFIX)
    ]
    missing = [
        c for c in [_RAW_DATE_COLUMN, *channels, _TARGET_COLUMN] if c not in raw.columns
    ]
    if missing or not raw_holidays:
        what = [repr(c) for c in missing]
        if not raw_holidays:
            what.append(f"any '{_HOLIDAY_PREFIX}*' column")
        raise ValueError(
            f"{source!s} lacks required columns: {', '.join(what)}; expected the "
            f"mmm_stan data.csv layout."
        )

    controls = _unique_identifiers(raw_holidays)
    numeric_raw = [*channels, *raw_holidays, _TARGET_COLUMN]
    has_na = [c for c in [_RAW_DATE_COLUMN, *numeric_raw] if raw[c].isna().any()]
    if has_na:
        raise ValueError(f"{source!s} has missing values in the columns {has_na}.")

    try:
        dates = pd.to_datetime(raw[_RAW_DATE_COLUMN], format="ISO8601")
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"column {_RAW_DATE_COLUMN!r} of {source!s} does not parse as dates: {err}"
        ) from err

    data = pd.DataFrame({_DATE_COLUMN: dates.to_numpy()})
    for src, dst in zip(
        numeric_raw, [*channels, *controls, _TARGET_COLUMN], strict=True
    ):
        try:
            values = pd.to_numeric(raw[src], errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"column {src!r} of {source!s} is not numeric: {err}"
            ) from err
        if not np.isfinite(values).all():
            raise ValueError(f"column {src!r} of {source!s} has non-finite values.")
        data[dst] = values

    data = data.sort_values(_DATE_COLUMN, kind="stable").reset_index(drop=True)
    repeated = data[_DATE_COLUMN][data[_DATE_COLUMN].duplicated()]
    if len(repeated):
        shown = sorted({d.date().isoformat() for d in repeated})
        raise ValueError(f"{source!s} has duplicate dates: {shown}.")

    for column in channels:
        negative = data[column] < 0
        if negative.any():
            first = data.loc[negative, _DATE_COLUMN].iloc[0].date().isoformat()
            raise ValueError(
                f"column {column!r} of {source!s} has negative spend in "
                f"{int(negative.sum())} week(s), first on {first}."
            )

    try:
        cut = pd.Timestamp(train_end)
    except (ValueError, TypeError) as err:
        raise ValueError(f"train_end must be a date, got {train_end!r}.") from err
    if pd.isna(cut):
        raise ValueError(f"train_end must be a date, got {train_end!r}.")
    if cut.tzinfo is not None:
        raise ValueError(f"train_end must be timezone-naive, got {cut}.")
    first_date, last_date = data[_DATE_COLUMN].iloc[0], data[_DATE_COLUMN].iloc[-1]
    if not first_date <= cut < last_date:
        raise ValueError(
            f"train_end={cut.date().isoformat()} must leave at least one week on "
            f"each side: choose a date in [{first_date.date().isoformat()}, "
            f"{last_date.date().isoformat()})."
        )

    return CaseStudyData(
        data=data,
        date_column=_DATE_COLUMN,
        channel_columns=channels,
        control_columns=controls,
        target_column=_TARGET_COLUMN,
        train_end=cut,
        attribution=MMM_STAN_ATTRIBUTION,
    )
