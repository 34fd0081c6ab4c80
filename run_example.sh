#!/usr/bin/env bash
# The main job: set up the environment (first run only), then fit the mixture
# to the built-in example and print and save the results.
# Options go to `python -m pmm_mixture.example` (see --help).
source "$(dirname "$0")/scripts/env.sh"
cd "$ROOT"
exec "$VENV/bin/python" -m pmm_mixture.example "$@"
