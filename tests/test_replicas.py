"""Several replicas on one PostgreSQL database share the semantic cache, metrics and migrations.

Runs only on PostgreSQL (``LAYERCACHE_TEST_DB=postgres``): SQLite is one process's file.
"""
# On sockets: several uvicorn processes on one database.

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve
from tests._hosted import check_semantic_hit
from tests.conftest import ADMIN, TEST_DB

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        TEST_DB != "postgres", reason="replicas share a PostgreSQL database: LAYERCACHE_TEST_DB=postgres"
    ),
]


def test_an_answer_stored_by_one_replica_is_served_by_the_other(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    one = LayerCacheApp(make_settings(caching={"semantic": {"enabled": True}}))
    two = LayerCacheApp(make_settings(caching={"semantic": {"enabled": True}}))
    with serve(one) as a, serve(two) as b:
        check_semantic_hit(a, one, fake, second=b, prefix="")


def _history(base: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/v1/cache/metrics/history", params={"window": "2h", "bucket": "1h"}, headers=ADMIN)
    if response.status_code == 404:
        pytest.skip("metric history is not implemented (no /v1/cache/metrics/history route)")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_metric_history_merges_the_replicas(make_settings: Callable[..., Settings]) -> None:
    fast = {"metrics": {"snapshot_interval_seconds": 0.3}}
    one, two = LayerCacheApp(make_settings(**fast)), LayerCacheApp(make_settings(**fast))
    with serve(one) as a, serve(two) as b:
        for base, count in ((a, 2), (b, 3)):
            client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-replica", max_retries=0)
            for i in range(count):
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"q{i}"}])
        deadline = time.monotonic() + 30
        while True:
            seen = [_history(a), _history(b)]
            totals = [sum(bucket["requests"] for bucket in h["buckets"]) for h in seen]
            if totals == [5, 5]:
                break
            assert time.monotonic() < deadline, f"history never merged both replicas: {totals}"
            time.sleep(0.3)
        for history in seen:
            assert len(history["replicas"]) == 2  # each replica sees both
            assert history["models"] == ["gpt-4o"]


def _migrate_cli(url: str, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "layercache_asgi.cli", "db", action, "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "LAYERCACHE_CONFIG"},
    )


def test_concurrent_migrations_do_not_race(database_url: str) -> None:
    # Three replicas' start-up jobs upgrading the same empty database at the same moment.
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: _migrate_cli(database_url, "upgrade"), range(3)))
    for result in results:
        assert result.returncode == 0, result.stderr
    current = _migrate_cli(database_url, "current")
    assert current.returncode == 0 and current.stdout.strip() not in ("", "base (no migrations applied)")
    check = _migrate_cli(database_url, "check")
    assert check.returncode == 0, check.stderr
