# Sourced by run_example.sh, run_tests.sh and .ci/run: make sure a virtual
# environment with this project installed exists at $VENV (default .venv).
# PyMC-Marketing 1.x needs Python >= 3.12.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

find_python() {
    # python3.12 on PATH; where that is a pyenv shim without a global 3.12,
    # any 3.12 that pyenv has installed.
    if python3.12 -c "" 2>/dev/null; then echo "python3.12"; return; fi
    if command -v pyenv >/dev/null 2>&1; then
        local v
        v=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$)' | tail -n 1)
        if [ -n "$v" ]; then echo "$(pyenv root)/versions/$v/bin/python3.12"; return; fi
    fi
    echo "python3.12 not found: PyMC-Marketing 1.x needs Python >= 3.12" >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating $VENV with $(find_python)" >&2
    "$(find_python)" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# Reinstall when pyproject.toml changed since the last install.
stamp="$VENV/.pmm_mixture_installed"
want=$(cat "$ROOT/pyproject.toml" | cksum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing pmm_mixture and its dependencies into $VENV" >&2
    if ! "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test,notebooks]" \
        > "$VENV/pip-install.log" 2>&1; then
        cat "$VENV/pip-install.log" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi
