#!/usr/bin/env bash
# Upstream contract tests: PyMC-Marketing's own saturation, lift-test and
# incrementality tests, with MixtureHillSaturation added to their saturation
# parametrizations (see CONTRIBUTING.md, "Upstream contract tests").
#
#   scripts/upstream/contract_tests.sh                 # the mixture cases
#   scripts/upstream/contract_tests.sh --upstream-all  # and the built-ins' cases
#
# Steps: download the source distribution of the installed pymc-marketing
# version (its tests ship in it), unpack its tests/ into a temporary folder,
# add the mixture to the three files' parametrizations (patch_upstream_tests.py;
# nothing else in them changes), install the test-only modules they import that
# the environment lacks, and run pytest on them with mixture_contract_plugin.py,
# which keeps the mixture cases, marks the ones no mixture can pass as strict
# xfails with the reason, and prints one line per case. Exits non-zero if a
# mixture case expected to pass does not. Extra arguments go to pytest.
# $VENV (default .venv) is the environment; $UPSTREAM_SDIST_DIR, if set, is
# where the sdist is downloaded to and reused from (otherwise a temporary one).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=sdist.sh
source "$HERE/sdist.sh"
fetch_sdist
# Only the tests: the sdist's own pymc_marketing/ would shadow the installed
# package once pytest puts the folder on sys.path.
upstream="$work/upstream"
mkdir -p "$upstream"
tar -xzf "$sdist" -C "$upstream" --strip-components=1 "pymc_marketing-$version/tests"

"$PY" "$HERE/patch_upstream_tests.py" "$upstream"

install_missing_test_modules "$upstream"

cd "$upstream"
start=$(date +%s)
status=0
PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m pytest \
    -p mixture_contract_plugin -p no:cacheprovider \
    -o addopts="" --rootdir "$upstream" -q -rN \
    tests/mmm/components/test_saturation.py tests/mmm/test_lift_test.py \
    tests/mmm/test_incrementality.py "$@" || status=$?
echo "upstream contract tests (pymc-marketing $version): exit $status," \
    "$(( $(date +%s) - start )) s of pytest"
exit $status
