"""Faults answered well: a database that goes away or starts late, every response counted, safe labels."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from sqlalchemy.engine import make_url

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.metrics._labels import MAX_UNKNOWN
from layercache_asgi.testing import FakeProvider
from layercache_asgi.types import ASGIApp
from tests._metrics import eventually, prometheus_of, sample
from tests._pg import fresh_postgres_database
from tests._relay import TcpRelay
from tests.conftest import ADMIN, ADMIN_KEY, PG_URL, async_anthropic, async_openai, client_of, unique

pytestmark = pytest.mark.in_process

CHAT = "/v1/chat/completions"


@contextlib.asynccontextmanager
async def proxy_of(settings: Settings, fake: ASGIApp) -> AsyncIterator[tuple[LayerCacheApp, httpx.AsyncClient]]:
    """An app in front of ``fake`` and a client of it, in-process; the app is shut down afterwards."""
    app = LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake))
    async with client_of(app) as client:
        yield app, client


async def component_is(proxy: httpx.AsyncClient, component: str, want: float) -> bool:
    return sample(await prometheus_of(proxy), "layercache_component_up", component=component) == want


async def status_is(proxy: httpx.AsyncClient, path: str, want: int) -> bool:
    return (await proxy.get(path, headers=ADMIN)).status_code == want


async def logged_in(proxy: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client of the same app with a dashboard session (its own cookies)."""
    tab = httpx.AsyncClient(transport=proxy._transport, base_url=proxy.base_url, follow_redirects=False)
    login = (await tab.get("/dashboard/login")).text
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert (await tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token})).status_code == 303
    return tab


@pytest.fixture
def relayed_database() -> Iterator[tuple[TcpRelay, str]]:
    """A fresh PostgreSQL database reached through a relay the test can stop (database down) and start."""
    with fresh_postgres_database(PG_URL) as url:
        parsed = make_url(url)
        relay = TcpRelay((parsed.host or "127.0.0.1", parsed.port or 5432))
        try:
            yield relay, parsed.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        finally:
            relay.stop()


# -- the database goes away, and comes back ------------------------------------------------


@pytest.mark.postgres
async def test_a_database_that_goes_away_mid_run_gives_503s_and_is_reported_down_then_up(
    make_settings: Callable[..., Settings], relayed_database: tuple[TcpRelay, str], fake: FakeProvider
) -> None:
    relay, url = relayed_database
    relay.start()
    settings = make_settings(database={"url": url, "health_check_seconds": 0.2})
    async with proxy_of(settings, fake) as (_, proxy):
        client = async_openai(proxy, api_key="sk-test-db-down")
        assert (await proxy.get("/v1/cache/entries", headers=ADMIN)).status_code == 200
        assert await component_is(proxy, "database", 1)
        tab = await logged_in(proxy)

        relay.stop()
        # The periodic check notices within an interval, with no request touching the database.
        await eventually(lambda: component_is(proxy, "database", 0), timeout=10)
        calls = [
            ("GET", "/v1/cache/entries", None),
            ("DELETE", "/v1/cache/entries?all=true", None),
            ("DELETE", "/v1/cache/entries/7", None),
            ("GET", "/v1/prompts/templates", None),
            ("GET", "/v1/prompts/templates/greeting", None),
            ("POST", "/v1/prompts/templates", {"name": "greeting", "system": "Be brief."}),
            ("DELETE", "/v1/prompts/templates/greeting", None),
            ("GET", "/v1/cache/metrics/history", None),
            ("GET", "/v1/cache/metrics/status", None),
        ]
        for method, path, body in calls:
            response = await proxy.request(method, path, json=body, headers=ADMIN)
            assert response.status_code == 503, (method, path, response.status_code, response.text)
            assert response.headers["content-type"].startswith("application/json"), path
            assert response.json()["error"]["type"] == "api_error", path
        down = (await proxy.get("/v1/cache/entries", headers=ADMIN)).json()
        assert "database is unavailable" in down["error"]["message"]
        for page in ("/dashboard/cache", "/dashboard/templates"):
            shown = await tab.get(page)
            assert shown.status_code == 503, page
            assert shown.headers["content-type"].startswith("text/html")
            assert "database is unavailable" in shown.text, page
        # The proxy itself keeps answering, uncached.
        answer = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "Echo: hi"
        samples = await prometheus_of(proxy)
        assert sample(samples, "layercache_faults_total", component="db", event="database_unavailable") >= 1
        assert sample(samples, "layercache_faults_total", component="db", event="database_down") == 1
        assert sample(samples, "layercache_responses_total", route="/v1/cache/entries", status="503") >= 2

        relay.start()
        await eventually(lambda: component_is(proxy, "database", 1), timeout=10)
        await eventually(lambda: status_is(proxy, "/v1/cache/entries", 200), timeout=10)
        assert (await tab.get("/dashboard/cache")).status_code == 200


@pytest.mark.postgres
async def test_a_database_down_at_start_is_retried_in_the_background_and_used_once_it_answers(
    make_settings: Callable[..., Settings], relayed_database: tuple[TcpRelay, str], fake: FakeProvider
) -> None:
    relay, url = relayed_database  # not started: nothing listens there yet
    settings = make_settings(
        database={"url": url, "health_check_seconds": 0.2},
        caching={"semantic": {"enabled": True}},
        metrics={"snapshot_interval_seconds": 0.2},
    )
    async with proxy_of(settings, fake) as (app, proxy):
        client = async_openai(proxy, api_key="sk-test-db-late")

        async def semantic_on() -> bool:
            return bool((await proxy.get("/health")).json()["semantic_cache"])

        async def entries(want: int) -> bool:
            return bool((await proxy.get("/v1/cache/entries", headers=ADMIN)).json()["total"] == want)

        async def semantic_hits(want: int) -> bool:
            return sample(await prometheus_of(proxy), "layercache_semantic_cache_total", result="hit") == want

        answer = await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "Echo: hi"
        assert await component_is(proxy, "database", 0)
        assert not await semantic_on()
        templates = (await proxy.get("/v1/prompts/templates", headers=ADMIN)).json()
        assert templates["persistent"] is False
        kept = {"name": "kept", "system": "Be kind."}
        saved_meanwhile = await proxy.post("/v1/prompts/templates", json=kept, headers=ADMIN)
        assert saved_meanwhile.status_code == 201

        relay.start()
        await eventually(lambda: component_is(proxy, "database", 1), timeout=30)
        await eventually(semantic_on, timeout=120)
        templates = (await proxy.get("/v1/prompts/templates", headers=ADMIN)).json()
        assert templates["persistent"] is True
        assert [t["name"] for t in templates["data"]] == ["kept"]  # what was saved in memory was carried over
        assert (await proxy.get("/v1/cache/metrics/status", headers=ADMIN)).json()["persisted"] is True
        assert app.runtime.db is not None

        # The semantic cache now stores answers and serves them.
        question: Any = [{"role": "user", "content": "What is the capital of France?"}]
        await client.chat.completions.create(model="gpt-4o-mini", messages=question)
        await eventually(lambda: entries(1))
        await client.chat.completions.create(model="gpt-4o-mini", messages=question)
        await eventually(lambda: semantic_hits(1))


# -- every response counted ----------------------------------------------------------------


async def test_every_response_is_counted_by_route_and_status_and_each_rejection_logged(
    make_settings: Callable[..., Settings], fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-secret-key-000111")
    settings = make_settings(proxy={"proxy_api_key": "proxy-key-for-counts", "max_body_bytes": 4096})
    key = {"authorization": "Bearer proxy-key-for-counts"}
    secret_prompt = "the-private-prompt-text"
    async with proxy_of(settings, fake) as (app, http):
        http.headers.update(key)
        good = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        as_json = {"content-type": "application/json"}
        assert (await http.post(CHAT, json=good)).status_code == 200
        assert (await http.post(CHAT, content=b"{not json", headers=as_json)).status_code == 400
        assert (
            await http.post(CHAT, json={"messages": [{"role": "user", "content": secret_prompt}]})
        ).status_code == 400
        assert (await http.post(CHAT, json=good, headers={"authorization": "Bearer wrong"})).status_code == 401
        assert (await http.post(CHAT, content=b"x" * 5000, headers=as_json)).status_code == 413
        assert (await http.get(CHAT)).status_code == 405
        assert (await http.get("/no/such/route")).status_code == 404
        assert (await http.request("BREW", "/v1/some-coffee")).status_code in (404, 405)
        anthropic_bad = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": secret_prompt}]}
        assert (await http.post("/v1/messages", json=anthropic_bad)).status_code == 400  # no max_tokens
        assert (await http.delete("/v1/cache/entries/not-a-number", headers=ADMIN)).status_code == 400
        assert (await http.get("/metrics")).status_code == 200

        samples = await prometheus_of(http)

        def responses(route: str, method: str, status: int) -> float:
            return sample(samples, "layercache_responses_total", route=route, method=method, status=str(status))

        assert responses(CHAT, "POST", 200) == 1
        assert responses(CHAT, "POST", 400) == 2
        assert responses(CHAT, "POST", 401) == 1
        assert responses(CHAT, "POST", 413) == 1
        assert responses(CHAT, "GET", 405) == 1
        assert responses("unmatched", "GET", 404) == 1
        assert sample(samples, "layercache_responses_total", method="BREW") == 0  # methods are a fixed set
        assert responses("unmatched", "other", 404) == 1
        assert responses("/v1/messages", "POST", 400) == 1
        assert responses("/v1/cache/entries/{entry_id}", "DELETE", 400) == 1
        assert responses("/metrics", "GET", 200) == 1

        assert app.runtime.logs is not None
        lines = [line for line in app.runtime.logs.tail(500) if line.get("event") == "request_rejected"]
        reasons = {(line["route"], line["status"]): line["reason"] for line in lines}
        assert "not valid JSON" in reasons[(CHAT, 400)] or "'model' is required" in reasons[(CHAT, 400)]
        assert reasons[(CHAT, 413)] == "request body larger than 4096 bytes"
        assert "max_tokens" in reasons[("/v1/messages", 400)]
        assert reasons[("unmatched", 404)].startswith("layercache-asgi does not serve ")
        assert len(lines) == 9
        text = repr(lines)
        for secret in (secret_prompt, "proxy-key-for-counts", "sk-provider-secret-key-000111"):
            assert secret not in text


async def test_upstream_errors_name_the_provider_of_the_deployment_that_failed(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with proxy_of(make_settings(), fake) as (_, proxy):
        client = async_openai(proxy, api_key="sk-test-1")
        claude = async_anthropic(proxy, api_key="sk-ant-test-1")
        fake.fail_next = [500]
        with pytest.raises(openai.InternalServerError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        fake.fail_next = [400]
        with pytest.raises(anthropic.BadRequestError):
            await claude.messages.create(
                model="claude-sonnet-4-6", max_tokens=10, messages=[{"role": "user", "content": "y"}]
            )

        async def counted() -> dict[Any, float]:
            samples = await prometheus_of(proxy)
            return samples if sample(samples, "layercache_upstream_errors_total") == 2 else {}

        samples = await eventually(counted)
    assert sample(samples, "layercache_upstream_errors_total", provider="openai", status="500") == 1
    assert sample(samples, "layercache_upstream_errors_total", provider="anthropic", status="400") == 1
    assert sample(samples, "layercache_upstream_errors_total", provider="none") == 0
    assert sample(samples, "layercache_requests_total", provider="openai", status="500") == 1
    assert sample(samples, "layercache_requests_total", provider="anthropic", status="400") == 1


# -- metric labels stay safe and bounded ---------------------------------------------------


async def test_a_model_name_that_is_not_valid_text_does_not_break_any_metrics_view(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(metrics={"snapshot_interval_seconds": 0.2})
    as_json = {"content-type": "application/json"}
    async with proxy_of(settings, fake) as (_, http):
        body = b'{"model": "x\\ud800", "messages": [{"role": "user", "content": "hi"}]}'
        response = await http.post(CHAT, content=body, headers=as_json)
        assert response.status_code == 400  # text that cannot be encoded is refused at parse
        # Names that parse but make poor labels: control characters, bidi overrides, 200+ characters.
        odd = b'{"model": "gpt-\\u0000\\u202e' + b"z" * 200 + b'", "messages": [{"role": "user", "content": "hi"}]}'
        await http.post(CHAT, content=odd, headers=as_json)
        routed = b'{"model": "gpt-4o-\\u2028\\u0007", "messages": [{"role": "user", "content": "hi"}]}'
        await http.post(CHAT, content=routed, headers=as_json)
        unicode = b'{"model": "gpt-\\u00e9\\ud83d\\ude00", "messages": [{"role": "user", "content": "hi"}]}'
        await http.post(CHAT, content=unicode, headers=as_json)

        async def requests_counted(want: int) -> bool:
            return sample(await prometheus_of(http), "layercache_requests_total") == want

        # Recorded just after the answer: wait until the requests are counted.
        await eventually(lambda: requests_counted(3))
        scraped = await http.get("/metrics")
        assert scraped.status_code == 200
        assert (await http.get("/v1/cache/metrics", headers=ADMIN)).status_code == 200
        tab = await logged_in(http)
        assert (await tab.get("/dashboard/models")).status_code == 200
        assert (await tab.get("/dashboard/logs")).status_code == 200  # its lines quote the model too
        models = set((await http.get("/v1/cache/metrics", headers=ADMIN)).json()["models"])
        assert all(m.isprintable() and len(m) <= 100 for m in models), models
        # Snapshots of those counters are written too (the history sums them).
        history = "/v1/cache/metrics/history?window=10m&bucket=1m"

        async def history_counts(want: int) -> bool:
            doc: dict[str, Any] = (await http.get(history, headers=ADMIN)).json()
            return bool(sum(b["requests"] for b in doc["buckets"]) == want)

        await eventually(lambda: history_counts(3))


async def test_model_labels_are_bounded_however_many_names_clients_send(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(models=[{"name": "smart", "model": "openai/gpt-4o"}])
    names = [f"openai/{unique('probe')}" for _ in range(500)]
    async with proxy_of(settings, fake) as (_, http):
        chat = {"messages": [{"role": "user", "content": "hi"}]}
        for name in names:
            assert (await http.post(CHAT, json={"model": name, **chat})).status_code == 200
        for name in ("smart", "gpt-4o-mini"):  # configured and known names keep their label past the cap
            assert (await http.post(CHAT, json={"model": name, **chat})).status_code == 200

        async def requests_counted(want: int) -> bool:
            return sample(await prometheus_of(http), "layercache_requests_total") == want

        await eventually(lambda: requests_counted(502))
        assert (await http.get("/metrics")).status_code == 200
        samples = await prometheus_of(http)
        labels = {dict(ls)["model"] for n, ls in samples if n == "layercache_requests_total"}
        assert len(labels) == MAX_UNKNOWN + 3, len(labels)
        assert {"other", "smart", "gpt-4o-mini"} <= labels
        assert sample(samples, "layercache_requests_total", model="other") == 500 - MAX_UNKNOWN
        assert len((await http.get("/v1/cache/metrics", headers=ADMIN)).json()["models"]) == MAX_UNKNOWN + 3


# -- write-behind backlog ------------------------------------------------------------------


@contextlib.contextmanager
def writes_blocked(database_url: str) -> Iterator[None]:
    """Hold a lock that lets the proxy read the semantic cache table but not insert into it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database or "", isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")  # WAL: readers go on, writers wait
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import asyncpg  # type: ignore[import-untyped]

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    conn = run(asyncpg.connect(host=url.host, port=url.port, user=url.username, database=url.database))
    run(conn.execute("BEGIN; LOCK TABLE semantic_entries IN EXCLUSIVE MODE"))
    try:
        yield
    finally:
        run(conn.execute("ROLLBACK"))
        run(conn.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.mark.postgres
async def test_answers_waiting_to_be_written_show_as_a_gauge(
    make_settings: Callable[..., Settings], database_url: str, fake: FakeProvider
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True}})
    async with proxy_of(settings, fake) as (_, proxy):
        client = async_openai(proxy, api_key="sk-test-pending")

        async def pending(want: float) -> bool:
            return sample(await prometheus_of(proxy), "layercache_semantic_pending_writes") == want

        async def semantic_on() -> bool:
            return bool((await proxy.get("/health")).json()["semantic_cache"])

        await eventually(semantic_on, timeout=120)
        assert await pending(0)
        with writes_blocked(database_url):
            for question in ("How tall is Mont Blanc?", "Who wrote Faust?", "When did Rome fall?"):
                await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
                )
            await eventually(lambda: pending(3), timeout=4)  # inside SQLite's 5 s busy timeout
        await eventually(lambda: pending(0))
        assert (await proxy.get("/v1/cache/entries", headers=ADMIN)).json()["total"] == 3


async def test_when_mounted_responses_are_counted_by_the_proxys_own_routes(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    llm = LayerCacheApp(make_settings(), transport=httpx.ASGITransport(app=fake))
    host = Starlette(routes=[Mount("/llm", app=llm)])
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=host), base_url="http://host.test/llm") as http:
            assert (await http.get("/no/such/route")).status_code == 404
            assert (await http.get("/v1/models")).status_code == 200
            samples = await prometheus_of(http)
    finally:
        await llm.shutdown()
    assert sample(samples, "layercache_responses_total", route="unmatched", status="404") == 1
    assert sample(samples, "layercache_responses_total", route="/v1/models", method="GET", status="200") == 1
    assert sample(samples, "layercache_responses_total", route="/llm") == 0


async def test_a_dashboard_page_that_hits_a_dead_database_gets_an_html_503_and_an_api_a_json_one() -> None:
    from starlette.responses import Response
    from starlette.routing import Route, Router

    from layercache_asgi._answer_faults import DATABASE_UNAVAILABLE, AnswerFaults

    async def reads_the_database(request: Any) -> Response:
        raise ConnectionRefusedError("Connect call failed ('127.0.0.1', 5432)")

    async def has_a_bug(request: Any) -> Response:
        raise KeyError("oops")

    router = Router(
        routes=[
            Route("/dashboard/cache", reads_the_database),
            Route("/v1/messages/batches", reads_the_database),
            Route("/v1/cache/entries", has_a_bug),
        ]
    )
    app = AnswerFaults(router, get_db=lambda: None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://faults.test") as http:
        page = await http.get("/dashboard/cache")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert "database is unavailable" in page.text
        anthropic_shape = await http.get("/v1/messages/batches")
        assert anthropic_shape.status_code == 503
        assert anthropic_shape.json() == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": DATABASE_UNAVAILABLE},
        }
        bug = await http.get("/v1/cache/entries")
        assert bug.status_code == 500 and bug.json()["error"]["message"] == "internal error"
