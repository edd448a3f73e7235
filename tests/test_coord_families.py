"""Replicas tell each other of prefix families they saw first, so the marker plan defers a new
family once in the cluster, not once per replica (the provider's prefix cache is one for all).

Two in-process apps on one PostgreSQL database stand for two replicas. PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.prompt._reuse import ReuseEstimator
from layercache_asgi.testing import FakeProvider

from .conftest import TEST_DB, async_anthropic, client_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.in_process,
    pytest.mark.skipif(TEST_DB != "postgres", reason="replicas talk through PostgreSQL: LAYERCACHE_TEST_DB=postgres"),
]

MODEL = "claude-sonnet-4-5"
RULES = "You review pull requests for a payments team and always cite the line you mean. " * 80  # > 1024 tokens


def _estimator(app: LayerCacheApp) -> ReuseEstimator:
    return app.runtime.prompt_state.part(ReuseEstimator)


async def _until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _replicas(settings: Settings, fake: FakeProvider) -> tuple[LayerCacheApp, LayerCacheApp]:
    """Two apps on one database: two replicas, each with its own coordinator once started."""
    return (
        LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake)),
        LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake)),
    )


def _warm_up(replica: str) -> str:
    """A system prompt of a family of the replica's own, above the model's minimum."""
    return f"Warm-up family of replica {replica}. " * 300


async def _ask(http: httpx.AsyncClient, system: str) -> str:
    claude = async_anthropic(http, api_key="sk-ant-replica-test")
    raw = await claude.messages.with_raw_response.create(
        model=MODEL, max_tokens=20, system=system, messages=[{"role": "user", "content": "Review this diff."}]
    )
    return raw.headers["x-layercache-markers"]


async def test_a_family_new_to_one_replica_is_a_repeat_on_the_other(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    one, two = _replicas(make_settings(), fake)
    async with client_of(one) as first, client_of(two) as second:
        # Replica two starts (a fresh replica marks its first new family: "prior"); f: families a request
        # counts in (one per cacheable layer boundary).
        await _ask(second, _warm_up("two"))
        f = len(_estimator(two).families)
        assert f > 0
        # Replica one starts, on a family of its own, which two hears of.
        await _ask(first, _warm_up("one"))
        assert one.runtime.coord is not None and two.runtime.coord is not None
        assert await _until(lambda: len(_estimator(two).families) == 2 * f)

        # A new family on replica one: deferred there (its tenant's new families have not come back), and
        # announced.
        assert await _ask(first, RULES) == "deferred"
        assert "cache_control" not in json.dumps(fake.requests[-1].body)
        assert await _until(lambda: len(_estimator(two).families) == 3 * f)

        # Its next request, on replica two, is a repeat: marked, so the provider writes the prefix.
        assert await _ask(second, RULES) == "repeats"
        assert "cache_control" in json.dumps(fake.requests[-1].body)
        await asyncio.sleep(0.3)  # nothing new on two: nothing announced back to one
        assert len(_estimator(two).families) == 3 * f
        # Replica one: its own two families, and two's first if it was listening when that was announced.
        assert len(_estimator(one).families) in (2 * f, 3 * f)


async def test_without_a_coordinator_each_replica_defers_on_its_own(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    # The control: the same two requests on two apps that do not hear each other.
    one, two = _replicas(make_settings(), fake)
    async with client_of(one) as first, client_of(two) as second:
        await _ask(first, _warm_up("one"))
        await _ask(second, _warm_up("two"))
        assert one.runtime.coord is not None and two.runtime.coord is not None
        _estimator(one).on_new = None  # replica one no longer announces
        assert await _ask(first, RULES) == "deferred"
        await asyncio.sleep(0.3)
        assert await _ask(second, RULES) == "deferred"
