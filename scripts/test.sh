#!/usr/bin/env bash
# Runs the whole suite. Uses DATABASE_URL / REDIS_URL when set (CI: real PostgreSQL and Redis).
set -uo pipefail
cd "$(dirname "$0")/.."
SETUP_SKIP_DB=1 bash scripts/setup.sh || exit 1
. .venv/bin/activate
ruff check . || exit 1
# Architecture contracts (.importlinter): no import cycles, one-way dependencies, only inference talks to models.
lint-imports --no-cache || exit 1
if ls frontend/tests/*.test.mjs >/dev/null 2>&1; then npm test --silent || exit 1; fi
python -m pytest "$@"
rc=$?
# pytest exits 5 when it collected nothing: an empty run must not pass.
if [ "$rc" = 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit $rc
