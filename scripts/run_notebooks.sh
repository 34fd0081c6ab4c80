#!/usr/bin/env bash
# Execute every notebook in notebooks/ top to bottom.
#
#   scripts/run_notebooks.sh                 # PMM_NOTEBOOK_MODE=reduced (default):
#                                            # short fits, executed copies go to a
#                                            # temporary directory (committed outputs
#                                            # are never touched)
#   PMM_NOTEBOOK_MODE=full scripts/run_notebooks.sh --inplace
#                                            # real sampler settings, outputs written
#                                            # back into the notebooks (to commit them)
#   scripts/run_notebooks.sh notebooks/quickstart.ipynb   # only the named notebooks
#
# Options: --inplace (full mode only), --output-dir DIR (where executed copies go;
# default a new temporary directory), --timeout SECONDS (per cell, default 3600).
# The kernel is the Python of $VENV (default .venv at the repository root): the
# notebooks run with that environment's packages. Exits non-zero if any notebook
# fails; the failing cell's error is printed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
export PMM_NOTEBOOK_MODE="${PMM_NOTEBOOK_MODE:-reduced}"

inplace=0
output_dir=""
timeout=3600
notebooks=()
while [ $# -gt 0 ]; do
    case "$1" in
        --inplace) inplace=1 ;;
        --output-dir) output_dir="$2"; shift ;;
        --output-dir=*) output_dir="${1#*=}" ;;
        --timeout) timeout="$2"; shift ;;
        --timeout=*) timeout="${1#*=}" ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) notebooks+=("$1") ;;
    esac
    shift
done

case "$PMM_NOTEBOOK_MODE" in
    full|reduced) ;;
    *) echo "PMM_NOTEBOOK_MODE must be 'full' or 'reduced', got '$PMM_NOTEBOOK_MODE'" >&2
       exit 2 ;;
esac
if [ "$inplace" = 1 ] && [ "$PMM_NOTEBOOK_MODE" != full ]; then
    echo "--inplace is only allowed with PMM_NOTEBOOK_MODE=full: the committed" \
         "notebooks carry full-mode outputs." >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "No Python at $VENV/bin/python: create the environment first" \
         "(scripts/env.sh, or ./run_tests.sh once), or set VENV." >&2
    exit 2
fi
if [ ${#notebooks[@]} -eq 0 ]; then
    shopt -s nullglob
    notebooks=("$ROOT"/notebooks/*.ipynb)
    shopt -u nullglob
fi
if [ ${#notebooks[@]} -eq 0 ]; then
    echo "No notebooks found in $ROOT/notebooks" >&2
    exit 2
fi
if [ "$inplace" = 0 ] && [ -z "$output_dir" ]; then
    output_dir="$(mktemp -d "${TMPDIR:-/tmp}/pmm_notebooks.XXXXXX")"
fi

# The venv's bin first on PATH, so the kernel ("python3" kernel spec, whose argv
# starts with "python") and anything it launches use the venv's Python.
export PATH="$VENV/bin:$PATH"
# Headless matplotlib outside the notebooks' inline backend.
export MPLBACKEND="${MPLBACKEND:-Agg}"

echo "PMM_NOTEBOOK_MODE=$PMM_NOTEBOOK_MODE; kernel python: $VENV/bin/python"
if [ "$inplace" = 1 ]; then
    echo "writing executed notebooks in place"
else
    echo "writing executed copies to $output_dir"
fi

failed=()
for notebook in "${notebooks[@]}"; do
    name="$(basename "$notebook")"
    echo "=== $name"
    start=$(date +%s)
    args=(--to notebook --execute
          --ExecutePreprocessor.kernel_name=python3
          --ExecutePreprocessor.timeout="$timeout")
    if [ "$inplace" = 1 ]; then
        args+=(--inplace)
    else
        args+=(--output-dir "$output_dir")
    fi
    if "$VENV/bin/python" -m nbconvert "${args[@]}" "$notebook"; then
        echo "=== $name: ok in $(( $(date +%s) - start )) s"
    else
        echo "=== $name: FAILED after $(( $(date +%s) - start )) s" >&2
        failed+=("$name")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "failed notebooks: ${failed[*]}" >&2
    exit 1
fi
echo "all ${#notebooks[@]} notebook(s) ran"
