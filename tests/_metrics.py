"""Reading a proxy's metrics in tests: ``/metrics`` samples and the JSON summary, waited for.

Metrics are recorded as a request finishes, just after the client got its answer, so checks poll.
The plain functions take a served proxy's URL; the ``*_of`` coroutines an in-process client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_samples(text: str) -> Samples:
    """Every sample of a ``/metrics`` text by (name, sorted labels)."""
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for one in family.samples:
            out[(one.name, tuple(sorted(one.labels.items())))] = one.value
    return out


def sample(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == want for k, want in labels.items())
    )


def _summary_doc(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    return doc


# -- a served proxy (its URL) ----------------------------------------------------------------


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def prometheus(proxy: str) -> Samples:
    return parse_samples(httpx.get(f"{proxy}/metrics").text)


def summary(proxy: str, **headers: str) -> dict[str, Any]:
    return _summary_doc(httpx.get(f"{proxy}/v1/cache/metrics", headers=headers or ADMIN))


def requests_of(proxy: str, model: str) -> int:
    return int(summary(proxy)["models"].get(model, {}).get("requests", 0))


# -- an in-process proxy (its client) --------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """``await eventually(lambda: ...)``: the first truthy result of the coroutine ``check`` returns."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def prometheus_of(proxy: httpx.AsyncClient) -> Samples:
    return parse_samples((await proxy.get("/metrics")).text)


async def summary_of(proxy: httpx.AsyncClient, **headers: str) -> dict[str, Any]:
    return _summary_doc(await proxy.get("/v1/cache/metrics", headers=headers or ADMIN))


async def requests_of_model(proxy: httpx.AsyncClient, model: str, want: int) -> bool:
    """Whether ``model`` has been counted ``want`` requests (for :func:`eventually`)."""
    return int((await summary_of(proxy))["models"].get(model, {}).get("requests", 0)) == want
