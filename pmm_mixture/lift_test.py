"""Lift-test calibration for the mixture saturation.

PyMC-Marketing's ``add_saturation_observations`` looks up every dim of the
saturation's variables as a column of the lift-test table. The mixture's
component parameters carry a ``component`` dim that the table cannot have: the
curve sums over it. This module provides the same calibration with the
component dims left whole, and routes ``MMM.add_lift_test_measurements`` to it
for :class:`~pmm_mixture.MixtureHillSaturation` only; every other saturation
takes PyMC-Marketing's own path, unchanged.

The upstream fix is one argument: let ``add_saturation_observations`` skip
dims that the saturation function reduces (see CONTRIBUTING.md).

Examples
--------
.. code-block:: python

    import pandas as pd

    # mmm: an MMM built with saturation=MixtureHillSaturation(...)
    df_lift = pd.DataFrame(
        {"channel": ["tv"], "x": [1000.0], "delta_x": [500.0],
         "delta_y": [120.0], "sigma": [30.0]}
    )
    mmm.add_lift_test_measurements(df_lift)

"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import pymc as pm
import pymc.dims as pmd
import pymc_marketing.mmm.mmm as _mmm_module
from pymc_extras.prior import Prior
from pymc_marketing.mmm import lift_test as _upstream
from pymc_marketing.mmm.components.saturation import SaturationTransformation
from pytensor.xtensor import as_xtensor

from pmm_mixture.priors import COMPONENT_DIM, STEP_DIM

REDUCED_DIMS = frozenset({COMPONENT_DIM, STEP_DIM})
_LIFT_COLUMNS = ("x", "delta_x", "delta_y", "sigma")


def add_mixture_lift_observations(
    df_lift_test: pd.DataFrame,
    variable_mapping: Mapping[str, str],
    saturation_function: Callable[..., Any],
    likelihood: Prior | None = None,
    name: str = "lift_measurements",
    model: pm.Model | None = None,
    reduced_dims: frozenset[str] = REDUCED_DIMS,
) -> None:
    """Add lift measurements as observations of a saturation's difference.

    Like PyMC-Marketing's ``add_saturation_observations``, but dims in
    ``reduced_dims`` are kept whole instead of looked up in the table.

    Parameters
    ----------
    df_lift_test : pd.DataFrame
        Columns ``x``, ``delta_x``, ``delta_y``, ``sigma`` (model scale) and
        one column per indexed dim of the saturation's variables (``channel``,
        ``geo``, ...).
    variable_mapping : Mapping[str, str]
        Function parameter name to model variable name.
    saturation_function : callable
        ``f(x, **parameters)``, reducing the ``reduced_dims``.
    likelihood : Prior, optional
        Likelihood of the measured lift, default ``Prior("Normal")``.
    name : str
        Name of the observed variable.
    model : pm.Model, optional
        The model, default the one on the context stack.
    reduced_dims : frozenset of str
        Dims the saturation function sums over.

    """
    _upstream.assert_is_subset(set(_LIFT_COLUMNS), set(df_lift_test.columns))
    likelihood = _upstream._resolve_likelihood(likelihood)
    _upstream._validate_lift_likelihood_data(df_lift_test, likelihood)
    model = pm.modelcontext(model)

    index_dims = sorted(
        {
            dim
            for variable in variable_mapping.values()
            for dim in model.named_vars_to_dims.get(variable, ())
            if dim not in reduced_dims
        }
    )
    _upstream.assert_is_subset(set(index_dims), set(df_lift_test.columns))
    lift_dim = f"_{name}_dim"
    indices = _upstream.exact_row_indices(df_lift_test[index_dims], model)
    indices = {
        dim: as_xtensor(value, dims=(lift_dim,)) for dim, value in indices.items()
    }

    def curve(x):
        parameters = {
            parameter: model[variable].isel(indices, missing_dims="ignore")
            for parameter, variable in variable_mapping.items()
        }
        return saturation_function(x, **parameters)

    x_before = as_xtensor(df_lift_test["x"].to_numpy(), dims=(lift_dim,))
    x_after = x_before + as_xtensor(
        df_lift_test["delta_x"].to_numpy(), dims=(lift_dim,)
    )
    estimated_lift = curve(x_after) - curve(x_before)

    with model:
        model.add_coord(lift_dim, length=len(df_lift_test))
        _upstream._validate_positive_model_lift(model, estimated_lift, likelihood)
        estimated_lift = pmd.Deterministic(
            f"{name}_model_estimated_lift", estimated_lift
        )
        likelihood = likelihood.deepcopy()
        likelihood.parameters["sigma"] = as_xtensor(
            df_lift_test["sigma"].to_numpy(), dims=(lift_dim,)
        )
        likelihood.create_likelihood_variable(
            name=name,
            mu=estimated_lift,
            observed=as_xtensor(df_lift_test["delta_y"].to_numpy(), dims=(lift_dim,)),
            xdist=True,
        )


_upstream_from_saturation = (
    _upstream.add_lift_measurements_to_likelihood_from_saturation
)


def add_lift_measurements_to_likelihood_from_saturation(
    df_lift_test: pd.DataFrame,
    saturation: SaturationTransformation,
    time_varying_var_name: str | None = None,
    model: pm.Model | None = None,
    likelihood: Prior | None = None,
    name: str = "lift_measurements",
    **kwargs: Any,
) -> None:
    """Dispatch lift calibration: the mixture here, anything else upstream."""
    from pmm_mixture.saturation import MixtureHillSaturation

    if not isinstance(saturation, MixtureHillSaturation):
        return _upstream_from_saturation(
            df_lift_test=df_lift_test,
            saturation=saturation,
            time_varying_var_name=time_varying_var_name,
            model=model,
            likelihood=likelihood,
            name=name,
            **kwargs,
        )
    if time_varying_var_name:
        function, mapping = _upstream.create_time_varying_saturation(
            saturation=saturation, time_varying_var_name=time_varying_var_name
        )
    else:
        function, mapping = saturation.function, saturation.variable_mapping
    add_mixture_lift_observations(
        df_lift_test=df_lift_test,
        variable_mapping=mapping,
        saturation_function=function,
        likelihood=_upstream._resolve_likelihood(likelihood, kwargs.get("dist")),
        name=name,
        model=model,
    )


def install() -> None:
    """Route ``MMM.add_lift_test_measurements`` through the dispatcher above.

    Idempotent; called on ``import pmm_mixture``.
    """
    _mmm_module.add_lift_measurements_to_likelihood_from_saturation = (
        add_lift_measurements_to_likelihood_from_saturation
    )
