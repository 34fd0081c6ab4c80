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
In an MMM, the default priors get the channel dim, as the built-in
saturations' do (``beta`` gets all the MMM's dims; the component parameters
the channel dim, and are shared across extra dims such as ``geo``):

>>> from pymc_marketing.mmm import MMM, GeometricAdstock
>>> from pmm_mixture import MixtureHillSaturation
>>> mmm = MMM(
...     date_column="date",
...     channel_columns=["tv", "search"],
...     target_column="y",
...     adstock=GeometricAdstock(l_max=6),
...     saturation=MixtureHillSaturation(n_components=5),
... )
>>> mmm.saturation.function_priors["kappa"].dims
('channel', 'component')
>>> mmm.saturation.function_priors["beta"].dims
('channel',)

On its own, with default priors, it is one curve (no channel dim), and
``sample_prior`` needs no coords:

>>> import numpy as np
>>> saturation = MixtureHillSaturation(n_components=3)
>>> prior = saturation.sample_prior(draws=20, random_seed=1)
>>> prior["saturation_weights"].dims
('chain', 'draw', 'component')
>>> curve = saturation.sample_curve(prior, max_value=2.0)
>>> curve.dims
('chain', 'draw', 'x')
>>> bool((np.diff(curve.values, axis=-1) >= -1e-12).all())
True

"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from copy import deepcopy
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr
from pymc_extras.prior import Prior, VariableFactory
from pymc_marketing.mmm.components.saturation import SaturationTransformation
from pymc_marketing.mmm.transformers import hill_function
from pymc_marketing.serialization import serialization
from pytensor import xtensor as ptx
from pytensor.xtensor import as_xtensor
from pytensor.xtensor.type import XTensorVariable

from pmm_mixture.priors import (
    ComponentPrior,
    DirichletWeights,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
    component_dims_for_prefix,
    ensure_component_coords,
    is_component_dim,
    rename_component_dims,
)
from pmm_mixture.validation import check_model_data

COMPONENT_PARAMETERS = ("weights", "kappa", "slope")
DEFAULT_PREFIX = "saturation"


def default_mixture_priors(n_components: int) -> dict[str, Any]:
    """Default priors of :class:`MixtureHillSaturation`.

    All leave their outer dims unset (``beta`` ``dims=None``, the component
    priors ``dims=None``: the component dim alone), as the built-in
    saturations' defaults do; ``MixtureHillSaturation.with_default_prior_dims``
    (which the MMM calls) gives ``beta`` the MMM's dims and the component
    priors the channel dim, so the component parameters are shared across
    extra dims such as ``geo``.

    Examples
    --------
    >>> priors = default_mixture_priors(3)
    >>> sorted(priors)
    ['beta', 'kappa', 'slope', 'weights']
    >>> priors["kappa"].dims, priors["kappa"].outer_dims_set
    (('component',), False)
    """
    return {
        "beta": Prior("HalfNormal", sigma=1.5),
        "weights": StickBreakingWeights(alpha=0.5, dims=None),
        "kappa": OrderedKappa(dims=None),
        "slope": PooledSlope(dims=None),
    }


def mixture_hill_function(
    x: Any,
    beta: Any,
    weights: Any,
    kappa: Any,
    slope: Any,
    *,
    component_dims: Sequence[str] = ("component",),
) -> Any:
    r"""Mixture of Hill curves, scaled so that the response at ``x = 1`` is ``beta``.

    .. math::

        f(x) = \beta\,\frac{\sum_k w_k\,\mathrm{hill}(x; s_k, \kappa_k)}
                           {\sum_k w_k\,\mathrm{hill}(1; s_k, \kappa_k)}

    with ``hill`` PyMC-Marketing's :func:`hill_function` (argument order
    ``x, slope, kappa``). The sums run over those of ``component_dims`` that
    the parameters have and ``x`` has not; a parameter without them is shared
    by the components.

    Parameters
    ----------
    x : XTensorVariable
        Spend in the model's channel scale (1 = the largest spend).
    beta : XTensorVariable or float
        Response at ``x = 1``.
    weights, kappa, slope : XTensorVariable or float
        Component parameters: shares on the simplex, half-saturation points,
        Hill slopes.
    component_dims : sequence of str, default ("component",)
        Dims summed over.

    Returns
    -------
    XTensorVariable
        The dims of ``x`` in their order, then the parameters' other dims.

    Examples
    --------
    >>> import numpy as np
    >>> from pytensor.xtensor import as_xtensor
    >>> x = as_xtensor(np.array([0.0, 0.5, 1.0]), dims=("x",))
    >>> curve = mixture_hill_function(
    ...     x,
    ...     beta=2.0,
    ...     weights=as_xtensor(np.array([0.5, 0.5]), dims=("component",)),
    ...     kappa=as_xtensor(np.array([0.1, 2.0]), dims=("component",)),
    ...     slope=as_xtensor(np.array([2.0, 2.0]), dims=("component",)),
    ... )
    >>> np.round(curve.eval(), 3).tolist()
    [0.0, 1.715, 2.0]
    """
    weights, kappa, slope = (_as_parameter(v) for v in (weights, kappa, slope))
    hill = hill_function(x, slope, kappa)
    # log of hill at the reference spend x = 1
    log_at_one = _log_sigmoid(-slope * ptx.math.log(kappa))
    reduced = sorted(
        {d for v in (weights, kappa, slope) for d in _dims(v) if d in component_dims}
        - set(_dims(x))
    )

    def total(value):
        return value.sum(reduced) if reduced else value

    # Both sums are divided by the largest hill(1) over the components (at
    # most exp(700), so that the scaled sum stays finite). When every kappa
    # sits far above the data, hill(1) is tiny for all of them and the square
    # of the plain denominator, which its gradient needs, underflows to 0: a
    # NaN gradient.
    shift_dims = [d for d in reduced if d in log_at_one.dims]
    shift = log_at_one.max(shift_dims) if shift_dims else log_at_one
    shift = ptx.math.maximum(shift, -700.0)
    numerator = total(weights * hill) * ptx.math.exp(-shift)
    denominator = total(weights * ptx.math.exp(log_at_one - shift))
    return _in_order_of(beta * numerator / denominator, x)


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

    Parameters (model variables ``<prefix>_<name>``):

    - ``beta``: the response at the largest scaled spend (``x = 1``) on the
      scaled target; the asymptote is ``beta / m(1)`` with
      ``m(x) = sum_k w_k hill_k(x)``.
    - ``weights`` (component dim): each segment's share of the channel's
      maximum effect, on the simplex. Default
      :class:`~pmm_mixture.priors.StickBreakingWeights` with ``alpha=0.5``
      (sparse: surplus components shrink toward 0; count segments with
      :func:`pmm_mixture.evidence.distinct_segments`, which merges
      components whose kappas are within 2x).
    - ``kappa`` (component dim): half-saturation points, strictly increasing
      in the component. Default :class:`~pmm_mixture.priors.OrderedKappa`.
    - ``slope`` (component dim, or none): Hill slopes, partially pooled per
      channel. Default :class:`~pmm_mixture.priors.PooledSlope`.

    With ``n_components=1`` the curve is PyMC-Marketing's ``HillSaturation``
    with asymptote ``beta * (1 + kappa**slope)``: the same family, with
    ``beta`` measured at ``x = 1``.

    The curve sums over the component dim only where the parameters have it:
    ``slope`` may be given without it (one slope shared by a channel's
    segments), and with ``n_components=1`` any parameter may (e.g. plain
    channel priors for ``kappa`` and ``slope``; the weight of the single
    segment cancels out of the curve). With more components ``weights`` must
    be on the simplex and ``kappa`` ordered, both along the component dim.
    The output keeps the input's dim order, the parameters' other dims after.

    Dims as the built-in saturations take them: a string is one dim, the
    default priors leave their outer dims unset (one curve when used on its
    own; the MMM gives them the channel dim through
    :meth:`with_default_prior_dims`), and :meth:`set_dims_for_all_priors`
    keeps the component dim of the component parameters.

    Parameters
    ----------
    n_components : int, default 3
        Number of Hill curves per channel. Specify more than you expect:
        sparse weights prune the surplus.
    priors : dict, optional
        Priors by parameter name (``beta``, ``weights``, ``kappa``, ``slope``):
        a ``Prior``, any ``VariableFactory``, or a constant. Component dims are
        written ``"component"`` whatever the prefix (they are renamed to the
        prefix's, below); ``kappa`` must be ordered (an
        :class:`~pmm_mixture.priors.OrderedKappa`) when ``n_components > 1``.
        Extra dims such as ``"geo"`` may be added to any of them.
    prefix : str, optional
        Variable name prefix, default ``"saturation"``. The component dims
        are ``"component"`` and ``"component_step"`` for the default prefix
        (the names of existing fits) and ``"<prefix>_component"`` and
        ``"<prefix>_component_step"`` for any other, so that mixtures with
        different prefixes can live in one model.

    Examples
    --------
    Per-channel priors on their own (the MMM does this itself):

    >>> import numpy as np
    >>> from pmm_mixture import MixtureHillSaturation
    >>> saturation = MixtureHillSaturation(n_components=3).with_default_prior_dims(
    ...     ("channel",)
    ... )
    >>> prior = saturation.sample_prior(
    ...     coords={"channel": ["tv", "search"]}, draws=50, random_seed=1
    ... )
    >>> prior["saturation_kappa"].dims
    ('chain', 'draw', 'channel', 'component')
    >>> curve = saturation.sample_curve(prior, max_value=2.0)
    >>> curve.sizes["x"], curve.sizes["channel"]
    (100, 2)
    >>> bool(np.all(curve.diff("x") >= -1e-12))
    True

    Without the coords the priors need, ``sample_prior`` says which:

    >>> saturation.sample_prior()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: ...sample_prior needs coords for the dims ['channel'] of its priors...

    Two mixtures in one model, each with its own component dims:

    >>> import pymc as pm
    >>> from pytensor.xtensor import as_xtensor
    >>> x = as_xtensor(np.ones((4, 2)), dims=("date", "channel"))
    >>> with pm.Model(coords={"channel": ["tv", "search"]}) as model:
    ...     online = MixtureHillSaturation(n_components=2).apply(x, core_dim="date")
    ...     offline = MixtureHillSaturation(n_components=3, prefix="offline").apply(
    ...         x, core_dim="date"
    ...     )
    >>> model.named_vars_to_dims["offline_weights"]
    ('offline_component',)
    >>> sorted(model.coords)[1:3]
    ['component', 'component_step']
    >>> sorted(model.coords)[3:]
    ['offline_component', 'offline_component_step']
    >>> online.type.dims, offline.type.dims
    (('date', 'channel'), ('date', 'channel'))

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

    @property
    def prefix(self) -> str:
        """Variable name prefix; setting it renames the component dims too."""
        return self.__dict__.get("_prefix", DEFAULT_PREFIX)

    @prefix.setter
    def prefix(self, prefix: str) -> None:
        self._prefix = prefix
        if "_function_priors" in self.__dict__:
            self._rename_component_dims()

    @property
    def component_dim(self) -> str:
        """``"component"`` for the default prefix, else ``"<prefix>_component"``."""
        return component_dims_for_prefix(self.prefix)[0]

    @property
    def step_dim(self) -> str:
        """The ``K - 1`` dim of stick breaks and kappa gaps."""
        return component_dims_for_prefix(self.prefix)[1]

    @property
    def reduced_dims(self) -> frozenset[str]:
        """Dims of the parameters that the curve sums over (never data dims)."""
        return frozenset({self.component_dim, self.step_dim})

    def function(self, x, beta, weights, kappa, slope, *, dim: str | None = None):
        """Mixture of Hill curves, summed over the component dim where present.

        :func:`mixture_hill_function` with this mixture's component dims:
        scaled so that the response at ``x = 1`` is ``beta``. The result has
        the dims of ``x`` in their order, then the parameters' other dims.
        """
        component_dims = {
            d
            for value in (weights, kappa, slope)
            for d in _dims(value)
            if is_component_dim(d)
        }
        return mixture_hill_function(
            x, beta, weights, kappa, slope, component_dims=sorted(component_dims)
        )

    def update_priors(self, priors: dict[str, Any]) -> None:
        """Update priors by variable name (as ``MMM(model_config=...)`` does).

        The same checks as at construction apply to the result.
        """
        super().update_priors(priors)
        self._function_priors = _convert_dirichlet(self._function_priors)
        self._rename_component_dims()
        self._check_component_priors()

    def with_default_prior_dims(self, dims: tuple[str, ...] | str) -> Any:
        """Copy with the unset dims of the priors set; the MMM calls it.

        ``beta`` (and any other prior with ``dims=None``) gets ``dims``; the
        component parameters get the last of them (the channel dim) before
        their component dim, so the mixture's structure is per channel and
        shared across the other dims, e.g. ``("geo", "channel")``.

        Examples
        --------
        >>> saturation = MixtureHillSaturation(n_components=2)
        >>> priors = saturation.with_default_prior_dims(
        ...     ("geo", "channel")
        ... ).function_priors
        >>> priors["beta"].dims, priors["weights"].dims
        (('geo', 'channel'), ('channel', 'component'))
        """
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        new = deepcopy(self)
        for name, prior in new.function_priors.items():
            if name not in COMPONENT_PARAMETERS:
                if isinstance(prior, VariableFactory) and prior.dims is None:
                    prior.dims = dims
            elif isinstance(prior, ComponentPrior):
                if not prior.outer_dims_set:
                    prior.dims = (*dims[-1:], prior.component_dim)
            elif isinstance(prior, VariableFactory) and prior.dims is None:
                prior.dims = dims[-1:]
        return new

    def set_dims_for_all_priors(self, dims: tuple[str, ...] | str | None) -> Any:
        """Set the dims of every prior, keeping the component parameters' one.

        ``dims`` (a string is one dim) replaces the dims of each prior; the
        component parameters that have the component dim keep it, last.
        Constants are left as they are.

        Examples
        --------
        >>> saturation = MixtureHillSaturation().set_dims_for_all_priors("channel")
        >>> saturation.function_priors["slope"].dims
        ('channel', 'component')
        >>> saturation.function_priors["beta"].dims
        ('channel',)
        """
        if isinstance(dims, str):
            dims = (dims,)
        outer = tuple(d for d in dims or () if not is_component_dim(d))
        for name, prior in self.function_priors.items():
            if not isinstance(prior, VariableFactory):
                continue
            if isinstance(prior, ComponentPrior):
                prior.dims = None if dims is None else (*outer, prior.component_dim)
            elif name in COMPONENT_PARAMETERS and self.component_dim in (
                prior.dims or ()
            ):
                prior.dims = (*outer, self.component_dim)
            else:
                prior.dims = None if dims is None else tuple(dims)
        return self

    def sample_prior(
        self, coords: dict | None = None, **sample_prior_predictive_kwargs: Any
    ) -> xr.Dataset:
        """Sample the priors; the component coordinates are added.

        Parameters
        ----------
        coords : dict, optional
            Coordinates of the priors' dims other than the component dims
            (e.g. ``{"channel": [...]}``); none are needed with the default
            priors.
        **sample_prior_predictive_kwargs
            Passed to ``pm.sample_prior_predictive`` (``draws``,
            ``random_seed``, ...).

        Raises
        ------
        ValueError
            Naming the dims whose coords are missing, and the priors that use
            them.
        """
        coords = dict(coords or {})
        missing: dict[str, set[str]] = {}
        for name, prior in self.function_priors.items():
            for dim in _all_dims(prior):
                if dim not in coords and dim not in self.reduced_dims:
                    missing.setdefault(dim, set()).add(name)
        if missing:
            users = sorted(set().union(*missing.values()))
            raise ValueError(
                f"{type(self).__name__}.sample_prior needs coords for the dims "
                f"{sorted(missing)} of its priors ({', '.join(users)}): pass them "
                f"as coords={{{', '.join(f'{d!r}: [...]' for d in sorted(missing))}}}."
            )
        return super().sample_prior(coords=coords, **sample_prior_predictive_kwargs)

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
            if not is_component_dim(dim) and dim not in self.reduced_dims
        )

    def _create_distributions(self, idx=None):
        # negative or infinite spend and an infinite target fail here, before
        # any sampling (pmm_mixture.validation names the column and rows)
        check_model_data(pm.modelcontext(None))
        self._rename_component_dims()
        ensure_component_coords(
            pm.modelcontext(None), self.n_components, self.component_dim
        )
        return super()._create_distributions(idx=idx)

    def _rename_component_dims(self) -> None:
        """Name the priors' component dims after this mixture's prefix."""
        self._function_priors = {
            name: rename_component_dims(prior, self.component_dim)
            for name, prior in self._function_priors.items()
        }

    def _check_component_priors(self) -> None:
        component_dim, n_components = self.component_dim, self.n_components
        for name in COMPONENT_PARAMETERS:
            prior = self.function_priors[name]
            dims = _dims(prior)
            if component_dim in dims or name == "slope" or n_components == 1:
                continue
            raise ValueError(
                f"The {name!r} prior of MixtureHillSaturation(n_components="
                f"{n_components}) needs the {component_dim!r} dim (e.g. "
                f"dims=('channel', {component_dim!r})); got dims={dims or None}. "
                "Only 'slope' may leave it out (one slope for all components), "
                "and any parameter when n_components=1."
            )
        weights = self.function_priors["weights"]
        if isinstance(weights, Prior) and component_dim in _dims(weights):
            raise ValueError(
                "The 'weights' prior must lie on the simplex: use "
                "StickBreakingWeights, DirichletWeights or Prior('Dirichlet', "
                f"a=..., dims=(..., 'component')); got Prior({weights.distribution!r})."
            )
        if n_components > 1:
            _check_orderable(self.function_priors["kappa"], component_dim)


def _convert_dirichlet(priors: dict[str, Any] | None) -> dict[str, Any] | None:
    weights = (priors or {}).get("weights")
    if isinstance(weights, Prior) and weights.distribution == "Dirichlet":
        if not weights.dims or not is_component_dim(weights.dims[-1]):
            raise ValueError(
                "The 'weights' prior of MixtureHillSaturation needs the "
                "'component' dim last (e.g. dims=('channel', 'component')); "
                f"got dims={weights.dims}."
            )
        priors = {**priors, "weights": DirichletWeights.from_prior(weights)}
    return priors


def _log_sigmoid(z: Any) -> Any:
    """``log(sigmoid(z))`` with a finite gradient on every backend.

    PyTensor rewrites ``log(sigmoid(.))`` and ``log1p(exp(.))`` to
    ``softplus``, whose JAX version evaluates ``exp`` of its argument and of
    its negative in branches it then discards: beyond ``|z| ~ 709`` one
    overflows and JAX's gradient is NaN. Capping ``|z|`` at 40 inside the
    correction term keeps every branch finite; the error, below
    ``exp(-40)`` in log space, is far under float64's relative precision.
    """
    correction = ptx.math.log1p(ptx.math.exp(-ptx.math.minimum(abs(z), 40.0)))
    return ptx.math.minimum(z, 0.0) - correction


def _check_orderable(kappa: Any, component_dim: str) -> None:
    if getattr(kappa, "is_ordered", False):
        return
    if isinstance(kappa, xr.DataArray):
        steps = kappa.diff(component_dim)
        if bool((steps > 0).all()) and bool((kappa > 0).all()):
            return
        raise ValueError(
            "Fixed 'kappa' values must be positive and strictly increasing along "
            f"{component_dim!r}; got {kappa.values.tolist()}."
        )
    raise ValueError(
        "The 'kappa' prior cannot be ordered: with n_components > 1 kappa must "
        f"increase strictly along {component_dim!r} to remove label switching, "
        f"and {type(kappa).__name__} does not guarantee it. Use "
        "pmm_mixture.priors.OrderedKappa (its log_first and log_gap priors are "
        "replaceable)."
    )


def _dims(value: Any) -> tuple[str, ...]:
    """Return the named dims of a prior, constant or tensor (``()`` for none)."""
    if isinstance(value, XTensorVariable):
        return tuple(value.type.dims)
    dims = getattr(value, "dims", None)
    if dims is None:
        return ()
    return (dims,) if isinstance(dims, str) else tuple(dims)


def _all_dims(value: Any) -> set[str]:
    """Return the dims of a prior and of its hyperpriors."""
    dims = set(_dims(value))
    for parameter in getattr(value, "parameters", {}).values():
        dims |= _all_dims(parameter)
    return dims


def _as_parameter(value: Any) -> Any:
    """Return an ``XTensorVariable`` for a DataArray or number; tensors as given."""
    if isinstance(value, xr.DataArray):
        return as_xtensor(np.asarray(value.values), dims=value.dims)
    if isinstance(value, numbers.Real) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        return as_xtensor(np.asarray(value, dtype=float))
    return value


def _in_order_of(response: Any, x: Any) -> Any:
    """``response`` with the dims of ``x`` first, in their order."""
    if not isinstance(response, XTensorVariable):
        return response
    leading = [d for d in _dims(x) if d in response.type.dims]
    return response.transpose(*leading, ...)
