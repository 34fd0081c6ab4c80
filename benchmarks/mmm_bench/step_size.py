"""One NUTS step size for all chains after warmup (NumPyro backend).

Benchmark-only: it reproduces the committed runs made with ``--mixture-step-size
min`` or ``median`` (the full tier at ``target_accept=0.999`` before the
priors of ``benchmarks/convergence.py``). It swaps in a replacement for the
private ``pymc.sampling.jax._sample_numpyro_nuts`` inside a ``with`` block,
which is why it is not part of the ``pmm_mixture`` package: the package's
fits use NumPyro's own per-chain adaptation.

NumPyro adapts the step size of every chain on its own. In the benchmark's
mixture fits the chains of one fit ended warmup with step sizes up to 2.4x
apart, and in 5 of 7 fits with a divergent transition the divergence was in
the chain with the largest one; with the smallest for every chain, all 70
fits of the full tier were free of divergences. :func:`common_step_size` lets
each chain adapt as usual, then makes all chains sample with the smallest
adapted step size (or another statistic of them). Any fixed step size after
warmup leaves NUTS a valid MCMC kernel; a smaller one only integrates more
accurately, at the price of more leapfrog steps.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np

__all__ = ["STEP_SIZE_STATISTICS", "common_step_size"]

STEP_SIZE_STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "min": np.min,
    "median": np.median,
}

#: PyMC's extra NumPyro fields, turned into ``sample_stats`` by PyMC.
_EXTRA_FIELDS = (
    "num_steps",
    "potential_energy",
    "energy",
    "adapt_state.step_size",
    "accept_prob",
    "diverging",
)


def _numpyro_nuts_common_step_size(statistic: str) -> Callable[..., tuple]:
    """Build a drop-in for ``pymc.sampling.jax._sample_numpyro_nuts``."""
    reduce = STEP_SIZE_STATISTICS[statistic]

    def sample(
        model,
        target_accept: float,
        tune: int,
        draws: int,
        chains: int,
        chain_method: str,
        progressbar: bool,
        random_seed: int,
        initial_points,
        nuts_kwargs: dict[str, Any],
        logp_fn=None,
    ) -> tuple[Any, dict[str, Any], Any]:
        import jax
        import jax.numpy as jnp
        import numpyro
        from numpyro.infer import MCMC, NUTS
        from pymc.sampling.jax import _numpyro_stats_to_dict, get_jaxified_logp

        if logp_fn is None:
            logp_fn = get_jaxified_logp(model, negative_logp=False)
        kernel_kwargs = {
            "adapt_step_size": True,
            "adapt_mass_matrix": True,
            "dense_mass": False,
            **nuts_kwargs,
        }
        kernel = NUTS(
            potential_fn=logp_fn, target_accept_prob=target_accept, **kernel_kwargs
        )
        mcmc = MCMC(
            kernel,
            num_warmup=tune,
            num_samples=draws,
            num_chains=chains,
            postprocess_fn=None,
            chain_method=chain_method,
            progress_bar=progressbar,
        )
        rng_key = jax.random.PRNGKey(random_seed)
        if chains > 1:
            rng_key = jax.random.split(rng_key, chains)
        mcmc.warmup(rng_key, init_params=initial_points, extra_fields=_EXTRA_FIELDS)

        state = mcmc.post_warmup_state
        adapted = np.asarray(state.adapt_state.step_size)
        shared = jnp.full_like(state.adapt_state.step_size, reduce(adapted))
        mcmc.post_warmup_state = state._replace(
            adapt_state=state.adapt_state._replace(step_size=shared)
        )
        mcmc.run(mcmc.post_warmup_state.rng_key, extra_fields=_EXTRA_FIELDS)

        samples = mcmc.get_samples(group_by_chain=True)
        stats = _numpyro_stats_to_dict(mcmc)
        # keep what each chain adapted to, so the change can be inspected
        n_draws = stats["step_size"].shape[-1]
        stats["adapted_step_size"] = np.repeat(
            adapted.reshape(-1, 1), n_draws, axis=1
        ).reshape(stats["step_size"].shape)
        return samples, stats, numpyro

    return sample


@contextmanager
def common_step_size(statistic: Literal["min", "median"] = "min") -> Iterator[None]:
    """Sample all NumPyro NUTS chains with one step size after warmup.

    Inside the ``with`` block, every ``pm.sample(nuts_sampler="numpyro")``
    (hence every ``MMM.fit(nuts_sampler="numpyro")``) warms up each chain as
    usual, then sets every chain's step size to ``statistic`` of the adapted
    step sizes before drawing. Each chain keeps its own adapted mass matrix.
    ``sample_stats`` gains ``adapted_step_size``, the step size each chain had
    adapted to; ``step_size`` is the one it sampled with.

    Parameters
    ----------
    statistic : {"min", "median"}
        How the chains' adapted step sizes are combined. ``"min"`` (default)
        gives every chain the smallest, the most cautious choice.

    Raises
    ------
    ValueError
        If ``statistic`` is not one of :data:`STEP_SIZE_STATISTICS`.
    RuntimeError
        If the installed PyMC does not sample NumPyro through
        ``pymc.sampling.jax._sample_numpyro_nuts`` with the arguments this
        replacement takes (the hook this relies on), before anything is
        replaced.

    Examples
    --------
    .. code-block:: python

        import numpy as np
        import pymc as pm

        from mmm_bench.step_size import common_step_size

        with pm.Model():
            pm.Normal("x", 0.0, 1.0, shape=2)
            with common_step_size():
                idata = pm.sample(
                    draws=100, tune=100, chains=2, nuts_sampler="numpyro",
                    progressbar=False, random_seed=1,
                )
        step = idata.sample_stats["step_size"].values
        assert np.allclose(step, step.min())
    """
    if statistic not in STEP_SIZE_STATISTICS:
        raise ValueError(
            f"statistic must be one of {sorted(STEP_SIZE_STATISTICS)}, "
            f"got {statistic!r}."
        )
    import pymc
    import pymc.sampling.jax as pymc_jax

    original = getattr(pymc_jax, "_sample_numpyro_nuts", None)
    if original is None:
        raise RuntimeError(
            "common_step_size needs pymc.sampling.jax._sample_numpyro_nuts, which "
            f"PyMC {pymc.__version__} does not have; pin the PyMC version in "
            "pyproject.toml."
        )
    replacement = _numpyro_nuts_common_step_size(statistic)
    expected = list(inspect.signature(replacement).parameters)
    if list(inspect.signature(original).parameters) != expected:
        raise RuntimeError(
            "common_step_size expects pymc.sampling.jax._sample_numpyro_nuts"
            f"({', '.join(expected)}), which PyMC {pymc.__version__} has changed; "
            "pin the PyMC version in pyproject.toml."
        )
    pymc_jax._sample_numpyro_nuts = replacement
    try:
        yield
    finally:
        pymc_jax._sample_numpyro_nuts = original
