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
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

version=$("$PY" -c 'import importlib.metadata as m; print(m.version("pymc-marketing"))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sdist_dir="${UPSTREAM_SDIST_DIR:-$work/sdist}"
mkdir -p "$sdist_dir"
sdist="$sdist_dir/pymc_marketing-$version.tar.gz"
if [ ! -f "$sdist" ]; then
    echo "Downloading the pymc-marketing $version source distribution" >&2
    "$PY" -m pip download "pymc-marketing==$version" --no-deps --no-binary :all: \
        --quiet -d "$sdist_dir" >&2
fi
# Only the tests: the sdist's own pymc_marketing/ would shadow the installed
# package once pytest puts the folder on sys.path.
upstream="$work/upstream"
mkdir -p "$upstream"
tar -xzf "$sdist" -C "$upstream" --strip-components=1 "pymc_marketing-$version/tests"

"$PY" "$HERE/patch_upstream_tests.py" "$upstream"

# Test-only modules imported at module level by the test files, their
# conftests and the test modules they import, that this environment lacks.
missing=$("$PY" "$HERE/missing_test_modules.py" "$upstream" \
    tests/mmm/components/test_saturation.py tests/mmm/test_lift_test.py \
    tests/mmm/test_incrementality.py)
if [ -n "$missing" ]; then
    echo "Installing test-only dependencies: $missing" >&2
    # Constrained to the installed versions: nothing already there changes.
    "$PY" "$HERE/missing_test_modules.py" --pins > "$work/installed.txt"
    # shellcheck disable=SC2086
    "$PY" -m pip install --quiet -c "$work/installed.txt" $missing >&2
fi

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
