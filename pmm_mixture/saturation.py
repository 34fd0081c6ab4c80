r"""Mixture-of-Hill-curves saturation for PyMC-Marketing's MMM.

.. math::

    f_c(x) = \beta_c \, \frac{m_c(x)}{m_c(1)},\qquad
    m_c(x) = \sum_{k=1}^{K} w_{c,k}\,
        \frac{x^{s_{c,k}}}{\kappa_{c,k}^{s_{c,k}} + x^{s_{c,k}}}

Each channel's response is a weighted sum of ``K`` Hill curves: one per
audience segment, ``w`` the segment's share of the channel's maximum effect,
``kappa`` where it half-saturates and ``slope`` how sharply. ``beta`` is the
response at ``x = 1``, the largest spend in the model's channel scale
(PyMC-Marketing scales each channel by its maximum), not the asymptote: the
data pin down the response where spend was observed, whereas the asymptote
trades off against segments that saturate beyond the data (a ridge that made
NUTS diverge). The channel's maximum effect is ``beta / m_c(1)``.

Examples
--------
.. code-block:: python

    from pymc_marketing.mmm import GeometricAdstock, MMM
    from pmm_mixture import MixtureHillSaturation

    mmm = MMM(
        date_column="date",
        channel_columns=["tv", "search"],
        target_column="y",
        adstock=GeometricAdstock(l_max=6),
        saturation=MixtureHillSaturation(n_components=5),
    )

"""

from __future__ import annotations

import numbers
from copy import deepcopy
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr
from pymc_extras.prior import Prior
from pymc_marketing.mmm.components.saturation import SaturationTransformation
from pymc_marketing.mmm.transformers import hill_function
from pymc_marketing.serialization import serialization
from pytensor import xtensor as ptx
from pytensor.xtensor import as_xtensor

from pmm_mixture.priors import (
    COMPONENT_DIM,
    STEP_DIM,
    DirichletWeights,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
    ensure_component_coords,
)

COMPONENT_PARAMETERS = ("weights", "kappa", "slope")


def default_mixture_priors(n_components: int) -> dict[str, Any]:
    """Default priors of :class:`MixtureHillSaturation`.

    ``beta`` keeps ``dims=None`` so the MMM gives it its own dims (channel, and
    geo if any); the component parameters are shared across extra dims.
    """
    return {
        "beta": Prior("HalfNormal", sigma=1.5),
        "weights": StickBreakingWeights(alpha=0.15),
        "kappa": OrderedKappa(log_gap=_default_log_gap(n_components)),
        "slope": PooledSlope(),
    }


def _default_log_gap(n_components: int) -> Prior:
    # Spread the K kappas a priori over about a factor of 6 on max-scaled
    # spend, whatever K is: mean log-gap log(6) / (K - 1), Gamma shape 2.
    mean_gap = np.log(6.0) / max(n_components - 1, 1)
    return Prior("Gamma", alpha=2.0, beta=float(2.0 / mean_gap))


def _check_n_components(n_components: Any) -> int:
    if isinstance(n_components, bool) or not isinstance(n_components, numbers.Integral):
        raise TypeError(
            f"n_components must be a positive integer, got {n_components!r} "
            f"({type(n_components).__name__})."
        )
    if n_components < 1:
        raise ValueError(
            f"n_components must be a positive integer, got {n_components}."
        )
    return int(n_components)


@serialization.register
class MixtureHillSaturation(SaturationTransformation):
    """Saturation that is a weighted mixture of ``n_components`` Hill curves.

    Parameters (model variables ``saturation_<name>``):

    - ``beta`` (channel): the response at the largest scaled spend
      (``x = 1``) on the scaled target; the asymptote is ``beta / m(1)`` with
      ``m(x) = sum_k w_k hill_k(x)``.
    - ``weights`` (channel, component): each segment's share of the channel's
      maximum effect, on the simplex. Default
      :class:`~pmm_mixture.priors.StickBreakingWeights` with ``alpha=0.15``
      (sparse: surplus components shrink toward 0).
    - ``kappa`` (channel, component): half-saturation points, strictly
      increasing in the component. Default
      :class:`~pmm_mixture.priors.OrderedKappa`.
    - ``slope`` (channel, component): Hill slopes, partially pooled per
      channel. Default :class:`~pmm_mixture.priors.PooledSlope`.

    With ``n_components=1`` the curve is PyMC-Marketing's ``HillSaturation``
    with asymptote ``beta * (1 + kappa**slope)``: the same family, with
    ``beta`` measured at ``x = 1``.

    Parameters
    ----------
    n_components : int, default 3
        Number of Hill curves per channel. Specify more than you expect:
        sparse weights prune the surplus.
    priors : dict, optional
        Priors by parameter name (``beta``, ``weights``, ``kappa``, ``slope``):
        a ``Prior`` or any ``VariableFactory``. The component parameters need
        the ``"component"`` dim; ``kappa`` must be ordered (an
        :class:`~pmm_mixture.priors.OrderedKappa`) when ``n_components > 1``.
        Extra dims such as ``"geo"`` may be added to any of them.
    prefix : str, optional
        Variable name prefix, default ``"saturation"``.

    Examples
    --------
    .. code-block:: python

        import numpy as np
        from pmm_mixture import MixtureHillSaturation

        saturation = MixtureHillSaturation(n_components=3)
        prior = saturation.sample_prior(
            coords={"channel": ["tv", "search"]}, draws=50, random_seed=1
        )
        curve = saturation.sample_curve(prior, max_value=2.0)
        assert curve.sizes["x"] == 100
        assert np.all(np.diff(curve.values, axis=-1) >= -1e-12)

    """

    def __init__(
        self,
        n_components: int = 3,
        priors: dict[str, Any] | None = None,
        prefix: str | None = None,
    ) -> None:
        self.n_components = _check_n_components(n_components)
        self.default_priors = default_mixture_priors(self.n_components)
        super().__init__(priors=_convert_dirichlet(deepcopy(priors)), prefix=prefix)
        self._check_component_priors()

    default_priors = default_mixture_priors(3)

    def function(self, x, beta, weights, kappa, slope, *, dim: str | None = None):
        """Mixture of Hill curves, summed over the ``component`` dim.

        Scaled so that the response at ``x = 1`` is ``beta``.
        """
        weights, kappa, slope = (
            _as_component_xtensor(value) for value in (weights, kappa, slope)
        )
        hill = hill_function(x, slope, kappa)
        # hill at the reference spend x = 1 is 1 / (1 + kappa**slope); in log
        # space so that a kappa far above the data cannot overflow the gradient
        at_one = ptx.math.sigmoid(-slope * ptx.math.log(kappa))
        at_reference = (weights * at_one).sum(COMPONENT_DIM)
        return beta * (weights * hill).sum(COMPONENT_DIM) / at_reference

    def update_priors(self, priors: dict[str, Any]) -> None:
        """Update priors by variable name (as ``MMM(model_config=...)`` does).

        The same checks as at construction apply to the result.
        """
        super().update_priors(priors)
        self._function_priors = _convert_dirichlet(self._function_priors)
        self._check_component_priors()

    def to_dict(self) -> dict[str, Any]:
        """Serialize, including ``n_components``."""
        return {**super().to_dict(), "n_components": self.n_components}

    def __repr__(self) -> str:
        """Representation with the number of components."""
        return (
            f"{type(self).__name__}(n_components={self.n_components}, "
            f"prefix={self.prefix!r}, priors={self.function_priors})"
        )

    def _infer_output_core_dims(self) -> tuple[str, ...]:
        # The component dims are summed out inside ``function``: the curve's
        # dims are those of the channel data, which is what the MMM checks.
        return tuple(
            dim
            for dim in super()._infer_output_core_dims()
            if dim not in (COMPONENT_DIM, STEP_DIM)
        )

    def _create_distributions(self, idx=None):
        ensure_component_coords(pm.modelcontext(None), self.n_components)
        return super()._create_distributions(idx=idx)

    def _check_component_priors(self) -> None:
        for name in COMPONENT_PARAMETERS:
            prior = self.function_priors[name]
            dims = getattr(prior, "dims", None)
            if isinstance(prior, xr.DataArray):
                dims = prior.dims
            dims = (dims,) if isinstance(dims, str) else tuple(dims or ())
            if COMPONENT_DIM not in dims:
                raise ValueError(
                    f"The {name!r} prior of MixtureHillSaturation needs the "
                    f"{COMPONENT_DIM!r} dim (e.g. dims=('channel', 'component')); "
                    f"got dims={dims or None}."
                )
        weights = self.function_priors["weights"]
        if isinstance(weights, Prior):
            raise ValueError(
                "The 'weights' prior must lie on the simplex: use "
                "StickBreakingWeights, DirichletWeights or Prior('Dirichlet', "
                f"a=..., dims=(..., 'component')); got Prior({weights.distribution!r})."
            )
        if self.n_components > 1:
            _check_orderable(self.function_priors["kappa"])


def _convert_dirichlet(priors: dict[str, Any] | None) -> dict[str, Any] | None:
    weights = (priors or {}).get("weights")
    if isinstance(weights, Prior) and weights.distribution == "Dirichlet":
        if not weights.dims or weights.dims[-1] != COMPONENT_DIM:
            raise ValueError(
                "The 'weights' prior of MixtureHillSaturation needs the "
                f"{COMPONENT_DIM!r} dim last (e.g. dims=('channel', 'component')); "
                f"got dims={weights.dims}."
            )
        priors = {**priors, "weights": DirichletWeights.from_prior(weights)}
    return priors


def _check_orderable(kappa: Any) -> None:
    if getattr(kappa, "is_ordered", False):
        return
    if isinstance(kappa, xr.DataArray):
        steps = kappa.diff(COMPONENT_DIM)
        if bool((steps > 0).all()) and bool((kappa > 0).all()):
            return
        raise ValueError(
            "Fixed 'kappa' values must be positive and strictly increasing along "
            f"{COMPONENT_DIM!r}; got {kappa.values.tolist()}."
        )
    raise ValueError(
        "The 'kappa' prior cannot be ordered: with n_components > 1 kappa must "
        f"increase strictly along {COMPONENT_DIM!r} to remove label switching, "
        f"and {type(kappa).__name__} does not guarantee it. Use "
        "pmm_mixture.priors.OrderedKappa (its log_first and log_gap priors are "
        "replaceable)."
    )


def _as_component_xtensor(value: Any) -> Any:
    if isinstance(value, xr.DataArray):
        return as_xtensor(np.asarray(value.values), dims=value.dims)
    return value
