"""Structured priors for the components of a mixture saturation.

Each class here is a :class:`pymc_marketing.special_priors.SpecialPrior` and a
:class:`pymc_extras.prior.VariableFactory`: it has ``dims``,
``create_variable(name, xdist=False)``, ``sample_prior`` and
``to_dict``/``from_dict``, so it can be passed wherever PyMC-Marketing accepts a
``Prior`` and is saved and loaded with the model. The last entry of ``dims`` must be the
component dimension (``"component"``); the dims before it (``"channel"``, and
for example ``"geo"``) are the *outer* dims the structure is repeated over.

- :class:`StickBreakingWeights`: sparse truncated stick-breaking weights.
- :class:`DirichletWeights`: symmetric Dirichlet weights.
- :class:`OrderedKappa`: half-saturation points strictly increasing along the
  component dim, with a spacing prior between neighbours.
- :class:`PooledSlope`: Hill slopes partially pooled on the log scale,
  non-centred.

The number of components is read from the model's ``"component"`` coordinate,
which :class:`pmm_mixture.MixtureHillSaturation` adds before creating variables.
Structures of length ``K - 1`` (stick breaks, kappa gaps) use the coordinate
``"component_step"``.

Examples
--------
>>> import pymc as pm
>>> from pmm_mixture.priors import OrderedKappa
>>> coords = {
...     "channel": ["tv", "radio"],
...     "component": [0, 1, 2],
...     "component_step": [0, 1],
... }
>>> with pm.Model(coords=coords):
...     kappa = OrderedKappa().create_variable("kappa")
>>> draws = pm.draw(kappa, draws=100, random_seed=1)
>>> draws.shape
(100, 2, 3)
>>> bool((draws[..., 1:] > draws[..., :-1]).all())
True

A string is one dim:

>>> OrderedKappa(dims="component").dims
('component',)

"""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any, ClassVar

import numpy as np
import pymc as pm
import pymc.dims as pmd
import pytensor.xtensor as ptx
import xarray as xr
from pymc_extras.deserialize import deserialize, register_deserialization
from pymc_extras.prior import Prior
from pymc_marketing.serialization import serialization
from pymc_marketing.special_priors import SpecialPrior
from pytensor.xtensor import as_xtensor
from pytensor.xtensor.type import XTensorVariable

COMPONENT_DIM = "component"
STEP_DIM = "component_step"
#: Smallest first half-saturation point of the default :class:`OrderedKappa`
#: prior, as a fraction of the largest (max-scaled) spend.
KAPPA_FLOOR = 0.04
#: Rate of the default Gamma(4, rate) prior on the log-gap between neighbouring
#: kappas of :class:`OrderedKappa`: a mean ratio of 2.5 between neighbours.
DEFAULT_GAP_RATE = float(4.0 / np.log(2.5))

_POSITIVE_DISTRIBUTIONS = frozenset(
    {
        "Exponential",
        "Gamma",
        "HalfCauchy",
        "HalfNormal",
        "HalfStudentT",
        "InverseGamma",
        "LogNormal",
        "Weibull",
    }
)


def is_component_dim(dim: str) -> bool:
    """Whether ``dim`` names a mixture's component dim.

    ``"component"`` (the default prefix's) or ``"<prefix>_component"``.
    """
    return dim == COMPONENT_DIM or dim.endswith(f"_{COMPONENT_DIM}")


def step_dim_of(component_dim: str) -> str:
    """Return the ``K - 1`` dim that goes with ``component_dim`` (``"<it>_step"``)."""
    return f"{component_dim}_step"


def component_dims_for_prefix(prefix: str) -> tuple[str, str]:
    """Component and step dim names of a mixture with variable prefix ``prefix``.

    ``("component", "component_step")`` for the default prefix
    ``"saturation"`` (the names of existing fits), else
    ``(f"{prefix}_component", f"{prefix}_component_step")``, so that two
    mixtures can live in one model.

    Examples
    --------
    >>> component_dims_for_prefix("saturation")
    ('component', 'component_step')
    >>> component_dims_for_prefix("saturation_b")
    ('saturation_b_component', 'saturation_b_component_step')
    """
    component = COMPONENT_DIM if prefix == "saturation" else f"{prefix}_{COMPONENT_DIM}"
    return component, step_dim_of(component)


def ensure_component_coords(
    model: pm.Model, n_components: int, component_dim: str = COMPONENT_DIM
) -> None:
    """Add the ``component_dim`` (and its step) coordinates to ``model``.

    Existing coordinates are kept when their length matches ``n_components``.

    Raises
    ------
    ValueError
        If the model already has a ``component_dim`` coordinate of another
        length.

    """
    step_dim = step_dim_of(component_dim)
    existing = model.coords.get(component_dim)
    if existing is not None and len(existing) != n_components:
        raise ValueError(
            f"The model already has a {component_dim!r} coordinate of length "
            f"{len(existing)}, but the saturation has n_components={n_components}."
        )
    if existing is None:
        model.add_coord(component_dim, list(range(n_components)))
    if n_components > 1 and step_dim not in model.coords:
        model.add_coord(step_dim, list(range(n_components - 1)))


def _n_components(model: pm.Model, component_dim: str = COMPONENT_DIM) -> int:
    if component_dim not in model.coords:
        raise ValueError(
            f"The model has no {component_dim!r} coordinate. Add it with "
            f"`model.add_coord({component_dim!r}, range(K))` or build the variable "
            "through MixtureHillSaturation, which adds it."
        )
    return len(model.coords[component_dim])


def component_prior_dims(
    dims: tuple[str, ...] | list[str] | str | None, owner: str = "ComponentPrior"
) -> tuple[str, ...]:
    """Normalize the ``dims`` of a component prior.

    A string is one dim; ``None`` is the component dim alone. The component
    dim (``"component"`` or ``"<prefix>_component"``) must come last, and no
    other component or component-step dim may come before it.

    Examples
    --------
    >>> component_prior_dims("component")
    ('component',)
    >>> component_prior_dims(("geo", "channel", "saturation_b_component"))
    ('geo', 'channel', 'saturation_b_component')
    >>> component_prior_dims("channel")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: ComponentPrior needs dims ending in 'component' ...
    """
    if dims is None:
        dims = (COMPONENT_DIM,)
    dims = (dims,) if isinstance(dims, str) else tuple(dims)
    outer = dims[:-1]
    if (
        not dims
        or not is_component_dim(dims[-1])
        or any(
            is_component_dim(d) or (d.endswith("_step") and is_component_dim(d[:-5]))
            for d in outer
        )
        or len(set(dims)) != len(dims)
    ):
        raise ValueError(
            f"{owner} needs dims ending in {COMPONENT_DIM!r} (or "
            f"'<prefix>_{COMPONENT_DIM}'), with no other component dim, got "
            f"dims={dims}."
        )
    return dims


def rename_component_dims(value: Any, component_dim: str) -> Any:
    """Copy of a prior or constant with its component dims named for a mixture.

    Every component dim (``"component"``, ``"<prefix>_component"``) becomes
    ``component_dim`` and every component-step dim its ``"<...>_step"``, in
    the value's own dims and in those of its parameters (hyperpriors). Works
    on ``Prior``, :class:`ComponentPrior`, ``xarray.DataArray`` and
    ``XTensorVariable`` values; anything else is returned as it is. Returns
    ``value`` itself when nothing needs renaming.

    Examples
    --------
    >>> from pymc_extras.prior import Prior
    >>> prior = Prior("HalfNormal", dims=("channel", "component"))
    >>> rename_component_dims(prior, "saturation_b_component").dims
    ('channel', 'saturation_b_component')
    """
    step_dim = step_dim_of(component_dim)

    def new_name(dim: str) -> str:
        if is_component_dim(dim):
            return component_dim
        if dim.endswith("_step") and is_component_dim(dim[:-5]):
            return step_dim
        return dim

    def new_dims(dims: Any) -> Any:
        if dims is None:
            return None
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        return tuple(new_name(d) for d in dims)

    if isinstance(value, ComponentPrior):
        parameters = {
            k: rename_component_dims(v, component_dim)
            for k, v in value.parameters.items()
        }
        dims = new_dims(value.dims)
        if dims == value.dims and all(
            parameters[k] is value.parameters[k] for k in parameters
        ):
            return value
        renamed = deepcopy(value)
        renamed.parameters = parameters
        renamed.dims = dims
        renamed._outer_dims_set = value.outer_dims_set
        return renamed
    if isinstance(value, Prior):
        parameters = {
            k: rename_component_dims(v, component_dim)
            for k, v in value.parameters.items()
        }
        dims = new_dims(value.dims)
        core_dims = new_dims(getattr(value, "core_dims", ()))
        if (
            dims == value.dims
            and core_dims == tuple(getattr(value, "core_dims", ()))
            and all(parameters[k] is value.parameters[k] for k in parameters)
        ):
            return value
        return Prior(
            value.distribution,
            dims=dims,
            centered=value.centered,
            transform=value.transform,
            core_dims=core_dims,
            **parameters,
        )
    if isinstance(value, xr.DataArray):
        mapping = {d: new_name(d) for d in value.dims if new_name(d) != d}
        return value.rename(mapping) if mapping else value
    if isinstance(value, XTensorVariable):
        mapping = {d: new_name(d) for d in value.type.dims if new_name(d) != d}
        return value.rename(mapping) if mapping else value
    return value


def _with_dims(prior: Any, dims: tuple[str, ...]) -> Any:
    """Return a copy of ``prior`` with ``dims`` if it has none."""
    if not hasattr(prior, "create_variable"):
        return prior
    prior = deepcopy(prior)
    if prior.dims is None or prior.dims == ():
        prior.dims = dims
    return prior


def _create(value: Any, name: str) -> Any:
    """Create a sub-variable from a prior, or pass a constant through."""
    if hasattr(value, "create_variable"):
        return value.create_variable(name, xdist=True)
    if isinstance(value, xr.DataArray):
        return as_xtensor(value.values, dims=value.dims)
    return value


def _output(var: XTensorVariable, dims: tuple[str, ...], xdist: bool) -> Any:
    return var if xdist else var.transpose(*dims).values


def _deserialize(value: Any) -> Any:
    return deserialize(value) if isinstance(value, dict) else value


class ComponentPrior(SpecialPrior):
    """Base class of the structured component priors.

    A :class:`pymc_marketing.special_priors.SpecialPrior`: it serializes to
    ``{"special_prior": <class name>, "kwargs": {...}, "dims": [...]}`` (with
    the ``__type__`` key of PyMC-Marketing's registry), deserializes through
    :func:`pymc_extras.deserialize.deserialize`, and has ``sample_prior``.
    Subclasses set ``parameter_names`` and implement ``_build``, which returns
    the variable as an ``XTensorVariable`` with dims ``self.dims``, using
    :attr:`component_dim` and :attr:`step_dim` for the component structure.

    ``dims`` ends with the component dim; the dims before it are the *outer*
    dims. A string is read as one dim, when given and when assigned later
    (see :func:`component_prior_dims`). ``dims=None`` leaves the
    outer dims unset, as ``Prior(dims=None)`` does: the variable then has the
    component dim alone, and :meth:`MixtureHillSaturation.with_default_prior_dims
    <pmm_mixture.MixtureHillSaturation.with_default_prior_dims>` (which the MMM
    calls) gives it the channel dim. Unset outer dims serialize as no ``dims``.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        dims: tuple[str, ...] | str | None = ("channel", COMPONENT_DIM),
        **parameters: Any,
    ) -> None:
        super().__init__(
            dims=dims,
            centered=True,
            **{name: deepcopy(v) for name, v in parameters.items()},
        )

    def _checks(self) -> None:
        if unknown := set(self.parameters) - set(self.parameter_names):
            raise ValueError(
                f"Unknown parameters {sorted(unknown)} for {type(self).__name__}; "
                f"expected {list(self.parameter_names)}."
            )

    @property
    def dims(self) -> tuple[str, ...]:
        """All dims of the variable, the component dim last."""
        return self._dims

    @dims.setter
    def dims(self, dims: tuple[str, ...] | list[str] | str | None) -> None:
        self._dims = component_prior_dims(dims, type(self).__name__)
        self._outer_dims_set = dims is not None

    @property
    def outer_dims_set(self) -> bool:
        """False while the outer dims are unset (built with ``dims=None``)."""
        return self._outer_dims_set

    @property
    def outer_dims(self) -> tuple[str, ...]:
        """Dims the component structure is repeated over (all but the last)."""
        return self.dims[:-1]

    @property
    def component_dim(self) -> str:
        """The component dim: the last of :attr:`dims`."""
        return self.dims[-1]

    @property
    def step_dim(self) -> str:
        """The ``K - 1`` dim of stick breaks and kappa gaps."""
        return step_dim_of(self.component_dim)

    def create_variable(self, name: str, xdist: bool = False) -> Any:
        """Create the variable ``name`` in the current model.

        Parameters
        ----------
        name : str
            Name of the variable; sub-variables are prefixed with it.
        xdist : bool, default False
            Return an ``XTensorVariable`` with named dims instead of a tensor.

        """
        model = pm.modelcontext(None)
        var = self._build(name, _n_components(model, self.component_dim))
        return _output(var, self.dims, xdist)

    def _build(self, name: str, n_components: int) -> XTensorVariable:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict (``SpecialPrior``'s format)."""
        data = super().to_dict()
        if self.outer_dims_set:
            data["dims"] = list(self.dims)
        else:
            data.pop("dims", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComponentPrior:
        """Rebuild from :meth:`to_dict` output.

        Also reads the earlier format (``{"dims": ...,
        "parameters": {...}}``), so saved models and priors files still load.
        """
        serialized = data.get("kwargs", data.get("parameters", {}))
        parameters = {k: _deserialize(v) for k, v in serialized.items()}
        dims = data.get("dims")
        return cls(dims=None if dims is None else tuple(dims), **parameters)

    def __eq__(self, other: object) -> bool:
        """Equal when the class and the serialized form agree."""
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    __hash__ = SpecialPrior.__hash__

    def __repr__(self) -> str:
        """Readable representation."""
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({params}, dims={self.dims})"


class StickBreakingWeights(ComponentPrior):
    r"""Sparse truncated stick-breaking weights over the component dim.

    .. math::

        v_k \sim \mathrm{Beta}(1, \alpha),\quad
        w_1 = v_1,\quad w_k = v_k \prod_{j<k} (1 - v_j),\quad
        w_K = \prod_{j<K} (1 - v_j)

    A small ``alpha`` puts most of the mass on the first components, so
    surplus components are pruned toward zero weight; ``E[w_k]`` decreases
    geometrically in ``k``. Each break is sampled as
    ``S_k = -log(1 - v_k) ~ Exponential(alpha)``, the same prior with a
    geometry NUTS handles for small ``alpha``: the variable ``{name}_stick``
    with dims ``(*outer_dims, "component_step")``. The weights are the
    deterministic ``{name}``. With one component the weight is fixed at 1.

    With ``min_remainder`` set, each break is truncated so that it leaves at
    least that share of the stick, ``v_k <= 1 - min_remainder``, i.e.
    ``S_k <= -log(min_remainder)``. The break is then sampled through its
    inverse CDF from ``{name}_stick_u ~ Uniform(0, 1)`` (same dims) and
    ``{name}_stick`` is a deterministic. A pruned component then keeps at
    least ``min_remainder`` of what the earlier breaks left, instead of a
    weight that can fall to 1e-15, where the data no longer inform the break.

    This is the truncated process of :class:`pymc.StickBreakingWeights`, built
    from ``pymc.dims`` Beta breaks so that the weights carry named dims (the
    xtensor graph of PyMC-Marketing 1.x needs them) and prior predictive
    draws follow the same construction.

    Parameters
    ----------
    alpha : float or Prior, default 0.5
        Concentration of the breaks; a ``Prior`` learns it (its dims must be a
        subset of the outer dims). 0.5 is the sparsity chosen by the
        resolvability study (``benchmarks/resolvability.py``): counting
        distinct segments (:mod:`pmm_mixture.evidence`), it detected a second
        segment 4x or more apart in 6 of 6 fits and counted one on 1 of 30
        one-segment data sets; 0.15, the earlier default, detected 3 of 6.
    min_remainder : float, optional
        Truncate each break so that it leaves at least this share of the
        stick (between 0 and 1). ``None``, the default, does not truncate.
    dims : tuple of str, default ("channel", "component")

    Examples
    --------
    >>> import pymc as pm
    >>> from pmm_mixture.priors import StickBreakingWeights
    >>> coords = {
    ...     "channel": ["tv"],
    ...     "component": [0, 1, 2, 3],
    ...     "component_step": [0, 1, 2],
    ... }
    >>> with pm.Model(coords=coords) as model:
    ...     weights = StickBreakingWeights(alpha=0.5).create_variable("w")
    >>> model.named_vars_to_dims["w_stick"]
    ('channel', 'component_step')
    >>> draws = pm.draw(weights, draws=10, random_seed=1)
    >>> bool(abs(draws.sum(-1) - 1).max() < 1e-12)
    True

    """

    parameter_names = ("alpha", "min_remainder")

    def __init__(
        self,
        alpha: float | Prior = 0.5,
        dims: tuple[str, ...] | str | None = ("channel", COMPONENT_DIM),
        min_remainder: float | None = None,
    ) -> None:
        if not hasattr(alpha, "create_variable") and not float(alpha) > 0:
            raise ValueError(f"alpha must be positive, got {alpha}.")
        # min_remainder is stored only when set, so that the untruncated
        # prior serializes as before
        parameters: dict[str, Any] = {"alpha": alpha}
        if min_remainder is not None:
            if not 0 < float(min_remainder) < 1:
                raise ValueError(
                    f"min_remainder must be between 0 and 1, got {min_remainder}."
                )
            parameters["min_remainder"] = float(min_remainder)
        super().__init__(dims=dims, **parameters)

    def _build(self, name: str, n_components: int) -> XTensorVariable:
        if n_components == 1:
            ones = as_xtensor(np.ones(1), dims=(self.component_dim,))
            zeros = _zeros(self.outer_dims)
            return pmd.Deterministic(
                name, (ones + zeros).transpose(*self.dims), dims=self.dims
            )
        alpha = _create(self.parameters["alpha"], f"{name}_alpha")
        # v ~ Beta(1, alpha) is sampled as S = -log(1 - v) ~ Exponential(alpha):
        # the same prior, but log(S) has a light upper tail where logit(v) has
        # a heavy one (rate alpha), which NUTS explores badly for small alpha.
        step_dims = (*self.outer_dims, self.step_dim)
        min_remainder = self.parameters.get("min_remainder")
        if min_remainder is None:
            log_breaks = pmd.Exponential(f"{name}_stick", lam=alpha, dims=step_dims)
        else:
            # Exponential(alpha) truncated to [0, S_max] by its inverse CDF:
            # S = -log(1 - u * (1 - exp(-alpha * S_max))) / alpha, u ~ U(0, 1)
            uniform = pmd.Uniform(f"{name}_stick_u", lower=0, upper=1, dims=step_dims)
            cdf_at_max = -ptx.math.expm1(alpha * np.log(min_remainder))
            log_breaks = pmd.Deterministic(
                f"{name}_stick",
                -ptx.math.log1p(-uniform * cdf_at_max) / alpha,
                dims=step_dims,
            )
        log_breaks = log_breaks.rename({self.step_dim: self.component_dim})
        breaks = -ptx.math.expm1(-log_breaks)
        one = ptx.ones_like(breaks.isel({self.component_dim: slice(0, 1)}))
        # w = (v_1, ..., v_{K-1}, 1) * (1, r_1, ..., r_{K-1}),
        # r_k = prod_{j<=k} (1 - v_j) = exp(-sum_{j<=k} S_j)
        remaining = ptx.math.exp(-log_breaks.cumsum(self.component_dim))
        weights = ptx.concat([breaks, one], dim=self.component_dim) * ptx.concat(
            [one, remaining], dim=self.component_dim
        )
        return pmd.Deterministic(name, weights.transpose(*self.dims), dims=self.dims)


class DirichletWeights(ComponentPrior):
    """Dirichlet weights over the component dim.

    A concentration below 1 is sparse. A single number gives the symmetric
    Dirichlet, which, unlike stick-breaking, treats every component alike a
    priori; a sequence gives one concentration per component.

    Parameters
    ----------
    concentration : float or sequence of float, default 0.5
        The Dirichlet parameter: one value for every component, or one per
        component.
    dims : tuple of str, default ("channel", "component")

    Examples
    --------
    >>> from pmm_mixture import MixtureHillSaturation
    >>> from pmm_mixture.priors import DirichletWeights
    >>> saturation = MixtureHillSaturation(
    ...     n_components=4, priors={"weights": DirichletWeights(concentration=0.3)}
    ... )
    >>> prior = saturation.sample_prior(
    ...     coords={"channel": ["tv", "radio"]}, draws=10, random_seed=1
    ... )
    >>> bool(abs(prior["saturation_weights"].sum("component") - 1).max() < 1e-9)
    True
    """

    parameter_names = ("concentration",)

    def __init__(
        self,
        concentration: float | Sequence[float] | np.ndarray = 0.5,
        dims: tuple[str, ...] | str | None = ("channel", COMPONENT_DIM),
    ) -> None:
        values = np.asarray(concentration, dtype=float)
        if values.ndim > 1 or not (values > 0).all():
            raise ValueError(
                "concentration must be a positive number or a 1-d sequence of "
                f"positive numbers, got {concentration!r}."
            )
        value = float(values) if values.ndim == 0 else values.tolist()
        super().__init__(dims=dims, concentration=value)

    def _build(self, name: str, n_components: int) -> XTensorVariable:
        concentration = np.asarray(self.parameters["concentration"], dtype=float)
        if concentration.ndim and len(concentration) != n_components:
            raise ValueError(
                f"DirichletWeights has {len(concentration)} concentrations for "
                f"{n_components} components."
            )
        a = np.broadcast_to(concentration, (n_components,)).copy()
        a = as_xtensor(a, dims=(self.component_dim,))
        return pmd.Dirichlet(name, a=a, core_dims=self.component_dim, dims=self.dims)

    @classmethod
    def from_prior(cls, prior: Prior) -> DirichletWeights:
        """Equivalent of ``Prior("Dirichlet", a=..., dims=...)``.

        pymc-extras 0.15 drops a ``Prior``'s ``core_dims`` when it is deep
        copied, as the MMM does with its saturation, so a Dirichlet ``Prior``
        would lose its simplex dim; this factory keeps it.
        """
        a = np.asarray(getattr(prior.parameters["a"], "values", prior.parameters["a"]))
        return cls(concentration=a, dims=prior.dims)


class OrderedKappa(ComponentPrior):
    r"""Half-saturation points strictly increasing along the component dim.

    .. math::

        \log\kappa_1 \sim p_{\text{first}},\qquad
        \log\kappa_{k+1} = \log\kappa_k + g_k,\quad g_k \sim p_{\text{gap}} > 0

    Ordering removes label switching. A gap prior with zero density at zero
    (the default ``Gamma(alpha=4)``) keeps neighbouring components from
    collapsing onto the same point. Sub-variables: ``{name}_log_first``
    (outer dims) and ``{name}_log_gap`` (outer dims and ``"component_step"``).

    Parameters
    ----------
    log_first : Prior
        Prior of the log of the smallest kappa. Default
        ``TruncatedNormal(mu=log(0.2), sigma=0.7, lower=log(0.04))``: on
        max-scaled spend, 95 % of the mass between 0.06 and 0.8, and none
        below 0.04. The floor keeps the smallest kappa away from zero: a
        channel whose segments all half-saturate at a few percent of the
        largest spend has a curve that is a step at zero spend, which trades
        off against the intercept and makes NUTS diverge.
    log_gap : Prior
        Prior of the log-ratio of neighbouring kappas; must have positive
        support. Default ``Gamma(alpha=4, beta=4 / log(2.5))``: neighbours
        2.5x apart on average, 95 % between 1.4x and 5.9x, whatever the
        number of components. Components closer than 2x cannot be told
        apart (:mod:`pmm_mixture.evidence` merges them) and only make a ridge
        along which their weights trade off; the convergence probe
        (``benchmarks/convergence.py``) had fewer divergent fits with this
        prior than with the earlier spread of 6x over all components.
    dims : tuple of str, default ("channel", "component")

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_extras.prior import Prior
    >>> from pmm_mixture.priors import OrderedKappa
    >>> kappa = OrderedKappa(
    ...     log_first=Prior("Normal", mu=np.log(0.1), sigma=0.5),
    ...     log_gap=Prior("Gamma", alpha=3, beta=4),
    ... )
    >>> kappa.outer_dims, kappa.component_dim, kappa.step_dim
    (('channel',), 'component', 'component_step')

    A gap prior that can be negative would not order kappa:

    >>> OrderedKappa(log_gap=Prior("Normal"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: OrderedKappa's log_gap prior must have positive support...

    """

    parameter_names = ("log_first", "log_gap")
    is_ordered: ClassVar[bool] = True

    def __init__(
        self,
        log_first: Prior | None = None,
        log_gap: Prior | None = None,
        dims: tuple[str, ...] | str | None = ("channel", COMPONENT_DIM),
    ) -> None:
        log_first = log_first or Prior(
            "TruncatedNormal",
            mu=float(np.log(0.2)),
            sigma=0.7,
            lower=float(np.log(KAPPA_FLOOR)),
        )
        log_gap = log_gap or Prior("Gamma", alpha=4.0, beta=DEFAULT_GAP_RATE)
        if isinstance(log_gap, Prior) and log_gap.distribution not in (
            _POSITIVE_DISTRIBUTIONS
        ):
            raise ValueError(
                "OrderedKappa's log_gap prior must have positive support so kappa "
                f"increases strictly; got {log_gap.distribution!r}. Use one of "
                f"{sorted(_POSITIVE_DISTRIBUTIONS)}."
            )
        super().__init__(dims=dims, log_first=log_first, log_gap=log_gap)

    def _build(self, name: str, n_components: int) -> XTensorVariable:
        log_first = _create(
            _with_dims(self.parameters["log_first"], self.outer_dims),
            f"{name}_log_first",
        )
        log_first = as_xtensor(log_first) + _zeros(self.outer_dims)
        log_kappa = log_first.expand_dims(self.component_dim)
        if n_components > 1:
            gaps = _create(
                _with_dims(
                    self.parameters["log_gap"], (*self.outer_dims, self.step_dim)
                ),
                f"{name}_log_gap",
            )
            rest = log_first + gaps.rename({self.step_dim: self.component_dim}).cumsum(
                self.component_dim
            )
            log_kappa = ptx.concat([log_kappa, rest], dim=self.component_dim)
        kappa = ptx.math.exp(log_kappa)
        return pmd.Deterministic(name, kappa.transpose(*self.dims), dims=self.dims)


class PooledSlope(ComponentPrior):
    r"""Hill slopes partially pooled on the log scale, non-centred.

    .. math::

        \log s_{c,k} = \mu_c + \sigma z_{c,k},\qquad z_{c,k} \sim N(0, 1)

    Sub-variables: ``{name}_log_mu`` (outer dims unless the prior sets its
    own, e.g. ``dims=()`` for one model-level mean), ``{name}_log_sigma``
    (scalar unless the prior sets dims) and ``{name}_offset`` (all dims).
    With one component and a mean per outer cell (the default) there is
    nothing to pool: the slope is ``exp(log_mu)``, with no spread or offset.

    Parameters
    ----------
    log_mu : Prior
        Prior of the mean log-slope. Default ``Normal(mu=log(1.5), sigma=0.35)``:
        median slope 1.5 (mildly S-shaped), 95 % between 0.75 and 3. A wider
        ``sigma=0.5`` let channels drift to slopes near 0.1, where the curve is
        almost a step at zero spend and ``beta`` trades off against the
        intercept; NUTS diverged there.
    log_sigma : Prior
        Prior of the spread of log-slopes around the mean. Default
        ``HalfNormal(sigma=0.15)``: a channel's segments differ in slope by
        about 20 % or less. With a wider spread (0.3) one surplus component
        could take a shallow slope at a low kappa, a step at zero spend that
        trades off against the intercept, where NUTS diverged.
    dims : tuple of str, default ("channel", "component")

    Examples
    --------
    One model-level mean instead of one per channel:

    >>> import pymc as pm
    >>> from pymc_extras.prior import Prior
    >>> from pmm_mixture.priors import PooledSlope
    >>> slope = PooledSlope(log_mu=Prior("Normal", mu=0.4, sigma=0.3, dims=()))
    >>> coords = {"channel": ["tv", "radio"], "component": [0, 1]}
    >>> with pm.Model(coords=coords) as model:
    ...     variable = slope.create_variable("slope")
    >>> model.named_vars_to_dims.get("slope_log_mu", ())
    ()
    >>> bool((pm.draw(variable, draws=5, random_seed=1) > 0).all())
    True

    """

    parameter_names = ("log_mu", "log_sigma")

    def __init__(
        self,
        log_mu: Prior | None = None,
        log_sigma: Prior | None = None,
        dims: tuple[str, ...] | str | None = ("channel", COMPONENT_DIM),
    ) -> None:
        log_mu = log_mu or Prior("Normal", mu=float(np.log(1.5)), sigma=0.35)
        log_sigma = log_sigma or Prior("HalfNormal", sigma=0.15)
        super().__init__(dims=dims, log_mu=log_mu, log_sigma=log_sigma)

    def _build(self, name: str, n_components: int) -> XTensorVariable:
        log_mu_prior = self.parameters["log_mu"]
        if getattr(log_mu_prior, "dims", ()) is None:
            log_mu_prior = _with_dims(log_mu_prior, self.outer_dims)
        log_mu = as_xtensor(_create(log_mu_prior, f"{name}_log_mu"))
        if n_components == 1 and set(log_mu.dims) >= set(self.outer_dims):
            # Nothing to pool: one slope per mean. An offset and a spread on
            # top would be a second parameter for the same slope, a ridge
            # that NUTS has to walk along.
            slope = ptx.math.exp(log_mu + _zeros(self.dims))
            return pmd.Deterministic(name, slope.transpose(*self.dims), dims=self.dims)
        log_sigma = as_xtensor(
            _create(self.parameters["log_sigma"], f"{name}_log_sigma")
        )
        offset = pmd.Normal(f"{name}_offset", mu=0.0, sigma=1.0, dims=self.dims)
        slope = ptx.math.exp(log_mu + log_sigma * offset)
        return pmd.Deterministic(name, slope.transpose(*self.dims), dims=self.dims)


def _zeros(dims: tuple[str, ...]) -> XTensorVariable:
    """Zeros with the model's lengths for ``dims``, to broadcast against."""
    model = pm.modelcontext(None)
    shape = tuple(len(model.coords[dim]) for dim in dims)
    return as_xtensor(np.zeros(shape), dims=dims)


def _register(cls: type[ComponentPrior]) -> type[ComponentPrior]:
    serialization.register(cls)
    type_key = f"{cls.__module__}.{cls.__qualname__}"
    register_deserialization(
        is_type=lambda data: (
            isinstance(data, dict) and data.get("__type__") == type_key
        ),
        deserialize=lambda data: cls.from_dict(data),
    )
    return cls


for _cls in (StickBreakingWeights, DirichletWeights, OrderedKappa, PooledSlope):
    _register(_cls)
