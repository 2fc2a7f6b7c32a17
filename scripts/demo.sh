#!/usr/bin/env bash
# One command: set up on a fresh machine, then run the demo (simulate a Double-11 season,
# ingest it, scan it, write the report).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/promoguard demo "$@"
