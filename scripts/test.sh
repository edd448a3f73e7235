#!/usr/bin/env bash
# README's test command: the whole suite on SQLite, then the whole suite again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True

python -m pytest -q "$@"
LAYERCACHE_TEST_DB=postgres python -m pytest -q "$@"
