"""pmm_mixture: a mixture-of-Hill-curves saturation for PyMC-Marketing."""

from pmm_mixture.lift_test import install as _install_lift_test
from pmm_mixture.priors import (
    DirichletWeights,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
)
from pmm_mixture.sampling import common_step_size
from pmm_mixture.saturation import MixtureHillSaturation

_install_lift_test()

__all__ = [
    "DirichletWeights",
    "MixtureHillSaturation",
    "OrderedKappa",
    "PooledSlope",
    "StickBreakingWeights",
    "common_step_size",
]
__version__ = "0.1.0"
