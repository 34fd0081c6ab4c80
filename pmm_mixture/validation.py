"""Checks that bad spend or target data never reaches the sampler unnoticed.

PyMC-Marketing's ``MMM`` (1.3) takes data as given: it fills missing values
(NaN) of spend and target with 0 (``MMM._generate_and_preprocess_model_data``
calls ``fillna(0)``, on purpose, so that panels with missing date and dim
combinations line up), lets negative spend into the curves, and turns a
channel with an infinite value into a channel of zeros (its max-scale becomes
infinite and the scaled spend ``inf / inf`` is set to 0). None of it says a
word. Two checks close the gap for the mixture:

- :func:`validate_mmm_data` checks the data as the user has it, before
  ``mmm.fit(X, y)``: missing, infinite and negative spend, missing and
  infinite target, naming the column and the rows (index label and date, and
  the MMM's dims). Errors are :class:`DataValidationError` (a ``ValueError``);
  missing spend, which PyMC-Marketing fills with 0 by design, is a
  :class:`DataValidationWarning` saying so.
- :func:`check_model_data` checks the data inside a model that PyMC-Marketing
  has built (its ``channel_data`` and ``target_data``), and runs on its own
  when :class:`~pmm_mixture.MixtureHillSaturation` creates its variables, that
  is in ``mmm.build_model``, ``mmm.fit`` and ``mmm.sample_prior_predictive``.
  It sees infinite and negative spend and an infinite target. It cannot see a
  missing value: PyMC-Marketing has filled it with 0 before the model exists.

Neither needs an ``MMM`` subclass, and neither replaces anything in
PyMC-Marketing (which, in this version, has no validation hook for a
component to use: its ``validating`` mixins are not part of ``MMM``).

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> from pmm_mixture.validation import validate_mmm_data
>>> X = pd.DataFrame(
...     {
...         "date": pd.date_range("2024-01-01", periods=4, freq="W-MON"),
...         "tv": [100.0, -5.0, 120.0, 90.0],
...     }
... )
>>> y = pd.Series([10.0, 11.0, np.nan, 12.0], name="sales")
>>> try:
...     validate_mmm_data(X, y, channel_columns=["tv"], date_column="date")
... except ValueError as error:
...     print(str(error).splitlines()[0])
...     for problem in error.problems:
...         print(problem.column, "at", problem.rows)
2 problems in the MMM data:
spend column 'tv' at ('index 1 (date 2024-01-08)',)
target 'sales' at ('index 2 (date 2024-01-15)',)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm

__all__ = [
    "DataProblem",
    "DataValidationError",
    "DataValidationWarning",
    "check_model_data",
    "validate_mmm_data",
]

#: How many offending rows a message lists before "and N more".
MAX_ROWS_SHOWN = 5
_MODEL_ADVICE = (
    "Fix the data and build again. pmm_mixture.validate_mmm_data(X, y, mmm=mmm) "
    "checks X and y before fitting and also finds missing values, which "
    "PyMC-Marketing fills with 0 before the model is built."
)


@dataclass(frozen=True)
class DataProblem:
    """One kind of bad value in one column.

    Attributes
    ----------
    column : str
        The spend column (channel) or the target.
    problem : str
        What is wrong, in words.
    rows : tuple of str
        The offending rows, described by index label, date and dims.
    """

    column: str
    problem: str
    rows: tuple[str, ...]

    def __str__(self) -> str:
        """One line: column, problem and the rows."""
        shown = ", ".join(self.rows[:MAX_ROWS_SHOWN])
        if len(self.rows) > MAX_ROWS_SHOWN:
            shown += f" and {len(self.rows) - MAX_ROWS_SHOWN} more"
        n = len(self.rows)
        return f"{self.column} {self.problem} at {n} row{'s' * (n != 1)}: {shown}"


class DataValidationError(ValueError):
    """Spend or target data the mixture must not be fitted to.

    Attributes
    ----------
    problems : list of DataProblem
        Every problem found, one per column and kind.
    """

    def __init__(
        self, problems: Sequence[DataProblem], context: str = "", advice: str = ""
    ) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' * (n != 1)} in the MMM data{context}:"
        lines = [head, *(f"- {p}" for p in self.problems)]
        super().__init__("\n".join([*lines, advice] if advice else lines))


class DataValidationWarning(UserWarning):
    """Data that PyMC-Marketing changes by design (missing spend becomes 0).

    Turn it into an error with
    ``warnings.simplefilter("error", DataValidationWarning)``.
    """


def validate_mmm_data(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray | None = None,
    *,
    channel_columns: Sequence[str] | None = None,
    target_column: str | None = None,
    date_column: str | None = None,
    dims: Sequence[str] | None = None,
    mmm: Any = None,
) -> None:
    """Check spend and target before ``mmm.fit(X, y)``; raise or warn, never fix.

    Checks, per spend column: missing values (warning: PyMC-Marketing fills
    them with 0, i.e. no spend), infinite and negative values, and a
    non-numeric type (errors); for the target: missing values (PyMC-Marketing
    would fit a target of 0 there) and infinite values (errors). All errors
    are collected into one :class:`DataValidationError` that names each
    column and its rows. ``X`` and ``y`` are not modified.

    Parameters
    ----------
    X : pd.DataFrame
        The predictors as passed to ``MMM.fit``: date column, dims columns,
        channel columns (and controls, not checked).
    y : pd.Series or np.ndarray, optional
        The target; by default the ``target_column`` of ``X`` if it has one.
    channel_columns, target_column, date_column, dims : optional
        As in the MMM; each defaults to that of ``mmm`` when ``mmm`` is
        given. ``channel_columns`` is required otherwise.
    mmm : pymc_marketing.mmm.MMM, optional
        The model the data is for, built or not.

    Raises
    ------
    DataValidationError
        Infinite or negative spend, non-numeric spend, missing or infinite
        target, or a spend column missing from ``X``.
    TypeError
        If ``X`` is not a DataFrame.

    Warns
    -----
    DataValidationWarning
        Missing spend, with the rows that PyMC-Marketing would set to 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from pmm_mixture.validation import validate_mmm_data
    >>> X = pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "tv": [1.0, 2.0]})
    >>> validate_mmm_data(X, pd.Series([3.0, 4.0]), channel_columns=["tv"])
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            "validate_mmm_data checks a pandas DataFrame X (as passed to MMM.fit); "
            f"got {type(X).__name__}."
        )
    if mmm is not None:
        channel_columns = (
            mmm.channel_columns if channel_columns is None else channel_columns
        )
        target_column = mmm.target_column if target_column is None else target_column
        date_column = mmm.date_column if date_column is None else date_column
        dims = mmm.dims if dims is None else dims
    if channel_columns is None:
        raise TypeError("Pass channel_columns=[...] or mmm=... to validate_mmm_data.")
    if date_column is not None and date_column not in X.columns:
        date_column = None
    dims = [d for d in (dims or ()) if d in X.columns]

    def where(mask: np.ndarray) -> tuple[str, ...]:
        return _describe_rows(X, mask, date_column, dims)

    errors: list[DataProblem] = []
    filled: list[DataProblem] = []
    for column in channel_columns:
        if column not in X.columns:
            errors.append(
                DataProblem(f"spend column {column!r}", "is not a column of X", ())
            )
            continue
        values = _numeric(X[column])
        if values is None:
            errors.append(
                DataProblem(
                    f"spend column {column!r}",
                    f"is not numeric (dtype {X[column].dtype})",
                    (),
                )
            )
            continue
        label = f"spend column {column!r}"
        errors += _bad_values(
            label,
            values,
            where,
            infinite="is infinite (its channel would be set to 0 by "
            "PyMC-Marketing's max scaling)",
            negative="is negative (mixture curves need spend >= 0)",
        )
        if (missing := np.isnan(values)).any():
            filled.append(
                DataProblem(
                    label,
                    "is missing (NaN); PyMC-Marketing fills it with 0",
                    where(missing),
                )
            )

    target, target_label = _target(X, y, target_column)
    if target is not None:
        errors += _bad_values(target_label, target, where, infinite="is infinite")
        if (missing := np.isnan(target)).any():
            errors.append(
                DataProblem(
                    target_label,
                    "is missing (NaN), which PyMC-Marketing would fill with 0 and "
                    "fit as a target of 0,",
                    where(missing),
                )
            )
    for problem in filled:
        warnings.warn(
            f"{problem}. Fill or drop these rows yourself if 0 is not meant "
            "(e.g. X.fillna({...: 0}) makes it explicit).",
            DataValidationWarning,
            stacklevel=2,
        )
    if errors:
        raise DataValidationError(errors)


def check_model_data(model: pm.Model | None = None) -> None:
    """Check a built MMM's spend and target data; no-op for other models.

    Reads the values of the ``channel_data`` and ``target_data`` data
    variables that ``MMM.build_model`` creates (before scaling), and raises if
    spend is infinite or negative or the target infinite, naming the channel
    and the rows (date and dims). Missing values cannot be seen here: see
    :func:`validate_mmm_data`. A model without these data variables (e.g. the
    saturation's own ``sample_prior``) is left alone.

    Parameters
    ----------
    model : pm.Model, optional
        Default: the model on the context stack.

    Raises
    ------
    DataValidationError
        Infinite or negative spend, or infinite target.

    Examples
    --------
    >>> import numpy as np
    >>> import pymc as pm
    >>> from pmm_mixture.validation import check_model_data
    >>> dates = ["2024-01-01", "2024-01-08"]
    >>> with pm.Model(coords={"date": dates, "channel": ["tv"]}) as model:
    ...     _ = pm.Data("channel_data", np.array([[1.0], [np.inf]]),
    ...                 dims=("date", "channel"))
    >>> try:
    ...     check_model_data(model)
    ... except ValueError as error:
    ...     print(error.problems[0].column, "at", error.problems[0].rows)
    spend column 'tv' at ('date 2024-01-08',)
    """
    model = pm.modelcontext(model)
    errors: list[DataProblem] = []
    spend = _data_values(model, "channel_data")
    if spend is not None:
        values, dims = spend
        if "channel" in dims:
            axis = dims.index("channel")
            for i, channel in enumerate(_coord(model, "channel", values.shape[axis])):
                column = np.take(values, i, axis=axis)
                other = tuple(d for d in dims if d != "channel")
                errors += _bad_values(
                    f"spend column {_label(channel)!r}",
                    column,
                    lambda mask, other=other: _describe_cells(model, other, mask),
                    infinite="is infinite (its channel would be set to 0 by "
                    "PyMC-Marketing's max scaling)",
                    negative="is negative (mixture curves need spend >= 0)",
                    missing="is missing (NaN)",
                )
    target = _data_values(model, "target_data")
    if target is not None:
        values, dims = target
        errors += _bad_values(
            "target",
            values,
            lambda mask: _describe_cells(model, dims, mask),
            infinite="is infinite",
            missing="is missing (NaN)",
        )
    if errors:
        raise DataValidationError(
            errors, context=" built into the model", advice=_MODEL_ADVICE
        )


def _bad_values(
    label: str,
    values: np.ndarray,
    where: Any,
    *,
    infinite: str,
    negative: str | None = None,
    missing: str | None = None,
) -> list[DataProblem]:
    problems = []
    checks = [(np.isinf(values), infinite)]
    if negative is not None:
        with np.errstate(invalid="ignore"):
            checks.append((values < 0, negative))
    if missing is not None:
        checks.append((np.isnan(values), missing))
    for mask, problem in checks:
        if mask.any():
            problems.append(DataProblem(label, problem, where(mask)))
    return problems


def _numeric(values: pd.Series) -> np.ndarray | None:
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
        values.dtype
    ):
        return None
    return values.to_numpy(dtype=float, na_value=np.nan)


def _target(
    X: pd.DataFrame, y: Any, target_column: str | None
) -> tuple[np.ndarray | None, str]:
    name = target_column
    if y is None:
        if target_column is None or target_column not in X.columns:
            return None, ""
        y = X[target_column]
    elif isinstance(y, pd.Series) and y.name is not None:
        name = str(y.name)
    label = "target" if name is None else f"target {name!r}"
    values = np.asarray(y, dtype=float).reshape(-1)
    if len(values) != len(X):
        raise DataValidationError(
            [DataProblem(label, f"has {len(values)} values for {len(X)} rows of X", ())]
        )
    return values, label


def _describe_rows(
    X: pd.DataFrame, mask: np.ndarray, date_column: str | None, dims: Sequence[str]
) -> tuple[str, ...]:
    rows = []
    for position in np.flatnonzero(mask):
        parts = []
        if date_column is not None:
            parts.append(f"date {_label(X[date_column].iloc[position])}")
        parts += [f"{dim} {_label(X[dim].iloc[position])}" for dim in dims]
        detail = f" ({', '.join(parts)})" if parts else ""
        rows.append(f"index {_label(X.index[position])}{detail}")
    return tuple(rows)


def _describe_cells(
    model: pm.Model, dims: Sequence[str], mask: np.ndarray
) -> tuple[str, ...]:
    coords = [
        _coord(model, dim, size) for dim, size in zip(dims, mask.shape, strict=True)
    ]
    return tuple(
        ", ".join(
            f"{dim} {_label(coord[i])}"
            for dim, coord, i in zip(dims, coords, cell, strict=True)
        )
        for cell in zip(*np.nonzero(mask), strict=True)
    )


def _data_values(model: pm.Model, name: str) -> tuple[np.ndarray, tuple] | None:
    variable = model.named_vars.get(name)
    get_value = getattr(variable, "get_value", None)
    if get_value is None:
        return None
    values = np.asarray(get_value(), dtype=float)
    dims = tuple(model.named_vars_to_dims.get(name) or ())
    if len(dims) != values.ndim:
        dims = tuple(f"axis {i}" for i in range(values.ndim))
    return values, dims


def _coord(model: pm.Model, dim: str, size: int) -> Sequence[Any]:
    values = model.coords.get(dim)
    return list(values) if values is not None else list(range(size))


def _label(value: Any) -> str:
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return str(value.date()) if value == value.normalize() else str(value)
    return str(value)
