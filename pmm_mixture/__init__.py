"""pmm_mixture: a mixture-of-Hill-curves saturation for PyMC-Marketing.

Importing the package changes nothing in PyMC-Marketing or PyMC: the mixture
plugs into ``pymc_marketing.mmm.MMM`` as its ``saturation``, lift tests go
through :func:`add_lift_test_measurements` and data checks through
:func:`validate_mmm_data`.

Examples
--------
>>> import pmm_mixture
>>> saturation = pmm_mixture.MixtureHillSaturation(n_components=3)
>>> saturation.n_components
3
>>> sorted(saturation.variable_mapping)
['beta', 'kappa', 'slope', 'weights']
"""

from pmm_mixture.adstock import LaggedGeometricAdstock
from pmm_mixture.evidence import segment_evidence
from pmm_mixture.lift_test import add_lift_test_measurements
from pmm_mixture.pooled_weights import PartiallyPooledWeights
from pmm_mixture.priors import (
    DirichletWeights,
    OrderedKappa,
    PooledSlope,
    StickBreakingWeights,
)
from pmm_mixture.saturation import MixtureHillSaturation, mixture_hill_function
from pmm_mixture.validation import DataValidationError, validate_mmm_data

__all__ = [
    "DataValidationError",
    "DirichletWeights",
    "LaggedGeometricAdstock",
    "MixtureHillSaturation",
    "OrderedKappa",
    "PartiallyPooledWeights",
    "PooledSlope",
    "StickBreakingWeights",
    "add_lift_test_measurements",
    "mixture_hill_function",
    "segment_evidence",
    "validate_mmm_data",
]
__version__ = "0.1.0"
