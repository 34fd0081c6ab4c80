"""The docstring examples (``>>>``) run, and give what they show.

Add a module to ``MODULES`` once its examples are doctests; keep them fast
(prior draws, no MCMC).
"""

import doctest
import importlib

import pytest

MODULES = [
    "pmm_mixture.saturation",
    "pmm_mixture.priors",
    "pmm_mixture",
    "pmm_mixture.lift_test",
    "pmm_mixture.summary",
    "pmm_mixture.validation",
    "pmm_mixture.posterior",
    "pmm_mixture.evidence",
    "pmm_mixture.pooled_weights",
    "pmm_mixture.synthetic",
    "pmm_mixture.curves",
    "pmm_mixture.hill",
    "pmm_mixture.adstock",
]

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} has no docstring examples"
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
