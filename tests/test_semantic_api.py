"""The cache management API, single flight, the size cap and the purge, through the served app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, in_process
from tests.test_semantic_cache import ON, ask, oai
from tests.test_semantic_store import accept_inserts, reject_inserts

from .conftest import ADMIN, ADMIN_KEY, client_of

pytestmark = [pytest.mark.postgres, pytest.mark.in_process]

ELEMENTS = [
    "Neon",
    "Argon",
    "Xenon",
    "Krypton",
    "Radon",
    "Helium",
    "Sodium",
    "Lithium",
    "Cobalt",
    "Nickel",
    "Copper",
    "Zinc",
]
KEY_A = "sk-tenant-a-key-0001"
KEY_B = "sk-tenant-b-key-0002"


@pytest.fixture
async def cached_proxy(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(fake, make_settings(**ON)) as http:
        yield http


async def entries(http: httpx.AsyncClient, key: str = ADMIN_KEY, **params: Any) -> dict[str, Any]:
    response = await http.get("/v1/cache/entries", params=params, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def delete(http: httpx.AsyncClient, path: str = "", key: str = ADMIN_KEY, **params: Any) -> httpx.Response:
    return await http.delete(f"/v1/cache/entries{path}", params=params, headers={"authorization": f"Bearer {key}"})


async def wait_until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


# -- listing ------------------------------------------------------------------------------


async def test_listing_shows_entries_without_credentials(cached_proxy: httpx.AsyncClient) -> None:
    await ask(oai(cached_proxy, KEY_A), "What is the speed of light?")
    await ask(oai(cached_proxy, KEY_A), "What is the speed of light?")

    async def until() -> bool:
        return bool((await entries(cached_proxy))["data"][0]["hits"] == 1)

    await wait_until(until)
    listing = await entries(cached_proxy)
    assert listing["total"] == 1
    entry = listing["data"][0]
    assert entry["query"] == "What is the speed of light?" and entry["model"] == "gpt-4o-mini"
    assert {"id", "created_at", "expires_at", "hits", "tenant"} <= entry.keys()
    raw = (await cached_proxy.get("/v1/cache/entries", headers=ADMIN)).text
    assert KEY_A not in raw and ADMIN_KEY not in raw
    assert (await entries(cached_proxy, q="speed of"))["total"] == 1
    assert (await entries(cached_proxy, q="gravity"))["total"] == 0


async def test_provider_keys_passed_through_do_not_open_the_cache_api(cached_proxy: httpx.AsyncClient) -> None:
    await ask(oai(cached_proxy, KEY_A), "What is the speed of sound?")
    await ask(oai(cached_proxy, KEY_B), "What is the speed of sound?")
    for key in (KEY_A, KEY_B):
        listed = await cached_proxy.get("/v1/cache/entries", headers={"authorization": f"Bearer {key}"})
        assert listed.status_code == 401 and listed.json()["error"]["type"] == "authentication_error"
        assert (await delete(cached_proxy, key=key, all="true")).status_code == 401
    listing = await entries(cached_proxy)  # the admin sees every tenant
    assert listing["total"] == 2 and len({e["tenant"] for e in listing["data"]}) == 2


async def test_bad_requests_get_4xx(cached_proxy: httpx.AsyncClient) -> None:
    assert (await delete(cached_proxy)).status_code == 400  # nothing said about what to delete
    assert (await delete(cached_proxy, "/not-a-number")).status_code == 400
    assert (await delete(cached_proxy, "/999999")).status_code == 404
    bad_limit = await cached_proxy.get("/v1/cache/entries", params={"limit": "x"}, headers=ADMIN)
    assert bad_limit.status_code == 400 and "error" in bad_limit.json()


# -- invalidation -------------------------------------------------------------------------


async def test_delete_by_id_makes_the_question_miss(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    client = oai(cached_proxy, KEY_A)
    await ask(client, "Who painted the Mona Lisa?")
    await ask(client, "Who discovered penicillin?")
    target = next(e for e in (await entries(cached_proxy))["data"] if "Mona" in e["query"])
    response = await delete(cached_proxy, f"/{target['id']}")
    assert response.status_code == 200 and response.json()["deleted"] == 1
    assert (await ask(client, "Who painted the Mona Lisa?"))[0] == "miss"
    assert (await ask(client, "Who discovered penicillin?"))[0] == "hit"


async def test_delete_by_model_and_all(cached_proxy: httpx.AsyncClient) -> None:
    client = oai(cached_proxy, KEY_A)
    await ask(client, "Name a noble gas", model="gpt-4o-mini")
    await ask(client, "Name a noble gas", model="gpt-4o")
    assert (await delete(cached_proxy, model="gpt-4o")).json()["deleted"] == 1
    assert (await ask(client, "Name a noble gas", model="gpt-4o"))[0] == "miss"
    assert (await ask(client, "Name a noble gas", model="gpt-4o-mini"))[0] == "hit"
    assert (await delete(cached_proxy, all="true")).json()["deleted"] == 2
    assert (await entries(cached_proxy))["total"] == 0
    assert (await ask(client, "Name a noble gas", model="gpt-4o-mini"))[0] == "miss"


async def test_with_a_client_key_the_api_needs_the_admin_key_and_sees_every_tenant(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch, fake: FakeProvider
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-key-000")
    settings = make_settings(**ON, proxy={"proxy_api_key": "proxy-secret", "tenant_header": "x-tenant"})
    async with in_process(fake, settings) as http:
        await ask(oai(http, "proxy-secret", default_headers={"x-tenant": "a"}), "What is TCP?")
        await ask(oai(http, "proxy-secret", default_headers={"x-tenant": "b"}), "What is TCP?")
        assert (await http.get("/v1/cache/entries")).status_code == 401
        assert (await delete(http, key="wrong", all="true")).status_code == 401
        assert (await delete(http, key="proxy-secret", all="true")).status_code == 401  # a client key is no admin key
        listing = await entries(http)
        assert listing["total"] == 2
        tenant = listing["data"][0]["tenant"]
        assert (await delete(http, tenant=tenant)).json()["deleted"] == 1
        assert (await entries(http))["total"] == 1
        assert ADMIN_KEY not in (await http.get("/v1/cache/entries", headers={"x-api-key": ADMIN_KEY})).text


# -- single flight, size cap, purge -------------------------------------------------------


async def test_identical_concurrent_requests_share_one_upstream_call(
    cached_proxy: httpx.AsyncClient, fake: FakeProvider
) -> None:
    fake.delay = 1.0
    client = oai(cached_proxy, KEY_A)
    results = await asyncio.gather(*(ask(client, "Why is the sky blue?") for _ in range(4)))
    headers = sorted(header for header, _ in results)
    assert headers == ["hit", "hit", "hit", "miss"]
    assert {answer.choices[0].message.content for _, answer in results} == {"Echo: Why is the sky blue?"}
    assert len(fake.requests) == 1


async def test_concurrent_misses_are_all_stored(cached_proxy: httpx.AsyncClient, fake: FakeProvider) -> None:
    fake.delay = 0.2  # all of them in flight together
    client = oai(cached_proxy, KEY_A)
    questions = [f"What is the atomic number of element {name}?" for name in ELEMENTS]
    first = [header for header, _ in await asyncio.gather(*(ask(client, q) for q in questions))]
    assert first == ["miss"] * len(questions)
    assert {e["query"] for e in (await entries(cached_proxy, limit=50))["data"]} == set(questions)
    fake.delay = 0.0
    assert [(await ask(client, q))[0] for q in questions] == ["hit"] * len(questions)
    assert len(fake.requests) == len(questions)


async def test_a_database_refusing_writes_is_logged_and_the_proxy_keeps_serving(
    make_settings: Callable[..., Settings], database_url: str, fake: FakeProvider
) -> None:
    app = LayerCacheApp(make_settings(**ON), transport=httpx.ASGITransport(app=fake))

    def failures() -> int:
        assert app.runtime.logs is not None
        return sum(1 for line in app.runtime.logs.tail(1000) if line.get("event") == "semantic_store_failed")

    async with client_of(app) as http:
        client = oai(http, KEY_A)
        assert (await ask(client, "What is a neutron star?"))[0] == "miss"

        async def until() -> bool:
            return bool((await entries(http))["total"] == 1)

        await wait_until(until)
        await reject_inserts(database_url, containing="purr")
        header, answer = await ask(client, "Why do cats purr?")
        assert header == "miss" and answer.choices[0].message.content == "Echo: Why do cats purr?"

        async def until() -> bool:
            return bool(failures() == 1)

        await wait_until(until)
        assert (await ask(client, "Why do cats purr?"))[0] == "miss"  # not stored: asked upstream again
        assert (await ask(client, "What is a neutron star?"))[0] == "hit"  # what was stored before is still there

        async def until() -> bool:
            return bool(failures() == 2)

        await wait_until(until)
        await accept_inserts(database_url)
        assert (await ask(client, "Why do cats purr?"))[0] == "miss"

        async def until() -> bool:
            return bool((await entries(http))["total"] == 2)

        await wait_until(until)
        assert (await ask(client, "Why do cats purr?"))[0] == "hit"
    assert len(fake.requests) == 4


async def test_size_cap_evicts_the_least_recently_used(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "max_entries": 2}})
    async with in_process(fake, settings) as http:
        client = oai(http, KEY_A)
        await ask(client, "What is the tallest mountain?")
        await ask(client, "What is the longest river?")
        assert (await ask(client, "What is the tallest mountain?"))[0] == "hit"  # now the most recently used

        async def until() -> bool:
            return bool(any(e["hits"] == 1 for e in (await entries(http))["data"]))

        await wait_until(until)
        await ask(client, "What is the largest desert?")  # evicts the river, least recently used
        remaining = {e["query"] for e in (await entries(http))["data"]}
        assert remaining == {"What is the tallest mountain?", "What is the largest desert?"}
        assert (await ask(client, "What is the longest river?"))[0] == "miss"


async def test_expired_entries_are_purged_in_the_background(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "purge_interval_seconds": 0.2}})
    async with in_process(fake, settings) as http:
        await ask(oai(http, KEY_A), "What is a quark?", extra_body={"lc_cache_ttl": 1})
        await ask(oai(http, KEY_A), "What is a lepton?")
        assert (await entries(http, include_expired="true"))["total"] == 2

        async def until() -> bool:
            return bool((await entries(http, include_expired="true"))["total"] == 1)

        await wait_until(until)
        assert (await entries(http))["data"][0]["query"] == "What is a lepton?"
