"""Lift-test calibration for an MMM with the mixture saturation.

PyMC-Marketing's ``MMM.add_lift_test_measurements`` looks up every dim of the
saturation's variables as a column of the lift-test table. The mixture's
component parameters carry a ``component`` dim that the table cannot have (the
curve sums over it), so for a :class:`~pmm_mixture.MixtureHillSaturation` that
method stops with PyMC-Marketing's ``MissingValueError`` (a ``KeyError``):
``The value ['component'] is missing of the required [...]``. Call
:func:`add_lift_test_measurements` instead, with the MMM as first argument,
after ``mmm.build_model(X, y)`` and before ``mmm.fit(X, y)``:

.. code-block:: python

    from pmm_mixture import add_lift_test_measurements

    mmm.build_model(X, y)
    add_lift_test_measurements(mmm, df_lift_test)
    mmm.fit(X, y)

It has the semantics of the MMM method: the same table (``channel``, one column
per MMM dim, ``x``, ``delta_x``, ``delta_y``, ``sigma`` in original units, and
``date`` for time-varying media), the same scaling of ``x`` and ``delta_x`` by
the channel scale and of ``delta_y`` and ``sigma`` by the target scale of each
row's channel and dims, the same likelihoods and the same model variables
(``<name>``, ``<name>_model_estimated_lift`` and its ``_original_scale``
companion). For any other saturation it calls the MMM method itself.

Nothing in PyMC-Marketing is replaced: the calibration goes through its public
``add_lift_measurements_to_likelihood_from_saturation`` with a ``get_indices``
function that leaves the component dims whole. The upstream fix is one
argument: let ``add_saturation_observations`` skip dims that the saturation
function reduces; then the MMM method works for the mixture and this module
goes away.

Limit: ``MMM.save`` records only lift tests added through the MMM method, so
``MMM.load`` rebuilds a mixture model without this calibration (the loaded
posterior, fitted with it, is intact). Call :func:`add_lift_test_measurements`
on the loaded model again before refitting it.

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> from pymc_marketing.mmm import MMM, GeometricAdstock
>>> from pmm_mixture import MixtureHillSaturation, add_lift_test_measurements
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame(
...     {
...         "date": pd.date_range("2024-01-01", periods=20, freq="W-MON"),
...         "tv": rng.uniform(0, 1000, 20),
...         "search": rng.uniform(0, 500, 20),
...     }
... )
>>> y = pd.Series(rng.uniform(900, 1100, 20), name="sales")
>>> mmm = MMM(
...     date_column="date",
...     channel_columns=["tv", "search"],
...     target_column="sales",
...     adstock=GeometricAdstock(l_max=2),
...     saturation=MixtureHillSaturation(n_components=2),
... )
>>> mmm.build_model(X, y)
>>> lift = pd.DataFrame(
...     {"channel": ["tv"], "x": [500.0], "delta_x": [100.0],
...      "delta_y": [20.0], "sigma": [5.0]}
... )
>>> mmm.add_lift_test_measurements(lift)  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
pymc_marketing.mmm.lift_test.MissingValueError: "The value ['component'] is missing ..."
>>> _ = add_lift_test_measurements(mmm, lift)
>>> mmm.model["lift_measurements"].dims
('_lift_measurements_dim',)
>>> scales = mmm.get_scales_as_xarray()
>>> observed = mmm.model.rvs_to_values[mmm.model["lift_measurements"]]
>>> bool(np.isclose(observed.data[0], 20.0 / float(scales["target_scale"])))
True

"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pymc.dims as pmd
import xarray as xr
from pymc_extras.prior import Prior
from pymc_marketing.mmm.lift_test import (
    Indices,
    add_lift_measurements_to_likelihood_from_saturation,
    exact_row_indices,
)
from pymc_marketing.mmm.link import LinkFunction
from pytensor.xtensor import as_xtensor

__all__ = ["add_lift_test_measurements"]

_MEASUREMENT_COLUMNS = ("x", "delta_x", "delta_y", "sigma")
# The lift-test module of PyMC-Marketing names the time-varying media
# multiplier so (coupled to MMM.build_model, as in MMM.add_lift_test_measurements).
_TIME_VARYING_MEDIA_VAR = "media_temporal_latent_multiplier"


def add_lift_test_measurements(
    mmm: Any,
    df_lift_test: pd.DataFrame,
    likelihood: Prior | None = None,
    name: str = "lift_measurements",
    *,
    dist: Any = None,
) -> Any:
    """Add lift tests to a built MMM, with the mixture saturation or any other.

    ``MMM.add_lift_test_measurements(df_lift_test, ...)`` for an MMM whose
    saturation is a :class:`~pmm_mixture.MixtureHillSaturation` (that method
    cannot map the ``component`` dim); for any other saturation it is that
    method. The model of each lift is
    ``saturation(x + delta_x) - saturation(x)`` (the channel's mixture curve,
    summed over its components), observed as ``delta_y`` with standard error
    ``sigma`` under ``likelihood``.

    Parameters
    ----------
    mmm : pymc_marketing.mmm.MMM
        A built model (``mmm.build_model(X, y)``); fit it afterwards.
    df_lift_test : pd.DataFrame
        One row per lift test, in original units: ``channel``, one column per
        dim of ``mmm.dims`` (e.g. ``geo``), ``x`` (spend before the test),
        ``delta_x`` (change in spend), ``delta_y`` (measured change in the
        target), ``sigma`` (its standard error), and ``date`` if the MMM has
        time-varying media. Not modified.
    likelihood : Prior, optional
        Likelihood of the measured lift, default ``Prior("Normal")``;
        ``Normal``, ``StudentT`` (with ``nu``) or ``Gamma``, as PyMC-Marketing
        supports.
    name : str, default "lift_measurements"
        Name of the observed variable; use another one for a second call.
    dist : pymc.dims.DimDistribution, optional
        PyMC-Marketing's deprecated alias of ``likelihood``.

    Returns
    -------
    MMM
        ``mmm``, with the calibration added to ``mmm.model``.

    Raises
    ------
    RuntimeError
        If the model has not been built.
    NotImplementedError
        With ``link="log"`` (as PyMC-Marketing).
    KeyError
        If ``channel``, a dim column or a measurement column is missing.
    ValueError
        If a channel or dim label is not in the model, or a measurement is not
        finite (or ``sigma`` not positive).

    Examples
    --------
    >>> import pandas as pd
    >>> from pmm_mixture import add_lift_test_measurements
    >>> add_lift_test_measurements(object(), pd.DataFrame())
    Traceback (most recent call last):
        ...
    RuntimeError: The model has not been built yet: call mmm.build_model(X, y) first.
    """
    from pmm_mixture.saturation import MixtureHillSaturation

    if not hasattr(mmm, "model"):
        raise RuntimeError(
            "The model has not been built yet: call mmm.build_model(X, y) first."
        )
    if not isinstance(mmm.saturation, MixtureHillSaturation):
        return mmm.add_lift_test_measurements(
            df_lift_test, likelihood=likelihood, name=name, dist=dist
        )
    if LinkFunction(mmm.link) == LinkFunction.LOG:
        raise NotImplementedError(
            "Lift-test calibration is not supported with link='log': the "
            "saturation difference is on the log-median scale, while delta_y is "
            "a level change."
        )
    dims = list(mmm.dims)
    for column in ["channel", *dims, *_MEASUREMENT_COLUMNS]:
        if column not in df_lift_test.columns:
            raise KeyError(
                f"The {column!r} column is required to map the lift measurements "
                "to the model."
            )
    time_varying = _TIME_VARYING_MEDIA_VAR if mmm.time_varying_media else None
    if time_varying and "date" not in df_lift_test.columns:
        raise KeyError(
            "The 'date' column is required with time-varying media: the lift "
            "is scaled by the media multiplier of that date."
        )

    scales = mmm.get_scales_as_xarray()
    channel_scale = _row_values(scales["channel_scale"], df_lift_test, "channel")
    target_scale = _row_values(scales["target_scale"], df_lift_test, "target")
    scaled = df_lift_test[["channel", *dims]].copy()
    if time_varying:
        scaled["date"] = df_lift_test["date"]
    for column, scale in (
        ("x", channel_scale),
        ("delta_x", channel_scale),
        ("delta_y", target_scale),
        ("sigma", target_scale),
    ):
        scaled[column] = _as_float(df_lift_test[column], column) / scale
    # add_saturation_observations asks for a column per dim of the saturation's
    # variables. The dims that no lift-test column can name are those the
    # mixture's curve sums over (component, component step): they get a
    # placeholder column that get_indices drops, so that they stay whole.
    reduced = _saturation_dims(mmm) - {"channel", "date", *dims}
    for dim in reduced:
        scaled[dim] = "all"

    add_lift_measurements_to_likelihood_from_saturation(
        df_lift_test=scaled,
        saturation=mmm.saturation,
        time_varying_var_name=time_varying,
        model=mmm.model,
        likelihood=likelihood,
        name=name,
        get_indices=partial(_indices_without, reduced),
        dist=dist,
    )
    with mmm.model:
        pmd.Deterministic(
            f"{name}_model_estimated_lift_original_scale",
            mmm.model[f"{name}_model_estimated_lift"]
            * as_xtensor(target_scale, dims=(f"_{name}_dim",)),
        )
    return mmm


def _indices_without(reduced: set[str], df: pd.DataFrame, model: pm.Model) -> Indices:
    """PyMC-Marketing's ``exact_row_indices`` for all but the ``reduced`` dims."""
    return exact_row_indices(
        df.drop(columns=[c for c in df.columns if c in reduced]), model
    )


def _saturation_dims(mmm: Any) -> set[str]:
    model = mmm.model
    return {
        dim
        for variable in mmm.saturation.variable_mapping.values()
        for dim in model.named_vars_to_dims.get(variable, ())
    }


def _row_values(scale: xr.DataArray, df: pd.DataFrame, what: str) -> np.ndarray:
    """Return the scale of each row: ``scale`` at the row's channel and dims."""
    indexers = {}
    for dim in scale.dims:
        labels = df[dim].to_numpy()
        unknown = sorted(set(labels) - set(scale.indexes[dim]), key=str)
        if unknown:
            raise ValueError(
                f"Lift-test column {dim!r} has {unknown}, not in the model's "
                f"{dim!r} coords {list(scale.indexes[dim])}."
            )
        indexers[dim] = xr.DataArray(labels, dims="row")
    values = scale.sel(indexers) if indexers else scale
    values = np.broadcast_to(np.asarray(values, dtype=float), (len(df),))
    if not (np.isfinite(values).all() and (values > 0).all()):
        raise ValueError(
            f"The model's {what} scale is not a positive finite number for every "
            f"lift-test row: {values.tolist()}."
        )
    return values


def _as_float(values: pd.Series, column: str) -> np.ndarray:
    try:
        array = values.to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Lift-test column {column!r} must hold real numbers."
        ) from error
    if not np.isfinite(array).all():
        rows = values.index[~np.isfinite(array)].tolist()
        raise ValueError(
            f"Lift-test column {column!r} must hold finite numbers; rows {rows} do not."
        )
    return array
