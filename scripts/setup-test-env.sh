#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine of this project's kind:
# the package with its dev and clients extras, the npm clients pinned in .clients/ (node 20+),
# PostgreSQL running, Debian's Chromium for browser tests, Debian's HAProxy for the replica tests.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[dev,clients]"

# Claude Code, Codex and the AI SDK at the versions in .clients/package-lock.json; skipped when
# the last install was from this very lock (the stamp is a copy of it).
if ! command -v npm >/dev/null 2>&1; then
    echo "setup-test-env: npm not found; install node 20+ or the clients tests will not run" >&2
elif ! cmp -s .clients/package-lock.json .clients/node_modules/.installed-lock.json; then
    npm ci --prefix .clients --no-audit --no-fund --loglevel=error >/dev/null
    cp .clients/package-lock.json .clients/node_modules/.installed-lock.json
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! command -v chromium >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null
fi

# The load balancer in front of the replicas in tests/test_replicas_coordinated.py.
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy) >/dev/null
fi
