r"""Segment shares that vary by group (geo) around a shared, sparse mix.

For panel data (``MMM(dims=("geo",))``) the natural structure is that every
geo sees the same audience segments, with the same response shapes (``kappa``
and ``slope`` shared across geos), but in different proportions: one geo has
more of the early-saturating audience, another more of the late one. Mixtures
whose proportions vary across groups are identifiable where one aggregate
mixture is not, which is why geo panels can show segments a national series
hides.

.. math::

    \log \bar w_{c,\cdot} &= \log \mathrm{StickBreaking}_\alpha(S_{c,\cdot}),
        \quad S_{c,k} \sim \mathrm{Exponential}(\alpha) \\
    w_{g,c,\cdot} &= \mathrm{softmax}_k\left(
        \log \bar w_{c,k} + \sigma\, z_{g,c,k}\right),
        \quad z_{g,c,k} \sim N(0, 1)

The shared mix ``w̄`` is the sparse stick-breaking prior of
:class:`~pmm_mixture.priors.StickBreakingWeights`, computed in log space; each
group's shares scatter around it on the log scale with spread ``sigma``
(non-centred, so NUTS handles small spreads). A component pruned from the
shared mix (``log w̄`` far below zero) stays pruned in every group, so
sparsity is decided once per channel; ``sigma`` moves share among the
segments that exist.

Examples
--------
>>> import numpy as np
>>> import pymc as pm
>>> from pmm_mixture.pooled_weights import PartiallyPooledWeights
>>> coords = {
...     "geo": ["a", "b", "c"],
...     "channel": ["tv"],
...     "component": [0, 1, 2],
...     "component_step": [0, 1],
... }
>>> with pm.Model(coords=coords):
...     prior = PartiallyPooledWeights(alpha=0.5)
...     weights = prior.create_variable("w")
>>> draws = pm.draw(weights, draws=20, random_seed=1)
>>> draws.shape
(20, 3, 1, 3)
>>> bool(np.allclose(draws.sum(-1), 1.0))
True
"""

from __future__ import annotations

import numpy as np
import pymc.dims as pmd
import pytensor.xtensor as ptx
from pymc_extras.prior import Prior
from pytensor.xtensor import as_xtensor
from pytensor.xtensor.type import XTensorVariable

from pmm_mixture.priors import (
    COMPONENT_DIM,
    ComponentPrior,
    _create,
    _register,
    _with_dims,
    _zeros,
)

__all__ = ["PartiallyPooledWeights", "log_stick_breaking_weights"]


def log_stick_breaking_weights(
    log_breaks: XTensorVariable, dim: str = COMPONENT_DIM
) -> XTensorVariable:
    r"""Log weights of truncated stick-breaking from breaks ``S = -log(1 - v)``.

    ``log w_k = log v_k - sum_{j<k} S_j`` for ``k < K`` and
    ``log w_K = -sum_{j<K} S_j``, with ``log v_k = log(1 - exp(-S_k))``: no
    weight is ever rounded to 0 before its log is taken.

    Parameters
    ----------
    log_breaks : XTensorVariable
        The ``K - 1`` breaks ``S`` along ``dim``.
    dim : str, default "component"

    Returns
    -------
    XTensorVariable
        ``K`` log weights along ``dim``.
    """
    first = ptx.zeros_like(log_breaks.isel({dim: slice(0, 1)}))
    log_v = ptx.math.log1mexp(-log_breaks)
    cumulative = log_breaks.cumsum(dim)
    return ptx.concat([log_v, first], dim=dim) + ptx.concat(
        [first, -cumulative], dim=dim
    )


class PartiallyPooledWeights(ComponentPrior):
    """Segment shares per group, partially pooled around a shared sparse mix.

    Use it as the ``weights`` prior of
    :class:`~pmm_mixture.MixtureHillSaturation` in a geo model, with the
    group dim first: ``dims=("geo", "channel", "component")``. Sub-variables:
    ``{name}_stick`` (the shared mix's breaks, dims without the group dim and
    with ``"component_step"``), ``{name}_shared`` (the shared mix),
    ``{name}_sigma`` (spread of the groups' log shares) and ``{name}_offset``
    (standard normal, all dims).

    Parameters
    ----------
    alpha : float, default 0.5
        Concentration of the shared mix's stick breaks (small is sparse).
    sigma : Prior, optional
        Prior of the spread of a group's log shares around the shared mix's.
        Default ``HalfNormal(sigma=0.5)``: a group's share of a segment is
        typically within a factor of about 1.5 of the shared share.
    pooled_dim : str, default "geo"
        The group dim the shares vary over; must be in ``dims``.
    dims : tuple of str, default ("geo", "channel", "component")

    Examples
    --------
    >>> from pmm_mixture import MixtureHillSaturation
    >>> from pmm_mixture.pooled_weights import PartiallyPooledWeights
    >>> saturation = MixtureHillSaturation(
    ...     n_components=3, priors={"weights": PartiallyPooledWeights()}
    ... )
    >>> saturation.function_priors["weights"].dims
    ('geo', 'channel', 'component')
    """

    parameter_names = ("alpha", "sigma", "pooled_dim")

    def __init__(
        self,
        alpha: float = 0.5,
        sigma: Prior | None = None,
        pooled_dim: str = "geo",
        dims: tuple[str, ...] | str = ("geo", "channel", COMPONENT_DIM),
    ) -> None:
        if not float(alpha) > 0:
            raise ValueError(f"alpha must be positive, got {alpha}.")
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        if pooled_dim not in dims[:-1]:
            raise ValueError(
                f"pooled_dim {pooled_dim!r} must be one of the dims before "
                f"{COMPONENT_DIM!r}; got dims={dims}."
            )
        sigma = sigma if sigma is not None else Prior("HalfNormal", sigma=0.5)
        super().__init__(
            dims=dims, alpha=float(alpha), sigma=sigma, pooled_dim=str(pooled_dim)
        )

    @property
    def shared_dims(self) -> tuple[str, ...]:
        """Dims of the shared mix: all but the pooled dim."""
        return tuple(d for d in self.dims if d != self.parameters["pooled_dim"])

    def _build(self, name: str, n_components: int) -> XTensorVariable:
        if n_components == 1:
            ones = as_xtensor(np.ones(1), dims=(self.component_dim,))
            return pmd.Deterministic(
                name,
                (ones + _zeros(self.outer_dims)).transpose(*self.dims),
                dims=self.dims,
            )
        shared_outer = self.shared_dims[:-1]
        log_breaks = pmd.Exponential(
            f"{name}_stick",
            lam=self.parameters["alpha"],
            dims=(*shared_outer, self.step_dim),
        ).rename({self.step_dim: self.component_dim})
        log_shared = log_stick_breaking_weights(log_breaks, dim=self.component_dim)
        pmd.Deterministic(
            f"{name}_shared",
            ptx.math.exp(log_shared).transpose(*self.shared_dims),
            dims=self.shared_dims,
        )
        sigma = as_xtensor(
            _create(_with_dims(self.parameters["sigma"], ()), f"{name}_sigma")
        )
        offset = pmd.Normal(f"{name}_offset", mu=0.0, sigma=1.0, dims=self.dims)
        logits = log_shared + sigma * offset
        weights = ptx.math.softmax(logits, dim=self.component_dim)
        return pmd.Deterministic(name, weights.transpose(*self.dims), dims=self.dims)


_register(PartiallyPooledWeights)
