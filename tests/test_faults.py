"""Faults answered well: a database that goes away or starts late, every response counted, safe labels."""
# On sockets: a database that goes away under a served app, and a raw client reading every response; not converted yet.

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from sqlalchemy.engine import make_url

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.metrics._labels import MAX_UNKNOWN
from layercache_asgi.testing import FakeProvider, serve
from tests._pg import fresh_postgres_database
from tests._relay import TcpRelay
from tests.conftest import ADMIN, ADMIN_KEY, PG_URL, unique
from tests.test_metrics import prometheus, sample, wait_for


def component_up(proxy: str, component: str) -> float:
    return sample(prometheus(proxy), "layercache_component_up", component=component)


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
def test_a_database_that_goes_away_mid_run_gives_503s_and_is_reported_down_then_up(
    make_settings: Callable[..., Settings], relayed_database: tuple[TcpRelay, str]
) -> None:
    relay, url = relayed_database
    relay.start()
    settings = make_settings(database={"url": url, "health_check_seconds": 0.2})
    with serve(LayerCacheApp(settings)) as proxy:
        client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test-db-down", max_retries=0)
        assert httpx.get(f"{proxy}/v1/cache/entries", headers=ADMIN).status_code == 200
        assert component_up(proxy, "database") == 1
        tab = httpx.Client(base_url=proxy, follow_redirects=False)
        login = tab.get("/dashboard/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert tab.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token}).status_code == 303

        relay.stop()
        # The periodic check notices within an interval, with no request touching the database.
        wait_for(lambda: component_up(proxy, "database") == 0, timeout=10)
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
            response = httpx.request(method, f"{proxy}{path}", json=body, headers=ADMIN)
            assert response.status_code == 503, (method, path, response.status_code, response.text)
            assert response.headers["content-type"].startswith("application/json"), path
            assert response.json()["error"]["type"] == "api_error", path
        down = httpx.get(f"{proxy}/v1/cache/entries", headers=ADMIN).json()
        assert "database is unavailable" in down["error"]["message"]
        for page in ("/dashboard/cache", "/dashboard/templates"):
            shown = tab.get(page)
            assert shown.status_code == 503, page
            assert shown.headers["content-type"].startswith("text/html")
            assert "database is unavailable" in shown.text, page
        # The proxy itself keeps answering, uncached.
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "Echo: hi"
        samples = prometheus(proxy)
        assert sample(samples, "layercache_faults_total", component="db", event="database_unavailable") >= 1
        assert sample(samples, "layercache_faults_total", component="db", event="database_down") == 1
        assert sample(samples, "layercache_responses_total", route="/v1/cache/entries", status="503") >= 2

        relay.start()
        wait_for(lambda: component_up(proxy, "database") == 1, timeout=10)
        wait_for(lambda: httpx.get(f"{proxy}/v1/cache/entries", headers=ADMIN).status_code == 200, timeout=10)
        assert tab.get("/dashboard/cache").status_code == 200


@pytest.mark.postgres
def test_a_database_down_at_start_is_retried_in_the_background_and_used_once_it_answers(
    make_settings: Callable[..., Settings], relayed_database: tuple[TcpRelay, str]
) -> None:
    relay, url = relayed_database  # not started: nothing listens there yet
    settings = make_settings(
        database={"url": url, "health_check_seconds": 0.2},
        caching={"semantic": {"enabled": True}},
        metrics={"snapshot_interval_seconds": 0.2},
    )
    app = LayerCacheApp(settings)
    with serve(app) as proxy:
        client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test-db-late", max_retries=0)
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "Echo: hi"
        assert component_up(proxy, "database") == 0
        assert httpx.get(f"{proxy}/health").json()["semantic_cache"] is False
        templates = httpx.get(f"{proxy}/v1/prompts/templates", headers=ADMIN).json()
        assert templates["persistent"] is False
        kept = {"name": "kept", "system": "Be kind."}
        saved_meanwhile = httpx.post(f"{proxy}/v1/prompts/templates", json=kept, headers=ADMIN)
        assert saved_meanwhile.status_code == 201

        relay.start()
        wait_for(lambda: component_up(proxy, "database") == 1, timeout=30)
        wait_for(lambda: httpx.get(f"{proxy}/health").json()["semantic_cache"] is True, timeout=120)
        templates = httpx.get(f"{proxy}/v1/prompts/templates", headers=ADMIN).json()
        assert templates["persistent"] is True
        assert [t["name"] for t in templates["data"]] == ["kept"]  # what was saved in memory was carried over
        assert httpx.get(f"{proxy}/v1/cache/metrics/status", headers=ADMIN).json()["persisted"] is True
        assert app.runtime.db is not None

        # The semantic cache now stores answers and serves them.
        question = [{"role": "user", "content": "What is the capital of France?"}]
        client.chat.completions.create(model="gpt-4o-mini", messages=question)
        wait_for(lambda: httpx.get(f"{proxy}/v1/cache/entries", headers=ADMIN).json()["total"] == 1)
        client.chat.completions.create(model="gpt-4o-mini", messages=question)
        wait_for(lambda: sample(prometheus(proxy), "layercache_semantic_cache_total", result="hit") == 1)


# -- every response counted ----------------------------------------------------------------


def test_every_response_is_counted_by_route_and_status_and_each_rejection_logged(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-secret-key-000111")
    settings = make_settings(proxy={"proxy_api_key": "proxy-key-for-counts", "max_body_bytes": 4096})
    app = LayerCacheApp(settings)
    key = {"authorization": "Bearer proxy-key-for-counts"}
    secret_prompt = "the-private-prompt-text"
    with serve(app) as proxy, httpx.Client(base_url=proxy, headers=key) as http:
        chat = "/v1/chat/completions"
        good = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        assert http.post(chat, json=good).status_code == 200
        assert http.post(chat, content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
        assert http.post(chat, json={"messages": [{"role": "user", "content": secret_prompt}]}).status_code == 400
        assert http.post(chat, json=good, headers={"authorization": "Bearer wrong"}).status_code == 401
        assert http.post(chat, content=b"x" * 5000, headers={"content-type": "application/json"}).status_code == 413
        assert http.get(chat).status_code == 405
        assert http.get("/no/such/route").status_code == 404
        assert http.request("BREW", "/v1/some-coffee").status_code in (404, 405)
        anthropic_bad = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": secret_prompt}]}
        assert http.post("/v1/messages", json=anthropic_bad).status_code == 400  # no max_tokens
        assert http.delete("/v1/cache/entries/not-a-number", headers=ADMIN).status_code == 400
        assert http.get("/metrics").status_code == 200

        samples = prometheus(proxy)

        def responses(route: str, method: str, status: int) -> float:
            return sample(samples, "layercache_responses_total", route=route, method=method, status=str(status))

        assert responses(chat, "POST", 200) == 1
        assert responses(chat, "POST", 400) == 2
        assert responses(chat, "POST", 401) == 1
        assert responses(chat, "POST", 413) == 1
        assert responses(chat, "GET", 405) == 1
        assert responses("unmatched", "GET", 404) == 1
        assert sample(samples, "layercache_responses_total", method="BREW") == 0  # methods are a fixed set
        assert responses("unmatched", "other", 404) == 1
        assert responses("/v1/messages", "POST", 400) == 1
        assert responses("/v1/cache/entries/{entry_id}", "DELETE", 400) == 1
        assert responses("/metrics", "GET", 200) == 1

        lines = [line for line in app.runtime.logs.tail(500) if line.get("event") == "request_rejected"]
        reasons = {(line["route"], line["status"]): line["reason"] for line in lines}
        assert "not valid JSON" in reasons[(chat, 400)] or "'model' is required" in reasons[(chat, 400)]
        assert reasons[(chat, 413)] == "request body larger than 4096 bytes"
        assert "max_tokens" in reasons[("/v1/messages", 400)]
        assert reasons[("unmatched", 404)].startswith("layercache-asgi does not serve ")
        assert len(lines) == 9
        text = repr(lines)
        for secret in (secret_prompt, "proxy-key-for-counts", "sk-provider-secret-key-000111"):
            assert secret not in text


def test_upstream_errors_name_the_provider_of_the_deployment_that_failed(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    with serve(LayerCacheApp(make_settings())) as proxy:
        client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test-1", max_retries=0)
        claude = anthropic.Anthropic(base_url=proxy, api_key="sk-ant-test-1", max_retries=0)
        fake.fail_next = [500]
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        fake.fail_next = [400]
        with pytest.raises(anthropic.BadRequestError):
            claude.messages.create(
                model="claude-sonnet-4-6", max_tokens=10, messages=[{"role": "user", "content": "y"}]
            )

        def counted() -> dict[Any, float]:
            samples = prometheus(proxy)
            return samples if sample(samples, "layercache_upstream_errors_total") == 2 else {}

        samples = wait_for(counted)
    assert sample(samples, "layercache_upstream_errors_total", provider="openai", status="500") == 1
    assert sample(samples, "layercache_upstream_errors_total", provider="anthropic", status="400") == 1
    assert sample(samples, "layercache_upstream_errors_total", provider="none") == 0
    assert sample(samples, "layercache_requests_total", provider="openai", status="500") == 1
    assert sample(samples, "layercache_requests_total", provider="anthropic", status="400") == 1


# -- metric labels stay safe and bounded ---------------------------------------------------


def test_a_model_name_that_is_not_valid_text_does_not_break_any_metrics_view(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(metrics={"snapshot_interval_seconds": 0.2})
    with serve(LayerCacheApp(settings)) as proxy, httpx.Client(base_url=proxy, timeout=60) as http:
        body = b'{"model": "x\\ud800", "messages": [{"role": "user", "content": "hi"}]}'
        response = http.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400  # text that cannot be encoded is refused at parse
        # Names that parse but make poor labels: control characters, bidi overrides, 200+ characters.
        odd = b'{"model": "gpt-\\u0000\\u202e' + b"z" * 200 + b'", "messages": [{"role": "user", "content": "hi"}]}'
        http.post("/v1/chat/completions", content=odd, headers={"content-type": "application/json"})
        routed = b'{"model": "gpt-4o-\\u2028\\u0007", "messages": [{"role": "user", "content": "hi"}]}'
        http.post("/v1/chat/completions", content=routed, headers={"content-type": "application/json"})
        unicode = b'{"model": "gpt-\\u00e9\\ud83d\\ude00", "messages": [{"role": "user", "content": "hi"}]}'
        http.post("/v1/chat/completions", content=unicode, headers={"content-type": "application/json"})
        # Recorded just after the answer: wait until the requests are counted.
        wait_for(lambda: sample(prometheus(proxy), "layercache_requests_total") == 3)
        scraped = http.get("/metrics")
        assert scraped.status_code == 200
        assert http.get("/v1/cache/metrics", headers=ADMIN).status_code == 200
        login = http.get("/dashboard/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert http.post("/dashboard/login", data={"key": ADMIN_KEY, "csrf_token": token}).status_code == 303
        assert http.get("/dashboard/models").status_code == 200
        assert http.get("/dashboard/logs").status_code == 200  # its lines quote the model too
        models = set(http.get("/v1/cache/metrics", headers=ADMIN).json()["models"])
        assert all(m.isprintable() and len(m) <= 100 for m in models), models
        # Snapshots of those counters are written too (the history sums them).
        history = "/v1/cache/metrics/history?window=10m&bucket=1m"
        wait_for(lambda: sum(b["requests"] for b in http.get(history, headers=ADMIN).json()["buckets"]) == 3)


def test_model_labels_are_bounded_however_many_names_clients_send(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(models=[{"name": "smart", "model": "openai/gpt-4o"}])
    names = [f"openai/{unique('probe')}" for _ in range(500)]
    with serve(LayerCacheApp(settings)) as proxy, httpx.Client(base_url=proxy, timeout=30) as http:
        chat = {"messages": [{"role": "user", "content": "hi"}]}
        for name in names:
            assert http.post("/v1/chat/completions", json={"model": name, **chat}).status_code == 200
        for name in ("smart", "gpt-4o-mini"):  # configured and known names keep their label past the cap
            assert http.post("/v1/chat/completions", json={"model": name, **chat}).status_code == 200
        wait_for(lambda: sample(prometheus(proxy), "layercache_requests_total") == 502)
        assert http.get("/metrics").status_code == 200
        samples = prometheus(proxy)
        labels = {dict(ls)["model"] for n, ls in samples if n == "layercache_requests_total"}
        assert len(labels) == MAX_UNKNOWN + 3, len(labels)
        assert {"other", "smart", "gpt-4o-mini"} <= labels
        assert sample(samples, "layercache_requests_total", model="other") == 500 - MAX_UNKNOWN
        assert len(http.get("/v1/cache/metrics", headers=ADMIN).json()["models"]) == MAX_UNKNOWN + 3


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
    import asyncpg

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
def test_answers_waiting_to_be_written_show_as_a_gauge(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    settings = make_settings(caching={"semantic": {"enabled": True}})
    with serve(LayerCacheApp(settings)) as proxy:
        client = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-test-pending", max_retries=0)

        def pending() -> float:
            return sample(prometheus(proxy), "layercache_semantic_pending_writes")

        wait_for(lambda: httpx.get(f"{proxy}/health").json()["semantic_cache"], timeout=120)
        assert pending() == 0
        with writes_blocked(database_url):
            for question in ("How tall is Mont Blanc?", "Who wrote Faust?", "When did Rome fall?"):
                client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
            wait_for(lambda: pending() == 3, timeout=4)  # inside SQLite's 5 s busy timeout
        wait_for(lambda: pending() == 0)
        assert httpx.get(f"{proxy}/v1/cache/entries", headers=ADMIN).json()["total"] == 3


def test_when_mounted_responses_are_counted_by_the_proxys_own_routes(make_settings: Callable[..., Settings]) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    llm = LayerCacheApp(make_settings())
    host = Starlette(routes=[Mount("/llm", app=llm)])
    with serve(host) as url, httpx.Client(base_url=f"{url}/llm") as http:
        assert http.get("/no/such/route").status_code == 404
        assert http.get("/v1/models").status_code == 200
        samples = prometheus(f"{url}/llm")
    assert sample(samples, "layercache_responses_total", route="unmatched", status="404") == 1
    assert sample(samples, "layercache_responses_total", route="/v1/models", method="GET", status="200") == 1
    assert sample(samples, "layercache_responses_total", route="/llm") == 0


def test_a_dashboard_page_that_hits_a_dead_database_gets_an_html_503_and_an_api_a_json_one() -> None:
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
    with serve(AnswerFaults(router, get_db=lambda: None)) as url:
        page = httpx.get(f"{url}/dashboard/cache")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert "database is unavailable" in page.text
        anthropic_shape = httpx.get(f"{url}/v1/messages/batches")
        assert anthropic_shape.status_code == 503
        assert anthropic_shape.json() == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": DATABASE_UNAVAILABLE},
        }
        bug = httpx.get(f"{url}/v1/cache/entries")
        assert bug.status_code == 500 and bug.json()["error"]["message"] == "internal error"
