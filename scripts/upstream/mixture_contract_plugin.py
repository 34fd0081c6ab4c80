"""Pytest plugin for running PyMC-Marketing's own tests on the mixture.

Loaded with ``-p mixture_contract_plugin`` (this folder on ``PYTHONPATH``) by
``scripts/upstream/contract_tests.sh``, over upstream test files that
``patch_upstream_tests.py`` has edited. It

- imports ``pmm_mixture`` first, so that the mixture and its priors are in
  PyMC-Marketing's serialization registry before any test module is collected
  (with ``MIXTURE_FROM_UPSTREAM`` set, the patch series' mixture inside a
  patched PyMC-Marketing instead, and no case is expected to fail);
- finds the mixture cases: those whose parameters hold a
  ``MixtureHillSaturation`` (class or instance, alone or in a tuple) or its
  type key;
- deselects every other case unless ``--upstream-all`` is given (the built-in
  saturations are upstream's business, and the whole files take far longer);
- reports the cases in :data:`EXPECTED_FAILURES` as xfails, with their
  reason, when they fail with the error stated there; if one passes or fails
  otherwise, the run fails, so the list cannot go stale or hide a new error;
- prints one line per mixture case (PASS, FAIL with the error, XFAIL with the
  reason) and writes them as JSON to ``--mixture-report`` if given;
- fails the session if no mixture case was collected from one of the files,
  so that a patch that matched nothing cannot pass.

Nothing here changes PyMC-Marketing or pmm_mixture.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymc_marketing.mmm.lift_test import MissingValueError

#: Set (to any value) by scripts/upstream/patch_series.sh: the mixture is the
#: one the patch series adds to PyMC-Marketing, and every case must pass.
FROM_UPSTREAM = bool(os.environ.get("MIXTURE_FROM_UPSTREAM"))
if FROM_UPSTREAM:
    from pymc_marketing.mmm import MixtureHillSaturation
else:
    import pmm_mixture  # noqa: F401  (registers the mixture's serialization types)
    from pmm_mixture import MixtureHillSaturation

TEST_FILES = (
    "tests/mmm/components/test_saturation.py",
    "tests/mmm/test_lift_test.py",
    "tests/mmm/test_incrementality.py",
)


@dataclass(frozen=True)
class ExpectedFailure:
    """A mixture case no mixture can pass: how it must fail, and why."""

    raises: type[BaseException]
    match: str  # regular expression the error message must contain
    reason: str


#: Mixture cases that no mixture saturation can pass, by test file and test
#: function (all the mixture's cases of that function). They count as
#: expected failures only when they fail with the stated error; a pass or any
#: other error fails the run.
EXPECTED_FAILURES = {
    (
        "tests/mmm/components/test_saturation.py",
        "test_roundtrip_all_parameters",
    ): ExpectedFailure(
        ValueError,
        # the test's prefix is "custom_sat": the dim is 'custom_sat_component'
        r"The 'weights' prior of MixtureHillSaturation\(n_components=3\) needs "
        r"the '\w*component' dim",
        "sets every prior, 'weights' and 'kappa' of the 3-component mixture "
        "included, to one plain Prior('HalfNormal', sigma=0.5): weights with no "
        "component dim are not on the simplex and one kappa for all components "
        "cannot be ordered, so the constructor refuses them",
    ),
    (
        "tests/mmm/test_lift_test.py",
        "test_add_lift_measurements_to_likelihood_from_saturation",
    ): ExpectedFailure(
        MissingValueError,
        r"The value \['component'\] is missing",
        "calls upstream's add_saturation_observations directly, which needs a "
        "column in the lift-test table for every dim of the saturation's "
        "variables; the mixture's weights, kappa and slope have the component "
        "dim, which the curve sums over and no lift table has (the test's has "
        "channel and date). pmm_mixture.add_lift_test_measurements keeps that "
        "dim whole; upstream would need add_saturation_observations to skip "
        "the dims the saturation reduces (CONTRIBUTING.md, upstream item 1)",
    ),
}

if FROM_UPSTREAM:
    # the patch series adapts the roundtrip test and adds reduced dims to the
    # lift-test functions: nothing is expected to fail
    EXPECTED_FAILURES = {}

_results: dict[str, dict[str, str]] = {}
_mixture_ids: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the contract run."""
    group = parser.getgroup("mixture contract")
    group.addoption(
        "--upstream-all",
        action="store_true",
        default=False,
        help="also run the built-in saturations' cases",
    )
    group.addoption(
        "--mixture-report",
        default=None,
        help="write the mixture cases' outcomes to this JSON file",
    )


def _holds_mixture(value: object) -> bool:
    if isinstance(value, MixtureHillSaturation):
        return True
    if isinstance(value, type) and issubclass(value, MixtureHillSaturation):
        return True
    if isinstance(value, str):
        return value.endswith("MixtureHillSaturation")
    if isinstance(value, tuple | list):
        return any(_holds_mixture(v) for v in value)
    return False


def is_mixture_case(item: pytest.Item) -> bool:
    """Whether one of the case's parameters is the mixture."""
    callspec = getattr(item, "callspec", None)
    return callspec is not None and any(
        _holds_mixture(v) for v in callspec.params.values()
    )


def expected_failure(item: pytest.Item) -> ExpectedFailure | None:
    """Return the item's entry in :data:`EXPECTED_FAILURES`, if any."""
    path = item.nodeid.split("::", 1)[0]
    return EXPECTED_FAILURES.get((path, getattr(item, "originalname", item.name)))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Keep the mixture cases (all cases with --upstream-all)."""
    keep, drop = [], []
    for item in items:
        if is_mixture_case(item):
            _mixture_ids.append(item.nodeid)
            keep.append(item)
        elif config.getoption("--upstream-all"):
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    missing = [
        name
        for name in TEST_FILES
        if not any(i.startswith(f"{name}::") for i in _mixture_ids)
    ]
    if missing:
        raise pytest.UsageError(f"No mixture case was collected from {missing}.")
    matched = {
        key
        for item in keep
        if item.nodeid in _mixture_ids and (key := _key(item)) in EXPECTED_FAILURES
    }
    if unknown := set(EXPECTED_FAILURES) - matched:
        raise pytest.UsageError(f"Expected failures not collected: {sorted(unknown)}")


def _key(item: pytest.Item) -> tuple[str, str]:
    return item.nodeid.split("::", 1)[0], getattr(item, "originalname", item.name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Turn an expected failure into an xfail, if it failed as stated.

    As pytest's strict xfail, but the error's type and message are checked
    too: failing for another reason, or passing, fails the case.
    """
    outcome = yield
    if call.when != "call" or item.nodeid not in _mixture_ids:
        return
    expected = expected_failure(item)
    if expected is None:
        return
    report = outcome.get_result()
    error = call.excinfo
    if error is None:
        report.outcome = "failed"
        report.longrepr = f"[XPASS(strict)] expected to fail: {expected.reason}"
    elif error.errisinstance(expected.raises) and re.search(
        expected.match, str(error.value)
    ):
        report.outcome = "skipped"
        report.wasxfail = expected.reason


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Record each mixture case's outcome (a failing setup counts as a fail)."""
    if report.nodeid not in _mixture_ids:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            outcome = "XFAIL" if report.skipped else "XPASS(strict)"
            detail = report.wasxfail
        elif report.passed:
            outcome, detail = "PASS", ""
        elif report.skipped:
            outcome, detail = "SKIP", str(report.longrepr[-1])
        else:
            outcome = "FAIL"
            crash = getattr(report.longrepr, "reprcrash", None)
            detail = crash.message if crash else str(report.longrepr)
        _results[report.nodeid] = {"outcome": outcome, "detail": detail}
    elif report.when == "teardown" and report.failed:
        _results[report.nodeid] = {"outcome": "FAIL", "detail": "teardown failed"}


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """One line per mixture case, then the counts."""
    write = terminalreporter.write_line
    terminalreporter.section("MixtureHillSaturation in upstream's tests")
    for nodeid in _mixture_ids:
        result = _results.get(nodeid, {"outcome": "NOT RUN", "detail": ""})
        detail = result["detail"].splitlines()[0][:160] if result["detail"] else ""
        write(
            f"{result['outcome']:<8} {nodeid}" + (f"\n         {detail}" * bool(detail))
        )
    outcomes = [r["outcome"] for r in _results.values()]
    write(
        f"mixture cases: {len(_mixture_ids)}, passed {outcomes.count('PASS')}, "
        f"expected failures {outcomes.count('XFAIL')}, "
        f"failed {len(_mixture_ids) - outcomes.count('PASS') - outcomes.count('XFAIL')}"
    )
    if path := config.getoption("--mixture-report"):
        Path(path).write_text(
            json.dumps(
                [{"case": n, **_results.get(n, {})} for n in _mixture_ids], indent=1
            )
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail when a mixture case that should pass did not run to a pass."""
    bad = [
        n
        for n in _mixture_ids
        if _results.get(n, {}).get("outcome") not in ("PASS", "XFAIL")
    ]
    if bad and session.exitstatus == 0:
        session.exitstatus = 1
