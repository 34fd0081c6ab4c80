# Sourced by contract_tests.sh and patch_series.sh (with $HERE set to this
# folder): sets $ROOT, $PY (of $VENV, default .venv) and $work (a temporary
# folder removed on exit), and defines how to get the pinned sdist and the
# test-only modules its tests need.
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Set $version and $sdist: the installed pymc-marketing's source distribution,
# downloaded once into $UPSTREAM_SDIST_DIR (a temporary folder if unset).
fetch_sdist() {
    version=$("$PY" -c 'import importlib.metadata as m; print(m.version("pymc-marketing"))')
    local sdist_dir="${UPSTREAM_SDIST_DIR:-$work/sdist}"
    mkdir -p "$sdist_dir"
    sdist="$sdist_dir/pymc_marketing-$version.tar.gz"
    if [ ! -f "$sdist" ]; then
        echo "Downloading the pymc-marketing $version source distribution" >&2
        "$PY" -m pip download "pymc-marketing==$version" --no-deps --no-binary :all: \
            --quiet -d "$sdist_dir" >&2
    fi
}

# Install the modules that the three upstream test files, their conftests and
# the test modules they import need and this environment lacks, constrained
# to the installed versions (nothing already there changes). $1: the root
# holding tests/.
install_missing_test_modules() {
    local missing
    missing=$("$PY" "$HERE/missing_test_modules.py" "$1" \
        tests/mmm/components/test_saturation.py tests/mmm/test_lift_test.py \
        tests/mmm/test_incrementality.py)
    if [ -n "$missing" ]; then
        echo "Installing test-only dependencies: $missing" >&2
        "$PY" "$HERE/missing_test_modules.py" --pins > "$work/installed.txt"
        # shellcheck disable=SC2086
        "$PY" -m pip install --quiet -c "$work/installed.txt" $missing >&2
    fi
}
