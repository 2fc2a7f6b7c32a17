#!/usr/bin/env bash
# One command: set up on a fresh machine, then run the whole test suite (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
# Two workers (PROMOGUARD_TEST_WORKERS; 0 runs everything in this process): every Spark test
# goes to one of them (tests/conftest.py), so one JVM runs at a time beside the rest of the suite.
exec .venv/bin/python -m pytest -n "${PROMOGUARD_TEST_WORKERS:-2}" --dist loadgroup --durations=25 "$@"
