#!/usr/bin/env bash
# README's test command: the whole suite on SQLite (real clients included), then again on PostgreSQL
# without the real clients: they exercise the wire, not the database, and take a while.
set -euo pipefail
cd "$(dirname "$0")/.."
export LITELLM_LOCAL_MODEL_COST_MAP=True

python -m pytest -q "$@"
LAYERCACHE_TEST_DB=postgres python -m pytest -q -m "not clients" "$@"
