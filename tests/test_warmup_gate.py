"""Warm-up gate: concurrent requests sharing a new prefix pay 1 write + N-1 reads, not N writes."""
# On sockets: not converted yet (followers are timed against the leader's response start; unchecked in-process).

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import PrefixCacheSimulator, serve

SYSTEM = " ".join(f"Rule {i}: check the facts, cite the source and keep answers short." for i in range(160))
TOOLS: list[Any] = [{"name": "lookup", "description": "Look something up.", "input_schema": {"type": "object"}}]


@pytest.fixture
def fake() -> PrefixCacheSimulator:  # overrides conftest's: the proxy's upstream bills like Anthropic
    return PrefixCacheSimulator(delay=0.3)


def fan_out(url: str, n: int, **extra: Any) -> list[Any]:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test-key-1", max_retries=0, timeout=30)
    results: list[Any] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        raw = client.messages.with_raw_response.create(
            model="claude-sonnet-4-5",
            max_tokens=20,
            system=SYSTEM,
            tools=TOOLS,
            messages=[{"role": "user", "content": f"sub-task {i}"}],
            **extra,
        )
        with lock:
            results.append(raw)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def writes_and_reads(results: list[Any]) -> tuple[int, int]:
    usages = [r.parse().usage for r in results]
    return sum(1 for u in usages if u.cache_creation_input_tokens), sum(1 for u in usages if u.cache_read_input_tokens)


def test_fan_out_of_eight_pays_one_write(proxy: str) -> None:
    results = fan_out(proxy, 8)
    assert len(results) == 8
    assert writes_and_reads(results) == (1, 7)
    assert sum(1 for r in results if "x-layercache-warmup-wait-ms" in r.headers) == 7


def test_without_the_gate_every_request_writes(proxy: str) -> None:
    results = fan_out(proxy, 8, extra_body={"lc_warmup": False})
    assert writes_and_reads(results) == (8, 0)


def test_a_warm_prefix_never_waits(proxy: str) -> None:
    fan_out(proxy, 1)
    results = fan_out(proxy, 4)
    assert writes_and_reads(results) == (0, 4)
    assert not any("x-layercache-warmup-wait-ms" in r.headers for r in results)


def test_the_wait_is_bounded(fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]) -> None:
    fake.delay = 1.0
    with serve(LayerCacheApp(make_settings(caching={"warmup_wait_seconds": 0.1}))) as url:
        results = fan_out(url, 4)
    assert len(results) == 4
    assert writes_and_reads(results)[0] == 4  # nobody waited for the slow leader
    waits = [
        int(r.headers["x-layercache-warmup-wait-ms"]) for r in results if "x-layercache-warmup-wait-ms" in r.headers
    ]
    assert len(waits) == 3 and max(waits) < 900


def test_a_failing_leader_releases_its_followers(fake: PrefixCacheSimulator, proxy: str) -> None:
    fake.fail_next = [400]  # the first request to arrive fails
    client = anthropic.Anthropic(base_url=proxy, api_key="sk-ant-test-key-1", max_retries=0, timeout=30)
    outcomes: list[str] = []

    def one(i: int) -> None:
        try:
            client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=20,
                system=SYSTEM,
                messages=[{"role": "user", "content": f"task {i}"}],
            )
            outcomes.append("ok")
        except anthropic.BadRequestError:
            outcomes.append("failed")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["failed", "ok", "ok", "ok"]


def test_two_apps_in_one_process_each_have_their_own_gate(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # The registry lives on each app's WarmupGate: a leader in one app never holds the other's requests.
    # On SQLite, whatever the pass: apps sharing a PostgreSQL database coordinate as replicas on purpose.
    fake.delay = 0.5
    settings = make_settings(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}"})
    results: dict[str, list[Any]] = {}
    with serve(LayerCacheApp(settings)) as first, serve(LayerCacheApp(settings)) as second:
        for url in (first, second):  # both started, so their fan-outs below begin together
            assert httpx.get(f"{url}/health").status_code == 200
        runs = [threading.Thread(target=lambda u=u: results.__setitem__(u, fan_out(u, 4))) for u in (first, second)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=60)
    assert [len(r) for r in results.values()] == [4, 4]
    for per_app in results.values():  # one leader per app, its three followers read what it wrote
        assert writes_and_reads(per_app) == (1, 3)
