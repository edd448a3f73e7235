"""Warm-up gate: concurrent requests sharing a new prefix pay 1 write + N-1 reads, not N writes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.testing import PrefixCacheSimulator, in_process

from .conftest import async_anthropic

pytestmark = pytest.mark.in_process

SYSTEM = " ".join(f"Rule {i}: check the facts, cite the source and keep answers short." for i in range(160))
TOOLS: list[Any] = [{"name": "lookup", "description": "Look something up.", "input_schema": {"type": "object"}}]


@pytest.fixture
def fake() -> PrefixCacheSimulator:  # overrides conftest's: the proxy's upstream bills like Anthropic
    return PrefixCacheSimulator(delay=0.3)


async def fan_out(http: httpx.AsyncClient, n: int, **extra: Any) -> list[Any]:
    client = async_anthropic(http, api_key="sk-ant-test-key-1", timeout=30)

    async def one(i: int) -> Any:
        return await client.messages.with_raw_response.create(
            model="claude-sonnet-4-5",
            max_tokens=20,
            system=SYSTEM,
            tools=TOOLS,
            messages=[{"role": "user", "content": f"sub-task {i}"}],
            **extra,
        )

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def writes_and_reads(results: list[Any]) -> tuple[int, int]:
    usages = [(await r.parse()).usage for r in results]
    return sum(1 for u in usages if u.cache_creation_input_tokens), sum(1 for u in usages if u.cache_read_input_tokens)


async def test_fan_out_of_eight_pays_one_write(http: httpx.AsyncClient) -> None:
    results = await fan_out(http, 8)
    assert len(results) == 8
    assert await writes_and_reads(results) == (1, 7)
    assert sum(1 for r in results if "x-layercache-warmup-wait-ms" in r.headers) == 7


async def test_without_the_gate_every_request_writes(http: httpx.AsyncClient) -> None:
    results = await fan_out(http, 8, extra_body={"lc_warmup": False})
    assert await writes_and_reads(results) == (8, 0)


async def test_a_warm_prefix_never_waits(http: httpx.AsyncClient) -> None:
    await fan_out(http, 1)
    results = await fan_out(http, 4)
    assert await writes_and_reads(results) == (0, 4)
    assert not any("x-layercache-warmup-wait-ms" in r.headers for r in results)


async def test_the_wait_is_bounded(fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]) -> None:
    fake.delay = 1.0
    async with in_process(fake, make_settings(caching={"warmup_wait_seconds": 0.1})) as http:
        results = await fan_out(http, 4)
    assert len(results) == 4
    assert (await writes_and_reads(results))[0] == 4  # nobody waited for the slow leader
    waits = [
        int(r.headers["x-layercache-warmup-wait-ms"]) for r in results if "x-layercache-warmup-wait-ms" in r.headers
    ]
    assert len(waits) == 3 and max(waits) < 900


async def test_a_failing_leader_releases_its_followers(fake: PrefixCacheSimulator, http: httpx.AsyncClient) -> None:
    fake.fail_next = [400]  # the first request to arrive fails
    client = async_anthropic(http, api_key="sk-ant-test-key-1", timeout=30)
    outcomes: list[str] = []

    async def one(i: int) -> None:
        try:
            await client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=20,
                system=SYSTEM,
                messages=[{"role": "user", "content": f"task {i}"}],
            )
            outcomes.append("ok")
        except anthropic.BadRequestError:
            outcomes.append("failed")

    await asyncio.gather(*(one(i) for i in range(4)))
    assert sorted(outcomes) == ["failed", "ok", "ok", "ok"]


async def test_two_apps_in_one_process_each_have_their_own_gate(
    fake: PrefixCacheSimulator, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # The registry lives on each app's WarmupGate: a leader in one app never holds the other's requests.
    # On SQLite, whatever the pass: apps sharing a PostgreSQL database coordinate as replicas on purpose.
    fake.delay = 0.5
    settings = make_settings(database={"url": f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}"})
    async with in_process(fake, settings) as first, in_process(fake, settings, base_url="http://second.test") as second:
        for app in (first, second):  # both started, so their fan-outs below begin together
            assert (await app.get("/health")).status_code == 200
        runs = await asyncio.gather(fan_out(first, 4), fan_out(second, 4))
        results: dict[str, list[Any]] = {"first": runs[0], "second": runs[1]}
    assert [len(r) for r in results.values()] == [4, 4]
    for per_app in results.values():  # one leader per app, its three followers read what it wrote
        assert await writes_and_reads(per_app) == (1, 3)
