#!/usr/bin/env bash
# The upstream pull request as a patch series (scripts/upstream/patches/,
# written by make_patch_series.py from the package's sources): check that it is
# up to date with the package, apply it to the pinned pymc-marketing sdist, and
# run the patched PyMC-Marketing's tests of the mixture and its docs notebook
# (short chains; see CONTRIBUTING.md,
# "The upstream patch series").
#
#   scripts/upstream/patch_series.sh          # check, apply, test
#   scripts/upstream/patch_series.sh --write  # regenerate the patches first
#
# The patched package is imported from the unpacked sdist (PYTHONPATH); the
# environment's pymc_marketing and pmm_mixture are not used by the tests.
# $VENV (default .venv) is the environment; $UPSTREAM_SDIST_DIR, if set, is
# where the sdist is downloaded to and reused from.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=sdist.sh
source "$HERE/sdist.sh"
fetch_sdist
pristine="$work/pristine"
tree="$work/pymc-marketing"
mkdir -p "$pristine" "$tree"
tar -xzf "$sdist" -C "$pristine" --strip-components=1
tar -xzf "$sdist" -C "$tree" --strip-components=1

if [ "${1:-}" = "--write" ]; then
    "$PY" "$HERE/make_patch_series.py" "$pristine"
    shift
else
    "$PY" "$HERE/make_patch_series.py" "$pristine" --check
fi

for patch in "$HERE"/patches/*.patch; do
    git -C "$tree" apply --whitespace=nowarn "$patch" \
        || { echo "patch_series: $(basename "$patch") does not apply" >&2; exit 1; }
    echo "applied $(basename "$patch")"
done

install_missing_test_modules "$tree"

cd "$tree"
start=$(date +%s)
status=0
# upstream's own tests, the mixture's cases (no expected failures here)
MIXTURE_FROM_UPSTREAM=1 PYTHONPATH="$tree:$HERE" "$PY" -m pytest \
    -p mixture_contract_plugin -p no:cacheprovider -o addopts="" \
    --rootdir "$tree" -q -rN \
    tests/mmm/components/test_saturation.py tests/mmm/test_lift_test.py \
    tests/mmm/test_incrementality.py "$@" || status=$?
# the tests the series adds
PYTHONPATH="$tree" "$PY" -m pytest -p no:cacheprovider -o addopts="" \
    --rootdir "$tree" -q -p no:warnings \
    tests/mmm/components/test_mixture_saturation.py \
    tests/test_mixture_special_priors.py "$@" || status=$?
# the docs notebook, top to bottom with short chains (its "parameters" cell
# replaced), against the patched package
notebook=docs/source/notebooks/mmm/mmm_mixture_hill.ipynb
PYTHONPATH="$tree" "$PY" - "$notebook" <<'PYEOF' || status=$?
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

path = Path(sys.argv[1])
notebook = nbformat.read(path, as_version=4)
cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
assert len(cells) == 1, "the notebook needs one cell tagged 'parameters'"
cells[0].source = "chains, tune, draws = 2, 100, 100"
NotebookClient(notebook, timeout=900, resources={"metadata": {"path": str(path.parent)}}).execute()
print(f"executed {path} with short chains")
PYEOF
echo "upstream patch series (pymc-marketing $version): exit $status," \
    "$(( $(date +%s) - start )) s of pytest"
exit $status
