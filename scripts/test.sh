#!/usr/bin/env bash
# Set everything up, then run the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
ruff check .
ruff format --check .
mypy service models rules training cli
# pytest exits 5 when it collects no tests: set -e turns that into a failure, never a pass.
python -m pytest "$@"
