r"""The Hill curve and the mixture of Hill curves, on NumPy and xarray arrays.

.. math::

    \operatorname{hill}(x; s, \kappa) = \frac{x^s}{\kappa^s + x^s},\qquad
    f(x) = \beta\,\frac{\sum_k w_k \operatorname{hill}(x; s_k, \kappa_k)}
                       {\sum_k w_k \operatorname{hill}(1; s_k, \kappa_k)}

The argument order is PyMC-Marketing's ``hill_function(x, slope, kappa)``.
:class:`~pmm_mixture.MixtureHillSaturation` evaluates the same curve on the
model's tensors (with PyMC-Marketing's ``hill_function``); the posterior
curves, the simulator and the benchmark use these functions, and a test holds
the two to each other.

Examples
--------
>>> import numpy as np
>>> from pmm_mixture.hill import hill, mixture_hill
>>> hill(np.array([0.0, 2.0, 4.0]), slope=2.0, kappa=2.0).tolist()
[0.0, 0.5, 0.8]
>>> x = np.array([0.0, 1.0])[:, None]  # spend along axis 0, components along -1
>>> curve = mixture_hill(
...     x, beta=2.0, weights=np.array([0.5, 0.5]),
...     kappa=np.array([0.2, 2.0]), slope=np.array([2.0, 2.0]), axis=-1,
... )
>>> curve.tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["hill", "mixture_hill"]


def hill(x: Any, slope: Any, kappa: Any) -> Any:
    """Hill curve ``x**slope / (kappa**slope + x**slope)``, 0 at ``x = 0``.

    Computed in log space (a logistic in ``log x``), so large kappas or slopes
    do not overflow. Works on NumPy arrays and scalars (broadcast by shape)
    and on xarray objects (broadcast by dim name).

    Parameters
    ----------
    x : array_like or xarray.DataArray
        Non-negative spend.
    slope : array_like or xarray.DataArray
        Hill exponent(s), positive.
    kappa : array_like or xarray.DataArray
        Half-saturation point(s), positive, in the units of ``x``.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        Values in ``[0, 1)``.

    Examples
    --------
    >>> import xarray as xr
    >>> float(hill(xr.DataArray(2.0), xr.DataArray(3.0), xr.DataArray(2.0)))
    0.5
    """
    if not isinstance(x, xr.DataArray):
        x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", over="ignore"):
        # log(0) = -inf gives exp(+inf) = inf and hill = 0 at x = 0
        return 1.0 / (1.0 + np.exp(slope * (np.log(kappa) - np.log(x))))


def mixture_hill(
    x: Any,
    beta: Any,
    weights: Any,
    kappa: Any,
    slope: Any,
    *,
    dim: str | None = None,
    axis: int | None = None,
) -> Any:
    """Evaluate the mixture's curve: ``beta`` at ``x = 1``, components summed.

    Give the component ``dim`` for xarray inputs or the component ``axis``
    for NumPy inputs (the component parameters' axis after broadcasting
    against ``x``).

    Parameters
    ----------
    x : array_like or xarray.DataArray
        Spend in the model's channel scale (1 = the largest spend).
    beta : array_like or xarray.DataArray
        Response at ``x = 1``.
    weights, kappa, slope : array_like or xarray.DataArray
        Component parameters.
    dim : str, optional
        Component dim (xarray).
    axis : int, optional
        Component axis (NumPy).

    Returns
    -------
    numpy.ndarray or xarray.DataArray
    """
    if (dim is None) == (axis is None):
        raise ValueError("Give exactly one of dim (xarray) or axis (NumPy).")

    def total(value: Any) -> Any:
        return value.sum(dim) if dim is not None else np.sum(value, axis=axis)

    at_one = total(weights * hill(1.0, slope, kappa))
    return beta * total(weights * hill(x, slope, kappa)) / at_one
