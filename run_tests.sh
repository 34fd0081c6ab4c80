#!/usr/bin/env bash
# The tests: set up the environment (first run only), then run pytest.
# Arguments go to pytest (e.g. -m "not slow" for the fast subset).
source "$(dirname "$0")/scripts/env.sh"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest -q "$@"
