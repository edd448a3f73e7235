"""Metrics after real requests through the SDKs: Prometheus text, the JSON API, savings, history."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import openai
import pytest

from layercache_asgi import Completion, LayerCacheApp, PrefixCheck, Saved, Settings, Usage, get_exchange
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from ._metrics import eventually, prometheus_of, requests_of_model, sample, summary_of
from .conftest import ADMIN, ADMIN_KEY, async_anthropic, async_openai, client_of

pytestmark = pytest.mark.in_process

# claude-sonnet-4-6 in LiteLLM's map: input 3e-6, cache read 3e-7, cache write 3.75e-6 (5m) / 6e-6 (1h).
SONNET = "claude-sonnet-4-6"


class ScriptedUsageFake(FakeProvider):
    """Reports exactly the usage the test sets, like a provider whose prefix cache was read or written."""

    next_usage: Usage | None = None

    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        return self.next_usage or super().usage_for(wire, body, completion)


def ask_openai(proxy: httpx.AsyncClient, api_key: str = "sk-test-1") -> Callable[..., Awaitable[Any]]:
    """``await ask(model, text)``: one chat completion through the OpenAI SDK."""
    client = async_openai(proxy, api_key=api_key)

    async def ask(model: str, text: str) -> Any:
        return await client.chat.completions.create(model=model, messages=[{"role": "user", "content": text}])

    return ask


async def test_requests_and_tokens_counted_from_what_the_provider_reported(
    aopenai: openai.AsyncOpenAI, http: httpx.AsyncClient
) -> None:
    answers = [
        await aopenai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}])
        for i in range(2)
    ]
    stream = await aopenai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "streamed"}], stream=True
    )
    assert "".join([c.choices[0].delta.content or "" async for c in stream if c.choices]) == "Echo: streamed"
    await eventually(lambda: requests_of_model(http, "gpt-4o-mini", 3))

    model = (await summary_of(http))["models"]["gpt-4o-mini"]
    prompt = sum(a.usage.prompt_tokens for a in answers if a.usage)
    output = sum(a.usage.completion_tokens for a in answers if a.usage)
    assert model["tokens"]["uncached_input"] > prompt  # plus the streamed request's prompt
    assert model["tokens"]["output"] > output
    assert model["cost_usd"] > 0
    assert model["errors"] == 0

    samples = await prometheus_of(http)
    assert sample(samples, "layercache_requests_total", model="gpt-4o-mini", status="200", provider="openai") == 3
    assert (
        sample(samples, "layercache_uncached_prompt_tokens_total", model="gpt-4o-mini")
        == (model["tokens"]["uncached_input"])
    )
    assert sample(samples, "layercache_completion_tokens_total", model="gpt-4o-mini") == model["tokens"]["output"]
    # The latency was measured after the timer stopped: never zero.
    assert sample(samples, "layercache_upstream_latency_seconds_count", model="gpt-4o-mini") == 3
    assert sample(samples, "layercache_upstream_latency_seconds_sum", model="gpt-4o-mini") > 0
    assert sample(samples, "layercache_proxy_overhead_seconds_count") == 3


async def test_upstream_latency_includes_the_providers_delay(
    aopenai: openai.AsyncOpenAI, http: httpx.AsyncClient, fake: FakeProvider
) -> None:
    fake.delay = 0.3
    await aopenai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "slow"}])
    await eventually(lambda: requests_of_model(http, "gpt-4o", 1))
    assert sample(await prometheus_of(http), "layercache_upstream_latency_seconds_sum", model="gpt-4o") >= 0.3


async def test_anthropic_cache_reads_save_and_writes_cost_a_premium(make_settings: Callable[..., Settings]) -> None:
    scripted = ScriptedUsageFake()
    async with in_process(scripted, make_settings()) as proxy:
        client = async_anthropic(proxy, api_key="sk-ant-test-1")

        async def ask(text: str) -> None:
            await client.messages.create(model=SONNET, max_tokens=50, messages=[{"role": "user", "content": text}])

        scripted.next_usage = Usage(uncached_input=10, cache_write=1000, output=5)
        await ask("first: writes the prefix")
        await eventually(lambda: requests_of_model(proxy, SONNET, 1))
        first = (await summary_of(proxy))["models"][SONNET]
        # 1000 written tokens at 1.25x instead of 1x: a net loss of 1000 * 0.75e-6 USD.
        assert first["saved_usd"]["prefix_cache"] == pytest.approx(-1000 * 0.75e-6)
        assert first["saved_usd"]["net"] < 0
        assert first["tokens"]["cache_write"] == 1000
        assert first["cost_usd"] == pytest.approx(10 * 3e-6 + 1000 * 3.75e-6 + 5 * 15e-6)
        gauge = sample(await prometheus_of(proxy), "layercache_cost_saved_usd", model=SONNET, source="prefix_cache")
        assert gauge == pytest.approx(-1000 * 0.75e-6)

        scripted.next_usage = Usage(uncached_input=10, cache_read=1000, output=5)
        await ask("second: reads it")
        await eventually(lambda: requests_of_model(proxy, SONNET, 2))
        second = (await summary_of(proxy))["models"][SONNET]
        read_saving = 1000 * (3e-6 - 3e-7)
        assert second["saved_usd"]["prefix_cache"] == pytest.approx(read_saving - 1000 * 0.75e-6)
        assert second["tokens"]["cache_read"] == 1000
        assert second["tokens"]["saved_prefix"] == 1000
        samples = await prometheus_of(proxy)
        assert sample(samples, "layercache_cache_read_tokens_total", model=SONNET, provider="anthropic") == 1000
        assert sample(samples, "layercache_cache_write_tokens_total", model=SONNET, provider="anthropic") == 1000


async def test_one_hour_anthropic_cache_writes_cost_double(make_settings: Callable[..., Settings]) -> None:
    scripted = ScriptedUsageFake()
    async with in_process(scripted, make_settings(caching={"anthropic_ttl": "1h"})) as proxy:
        client = async_anthropic(proxy, api_key="sk-ant-test-1")
        scripted.next_usage = Usage(uncached_input=0, cache_write=1000, output=0)
        await client.messages.create(model=SONNET, max_tokens=5, messages=[{"role": "user", "content": "x"}])
        await eventually(lambda: requests_of_model(proxy, SONNET, 1))
        assert (await summary_of(proxy))["models"][SONNET]["saved_usd"]["net"] == pytest.approx(-1000 * 3e-6)


async def test_openai_cached_tokens_save_without_a_write_premium_and_prices_can_be_overridden(
    make_settings: Callable[..., Settings],
) -> None:
    scripted = ScriptedUsageFake()
    settings = make_settings(
        metrics={"prices": {"my-model": {"input": 1e-6, "output": 2e-6, "cache_read": 0.25e-6}}},
        models=[{"name": "my-model", "model": "openai/my-model"}],
    )
    async with in_process(scripted, settings) as proxy:
        ask = ask_openai(proxy)
        scripted.next_usage = Usage(uncached_input=200, cache_read=2048, output=10)
        await ask("my-model", "x")
        scripted.next_usage = Usage(uncached_input=200, cache_read=2048, output=10)
        await ask("gpt-4o", "x")

        async def both_counted() -> bool:
            return await requests_of_model(proxy, "my-model", 1) and await requests_of_model(proxy, "gpt-4o", 1)

        await eventually(both_counted)
        models = (await summary_of(proxy))["models"]
        assert models["my-model"]["cost_usd"] == pytest.approx(200e-6 + 2048 * 0.25e-6 + 20e-6)
        assert models["my-model"]["saved_usd"]["prefix_cache"] == pytest.approx(2048 * 0.75e-6)
        # gpt-4o from LiteLLM's map: input 2.5e-6, cached 1.25e-6.
        assert models["gpt-4o"]["saved_usd"]["prefix_cache"] == pytest.approx(2048 * 1.25e-6)
        assert models["gpt-4o"]["tokens"]["prefix_cached_fraction"] == pytest.approx(2048 / 2248)


class NotePrefix:
    """Stands in for the prompt-engine stages: sets the fields they leave for metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None
        text = exchange.request.messages[-1]["content"]
        exchange.prefix_change = "L1" if "tools" in text else "stable"
        exchange.prefix_change_detail = "changed:L1 tools[3]" if "tools" in text else "stable"
        exchange.prefix = PrefixCheck(10, 1024) if "short" in text else PrefixCheck()
        await self.app(scope, receive, send)


async def test_prefix_notes_become_cause_counts_without_prompt_text_in_labels(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    # Innermost, so what it sets is recorded (the real prompt-engine stages set the same fields).
    app = LayerCacheApp(make_settings(), stages=[*DEFAULT_STAGES, NotePrefix], transport=httpx.ASGITransport(app=fake))
    async with client_of(app) as proxy:
        ask = ask_openai(proxy)
        for text in ("tools changed", "tools again", "same", "short secret-prompt-words"):
            await ask("gpt-4o-mini", text)
        await eventually(lambda: requests_of_model(proxy, "gpt-4o-mini", 4))
        model = (await summary_of(proxy))["models"]["gpt-4o-mini"]
        assert model["prefix"]["changed"]["L1"] == 2
        assert model["prefix"]["stable"] == 2
        assert model["prefix"]["below_minimum"] == 1
        text = (await proxy.get("/metrics")).text
        assert 'layercache_prefix_changes_total{cause="L1",model="gpt-4o-mini",source="proxy"} 2.0' in text
        assert "secret-prompt-words" not in text and "sk-test-1" not in text
        assert app.runtime.metrics is not None
        assert app.runtime.metrics.prefix_details[("gpt-4o-mini", "changed:L1 tools[3]")] == 2


class AnswerFromCache:
    """Answers like a semantic cache hit would, with the savings record the semantic cache leaves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from layercache_asgi.wire._dispatch import render_body

        exchange = get_exchange(scope)
        assert exchange is not None
        exchange.outcome.cache = "hit"
        exchange.outcome.status = 200
        exchange.saved = Saved(Usage(uncached_input=400, output=100), 0.0125)
        body = render_body("openai", Completion(text="cached"), model=exchange.request.model)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


async def test_semantic_hits_count_the_whole_call_they_avoided(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with in_process(fake, make_settings(), stages=[DEFAULT_STAGES[0], AnswerFromCache]) as proxy:
        answer = await ask_openai(proxy)("gpt-4o", "hi")
        assert answer.choices[0].message.content == "cached"
        await eventually(lambda: requests_of_model(proxy, "gpt-4o", 1))
        model = (await summary_of(proxy))["models"]["gpt-4o"]
        assert model["semantic"]["hits"] == 1 and model["semantic"]["hit_rate"] == 1.0
        assert model["tokens"]["saved_semantic"] == 500
        assert model["saved_usd"]["semantic_cache"] == pytest.approx(0.0125)
        assert model["cost_usd"] == 0
        samples = await prometheus_of(proxy)
        assert sample(samples, "layercache_semantic_cache_total", model="gpt-4o", result="hit") == 1
        assert sample(samples, "layercache_requests_total", model="gpt-4o", provider="cache", cache="hit") == 1
    assert fake.requests == []  # answered by the stage, the provider never called


async def test_failovers_and_upstream_errors(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    settings = make_settings(fallbacks={"gpt-4o": ["gpt-4o-mini"]})
    async with in_process(fake, settings) as proxy:
        ask = ask_openai(proxy)
        fake.fail_next = [503]
        await ask("gpt-4o", "x")
        fake.fail_next = [500, 500]
        with pytest.raises(openai.InternalServerError):
            await ask("gpt-4o", "y")
        await eventually(lambda: requests_of_model(proxy, "gpt-4o", 2))
        model = (await summary_of(proxy))["models"]["gpt-4o"]
        assert model["failovers"] == 3  # one for the first request, two for the second
        assert model["upstream_errors"] == 1 and model["errors"] == 1
        samples = await prometheus_of(proxy)
        assert sample(samples, "layercache_failovers_total", model="gpt-4o") == 3
        assert sample(samples, "layercache_upstream_errors_total", status="500") == 1
        assert sample(samples, "layercache_requests_total", model="gpt-4o", status="500") == 1


async def test_two_apps_in_one_process_keep_their_own_registries(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    async with in_process(fake, make_settings()) as one, in_process(fake, make_settings()) as two:
        for proxy, count in ((one, 2), (two, 1)):
            ask = ask_openai(proxy)
            for _ in range(count):
                await ask("gpt-4o-mini", "x")

        async def both_counted() -> bool:
            return await requests_of_model(one, "gpt-4o-mini", 2) and await requests_of_model(two, "gpt-4o-mini", 1)

        await eventually(both_counted)
        assert sample(await prometheus_of(one), "layercache_requests_total") == 2
        assert sample(await prometheus_of(two), "layercache_requests_total") == 1


async def test_metrics_is_open_to_scrapers_but_the_json_api_needs_the_admin_key(
    make_settings: Callable[..., Settings], fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-secret-123456")
    settings = make_settings(proxy={"proxy_api_key": "proxy-key-123"})
    async with in_process(fake, settings) as proxy:
        await ask_openai(proxy, api_key="proxy-key-123")("gpt-4o-mini", "x")
        scraped = await proxy.get("/metrics")
        assert scraped.status_code == 200
        assert "proxy-key-123" not in scraped.text and "sk-provider-secret" not in scraped.text
        for headers in ({}, {"authorization": "Bearer proxy-key-123"}):  # nothing, or a client key
            refused = await proxy.get("/v1/cache/metrics", headers=headers)
            assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
        wrong = await proxy.get("/v1/cache/metrics/history", headers={"x-api-key": "wrong"})
        assert wrong.status_code == 401

        async def counted() -> bool:
            return bool((await summary_of(proxy, authorization=f"Bearer {ADMIN_KEY}"))["totals"]["requests"] == 1)

        await eventually(counted)


async def _history(proxy: httpx.AsyncClient, query: str = "window=1h&bucket=1m") -> dict[str, Any]:
    doc: dict[str, Any] = (await proxy.get(f"/v1/cache/metrics/history?{query}", headers=ADMIN)).json()
    return doc


def _requests_in(doc: dict[str, Any]) -> int:
    return sum(b["requests"] for b in doc["buckets"])


async def _history_counts(proxy: httpx.AsyncClient, want: int, query: str = "window=1h&bucket=1m") -> bool:
    return _requests_in(await _history(proxy, query)) == want


@pytest.mark.postgres
async def test_history_from_several_snapshots_survives_a_restart_and_merges_replicas(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    settings = make_settings(metrics={"snapshot_interval_seconds": 0.2})

    async with in_process(fake, settings) as proxy:
        ask = ask_openai(proxy)
        for i in range(3):
            await ask("gpt-4o-mini", f"a{i}")
            # Let a snapshot be taken between requests: history sums deltas of several rows.
            await eventually(functools.partial(_history_counts, proxy, i + 1))
        first = await _history(proxy)
        assert first["persisted"] is True and first["models"] == ["gpt-4o-mini"]
        assert len(first["buckets"]) == 60
        status = (await proxy.get("/v1/cache/metrics/status", headers=ADMIN)).json()
        assert status["newest_snapshot_at"] is not None and status["age_seconds"] < 60

    # A new app (and a second replica beside it) on the same database sees the old history.
    async with in_process(fake, settings) as again, in_process(fake, settings) as replica:
        assert _requests_in(await _history(again)) == 3
        for proxy in (again, replica):
            await ask_openai(proxy)("gpt-4o", "b")
        await eventually(lambda: _history_counts(again, 5))
        merged = await _history(again)
        assert merged["models"] == ["gpt-4o", "gpt-4o-mini"]
        assert len(merged["replicas"]) == 3
        only = await _history(again, "window=1h&bucket=5m&model=gpt-4o")
        assert _requests_in(only) == 2 and sum(b["semantic"]["hits"] for b in only["buckets"]) == 0


async def test_history_rejects_bad_windows(http: httpx.AsyncClient) -> None:
    for query in ("window=abc", "window=-1h", "bucket=0s", "window=1h&bucket=1s", "window=30d"):
        response = await http.get(f"/v1/cache/metrics/history?{query}", headers=ADMIN)
        assert response.status_code == 400, query
        assert response.json()["error"]["type"] == "invalid_request_error"


async def test_without_a_database_metrics_keep_working_in_memory(
    make_settings: Callable[..., Settings], fake: FakeProvider, tmp_path: Any
) -> None:
    broken = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    settings = make_settings(database={"url": broken}, metrics={"snapshot_interval_seconds": 0.2})
    app = LayerCacheApp(settings, transport=httpx.ASGITransport(app=fake))
    async with client_of(app) as proxy:
        await ask_openai(proxy)("gpt-4o-mini", "x")
        assert app.runtime.db is None
        query = "window=10m&bucket=1m"
        await eventually(lambda: _history_counts(proxy, 1, query))
        doc = await _history(proxy, query)
        assert doc["persisted"] is False
        assert (await proxy.get("/v1/cache/metrics/status", headers=ADMIN)).json()["persisted"] is False
        assert sample(await prometheus_of(proxy), "layercache_requests_total") == 1


async def test_faults_show_as_metrics_as_well_as_log_lines(
    make_settings: Callable[..., Settings], tmp_path: Any, fake: FakeProvider
) -> None:
    # The database refuses connections and the embedding model folder does not exist: the proxy
    # serves uncached, and /metrics says which components are down and what went wrong.
    settings = make_settings(
        database={"url": "postgresql+asyncpg://nobody@127.0.0.1:1/layercache"},
        caching={"semantic": {"enabled": True, "model_path": str(tmp_path / "no-model")}},
    )
    async with in_process(fake, settings) as proxy:
        answer = await ask_openai(proxy, api_key="sk-faults")("gpt-4o-mini", "hi")
        assert answer.choices[0].message.content == "Echo: hi"
        samples = await prometheus_of(proxy)
    assert sample(samples, "layercache_component_up", component="database") == 0
    assert sample(samples, "layercache_component_up", component="semantic_cache") == 0
    assert sample(samples, "layercache_component_up", component="templates") == 1  # in memory without a database
    faults = {dict(labels)["component"] for name, labels in samples if name == "layercache_faults_total"}
    assert "db" in faults, faults


async def test_healthy_components_are_up(http: httpx.AsyncClient, aopenai: openai.AsyncOpenAI) -> None:
    await aopenai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    samples = await prometheus_of(http)
    assert sample(samples, "layercache_component_up", component="database") == 1
    assert ("layercache_component_up", (("component", "semantic_cache"),)) not in samples  # off by choice
    assert sample(samples, "layercache_faults_total") == 0


def test_remembered_label_children_count_exactly_as_labels_does() -> None:
    """The recorder keeps each collector's child per label tuple (``labels()`` validates and locks
    on every call); the counts in the registry are the ones ``labels()`` itself would give."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    from layercache_asgi.metrics._labels import Children

    registry = CollectorRegistry()
    hits = Counter("t_hits", "", ["model", "result"], registry=registry)
    misses = Counter("t_misses", "", ["model", "result"], registry=registry)  # same label values, another collector
    latency = Histogram("t_latency", "", ["model"], buckets=(0.1, 1.0), registry=registry)
    child = Children()
    for i in range(5):
        child(hits, "m", "hit").inc()
        child(misses, "m", "hit").inc(2)
        child(hits, "other", "hit").inc()
        child(latency, "m").observe(0.05 * i)
    assert child(hits, "m", "hit") is hits.labels("m", "hit")  # the registry's own child
    assert registry.get_sample_value("t_hits_total", {"model": "m", "result": "hit"}) == 5
    assert registry.get_sample_value("t_hits_total", {"model": "other", "result": "hit"}) == 5
    assert registry.get_sample_value("t_misses_total", {"model": "m", "result": "hit"}) == 10
    assert registry.get_sample_value("t_latency_count", {"model": "m"}) == 5
    assert registry.get_sample_value("t_latency_bucket", {"model": "m", "le": "0.1"}) == 3  # 0.0, 0.05 and 0.1
