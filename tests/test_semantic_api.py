"""The cache management API, single flight, the size cap and the purge, through the served app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeProvider, serve
from tests.test_semantic_cache import ON, ask, oai
from tests.test_semantic_store import accept_inserts, reject_inserts

from .conftest import ADMIN, ADMIN_KEY

pytestmark = pytest.mark.postgres

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
def cached_proxy(make_settings: Callable[..., Settings]) -> Iterator[str]:
    with serve(LayerCacheApp(make_settings(**ON))) as url:
        yield url


def entries(base: str, key: str = ADMIN_KEY, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{base}/v1/cache/entries", params=params, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def delete(base: str, path: str = "", key: str = ADMIN_KEY, **params: Any) -> httpx.Response:
    return httpx.delete(f"{base}/v1/cache/entries{path}", params=params, headers={"authorization": f"Bearer {key}"})


def wait_until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# -- listing ------------------------------------------------------------------------------


def test_listing_shows_entries_without_credentials(cached_proxy: str) -> None:
    ask(oai(cached_proxy, KEY_A), "What is the speed of light?")
    ask(oai(cached_proxy, KEY_A), "What is the speed of light?")
    wait_until(lambda: entries(cached_proxy)["data"][0]["hits"] == 1)
    listing = entries(cached_proxy)
    assert listing["total"] == 1
    entry = listing["data"][0]
    assert entry["query"] == "What is the speed of light?" and entry["model"] == "gpt-4o-mini"
    assert {"id", "created_at", "expires_at", "hits", "tenant"} <= entry.keys()
    raw = httpx.get(f"{cached_proxy}/v1/cache/entries", headers=ADMIN).text
    assert KEY_A not in raw and ADMIN_KEY not in raw
    assert entries(cached_proxy, q="speed of")["total"] == 1
    assert entries(cached_proxy, q="gravity")["total"] == 0


def test_provider_keys_passed_through_do_not_open_the_cache_api(cached_proxy: str) -> None:
    ask(oai(cached_proxy, KEY_A), "What is the speed of sound?")
    ask(oai(cached_proxy, KEY_B), "What is the speed of sound?")
    for key in (KEY_A, KEY_B):
        listed = httpx.get(f"{cached_proxy}/v1/cache/entries", headers={"authorization": f"Bearer {key}"})
        assert listed.status_code == 401 and listed.json()["error"]["type"] == "authentication_error"
        assert delete(cached_proxy, key=key, all="true").status_code == 401
    listing = entries(cached_proxy)  # the admin sees every tenant
    assert listing["total"] == 2 and len({e["tenant"] for e in listing["data"]}) == 2


def test_bad_requests_get_4xx(cached_proxy: str) -> None:
    assert delete(cached_proxy).status_code == 400  # nothing said about what to delete
    assert delete(cached_proxy, "/not-a-number").status_code == 400
    assert delete(cached_proxy, "/999999").status_code == 404
    bad_limit = httpx.get(f"{cached_proxy}/v1/cache/entries", params={"limit": "x"}, headers=ADMIN)
    assert bad_limit.status_code == 400 and "error" in bad_limit.json()


# -- invalidation -------------------------------------------------------------------------


def test_delete_by_id_makes_the_question_miss(cached_proxy: str, fake: FakeProvider) -> None:
    client = oai(cached_proxy, KEY_A)
    ask(client, "Who painted the Mona Lisa?")
    ask(client, "Who discovered penicillin?")
    target = next(e for e in entries(cached_proxy)["data"] if "Mona" in e["query"])
    response = delete(cached_proxy, f"/{target['id']}")
    assert response.status_code == 200 and response.json()["deleted"] == 1
    assert ask(client, "Who painted the Mona Lisa?")[0] == "miss"
    assert ask(client, "Who discovered penicillin?")[0] == "hit"


def test_delete_by_model_and_all(cached_proxy: str) -> None:
    client = oai(cached_proxy, KEY_A)
    ask(client, "Name a noble gas", model="gpt-4o-mini")
    ask(client, "Name a noble gas", model="gpt-4o")
    assert delete(cached_proxy, model="gpt-4o").json()["deleted"] == 1
    assert ask(client, "Name a noble gas", model="gpt-4o")[0] == "miss"
    assert ask(client, "Name a noble gas", model="gpt-4o-mini")[0] == "hit"
    assert delete(cached_proxy, all="true").json()["deleted"] == 2
    assert entries(cached_proxy)["total"] == 0
    assert ask(client, "Name a noble gas", model="gpt-4o-mini")[0] == "miss"


def test_with_a_client_key_the_api_needs_the_admin_key_and_sees_every_tenant(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-key-000")
    settings = make_settings(**ON, proxy={"proxy_api_key": "proxy-secret", "tenant_header": "x-tenant"})
    with serve(LayerCacheApp(settings)) as url:
        ask(oai(url, "proxy-secret", default_headers={"x-tenant": "a"}), "What is TCP?")
        ask(oai(url, "proxy-secret", default_headers={"x-tenant": "b"}), "What is TCP?")
        assert httpx.get(f"{url}/v1/cache/entries").status_code == 401
        assert delete(url, key="wrong", all="true").status_code == 401
        assert delete(url, key="proxy-secret", all="true").status_code == 401  # a client key is no admin key
        listing = entries(url)
        assert listing["total"] == 2
        tenant = listing["data"][0]["tenant"]
        assert delete(url, tenant=tenant).json()["deleted"] == 1
        assert entries(url)["total"] == 1
        assert ADMIN_KEY not in httpx.get(f"{url}/v1/cache/entries", headers={"x-api-key": ADMIN_KEY}).text


# -- single flight, size cap, purge -------------------------------------------------------


def test_identical_concurrent_requests_share_one_upstream_call(cached_proxy: str, fake: FakeProvider) -> None:
    fake.delay = 1.0
    client = oai(cached_proxy, KEY_A)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: ask(client, "Why is the sky blue?"), range(4)))
    headers = sorted(header for header, _ in results)
    assert headers == ["hit", "hit", "hit", "miss"]
    assert {answer.choices[0].message.content for _, answer in results} == {"Echo: Why is the sky blue?"}
    assert len(fake.requests) == 1


def test_concurrent_misses_are_all_stored(cached_proxy: str, fake: FakeProvider) -> None:
    fake.delay = 0.2  # all of them in flight together
    client = oai(cached_proxy, KEY_A)
    questions = [f"What is the atomic number of element {name}?" for name in ELEMENTS]
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        first = list(pool.map(lambda q: ask(client, q)[0], questions))
    assert first == ["miss"] * len(questions)
    assert {e["query"] for e in entries(cached_proxy, limit=50)["data"]} == set(questions)
    fake.delay = 0.0
    assert [ask(client, q)[0] for q in questions] == ["hit"] * len(questions)
    assert len(fake.requests) == len(questions)


def test_a_database_refusing_writes_is_logged_and_the_proxy_keeps_serving(
    make_settings: Callable[..., Settings], database_url: str, fake: FakeProvider
) -> None:
    app = LayerCacheApp(make_settings(**ON))

    def failures() -> int:
        return sum(1 for line in app.runtime.logs.tail(1000) if line.get("event") == "semantic_store_failed")

    with serve(app) as url:
        client = oai(url, KEY_A)
        assert ask(client, "What is a neutron star?")[0] == "miss"
        wait_until(lambda: entries(url)["total"] == 1)
        asyncio.run(reject_inserts(database_url, containing="purr"))
        header, answer = ask(client, "Why do cats purr?")
        assert header == "miss" and answer.choices[0].message.content == "Echo: Why do cats purr?"
        wait_until(lambda: failures() == 1)
        assert ask(client, "Why do cats purr?")[0] == "miss"  # not stored: asked upstream again
        assert ask(client, "What is a neutron star?")[0] == "hit"  # what was stored before is still there
        wait_until(lambda: failures() == 2)
        asyncio.run(accept_inserts(database_url))
        assert ask(client, "Why do cats purr?")[0] == "miss"
        wait_until(lambda: entries(url)["total"] == 2)
        assert ask(client, "Why do cats purr?")[0] == "hit"
    assert len(fake.requests) == 4


def test_size_cap_evicts_the_least_recently_used(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "max_entries": 2}})
    with serve(LayerCacheApp(settings)) as url:
        client = oai(url, KEY_A)
        ask(client, "What is the tallest mountain?")
        ask(client, "What is the longest river?")
        assert ask(client, "What is the tallest mountain?")[0] == "hit"  # now the most recently used
        wait_until(lambda: any(e["hits"] == 1 for e in entries(url)["data"]))
        ask(client, "What is the largest desert?")  # evicts the river, least recently used
        remaining = {e["query"] for e in entries(url)["data"]}
        assert remaining == {"What is the tallest mountain?", "What is the largest desert?"}
        assert ask(client, "What is the longest river?")[0] == "miss"


def test_expired_entries_are_purged_in_the_background(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True, "purge_interval_seconds": 0.2}})
    with serve(LayerCacheApp(settings)) as url:
        ask(oai(url, KEY_A), "What is a quark?", extra_body={"lc_cache_ttl": 1})
        ask(oai(url, KEY_A), "What is a lepton?")
        assert entries(url, include_expired="true")["total"] == 2
        wait_until(lambda: entries(url, include_expired="true")["total"] == 1)
        assert entries(url)["data"][0]["query"] == "What is a lepton?"
