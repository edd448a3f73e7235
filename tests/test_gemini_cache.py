"""Gemini CachedContent: created once per L0+L1 prefix, reused by hash, stored in the database."""
# On sockets: Gemini is reached through LiteLLM, which makes its own HTTP calls.

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.testing import FakeGemini, serve

from .conftest import ADMIN, providers_at

SYSTEM = " ".join(f"Rule {i}: stay factual, cite sources and answer briefly." for i in range(160))
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look up a fact.",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "additionalProperties": False},
        },
    }
]
MODEL = "gemini/gemini-2.5-flash"


@pytest.fixture
def gemini() -> FakeGemini:
    return FakeGemini()


@pytest.fixture
def gemini_url(gemini: FakeGemini, served_fake: Callable[[Any], str]) -> str:
    return served_fake(gemini)


@pytest.fixture
def gemini_settings(make_settings: Callable[..., Settings], gemini_url: str) -> Settings:
    # How a CachedContent is made and reused; when one is worth making: test_marker_plan.py.
    return make_settings(providers=providers_at(gemini_url, "gemini"), caching={"mark_only_when_reused": False})


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="AIzaTestKey1234567890", max_retries=0)


def ask(url: str, question: str, system: str = SYSTEM, **extra: Any) -> Any:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    return client(url).chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, **extra)  # type: ignore[arg-type]


def generations(gemini: FakeGemini) -> list[dict[str, Any]]:
    return [r.body for r in gemini.requests if "enerateContent" in r.path]


@pytest.mark.postgres
def test_one_creation_then_reuse_without_resending_the_prefix(gemini: FakeGemini, gemini_settings: Settings) -> None:
    with serve(LayerCacheApp(gemini_settings)) as url:
        first = ask(url, "first question")
        second = ask(url, "second question")
    assert gemini.creations == 1
    created = next(r.body for r in gemini.requests if r.path.endswith("/cachedContents"))
    assert created["model"] == "models/gemini-2.5-flash"
    assert created["systemInstruction"]["parts"][0]["text"] == SYSTEM
    assert created["tools"][0]["functionDeclarations"][0]["name"] == "lookup"
    assert "additionalProperties" not in created["tools"][0]["functionDeclarations"][0]["parameters"]
    for body in generations(gemini):
        assert body["cachedContent"].startswith("cachedContents/")
        assert "system_instruction" not in body and "tools" not in body
        assert body["contents"][-1]["role"] == "user"
    assert first.usage.prompt_tokens_details.cached_tokens > 1000
    assert second.choices[0].message.content == "Echo: second question"


def test_concurrent_requests_create_once(gemini: FakeGemini, gemini_settings: Settings) -> None:
    gemini.create_delay = 0.3
    with serve(LayerCacheApp(gemini_settings)) as url:
        threads = [threading.Thread(target=ask, args=(url, f"q{i}")) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert gemini.creations == 1
    assert len(generations(gemini)) == 6


@pytest.mark.postgres
def test_a_restart_reuses_the_stored_handle(gemini: FakeGemini, gemini_settings: Settings) -> None:
    with serve(LayerCacheApp(gemini_settings)) as url:
        ask(url, "before restart")
    with serve(LayerCacheApp(gemini_settings)) as url:  # a new app (or replica), same database
        ask(url, "after restart")
    assert gemini.creations == 1
    names = {b["cachedContent"] for b in generations(gemini)}
    assert len(names) == 1


def test_a_different_prefix_gets_its_own_cache(gemini: FakeGemini, gemini_settings: Settings) -> None:
    with serve(LayerCacheApp(gemini_settings)) as url:
        ask(url, "a")
        ask(url, "b", system=SYSTEM + " Also be kind.")
    assert gemini.creations == 2


def test_short_prefix_is_sent_whole(gemini: FakeGemini, gemini_settings: Settings) -> None:
    with serve(LayerCacheApp(gemini_settings)) as url:
        ask(url, "a", system="Be brief.")
    assert gemini.creations == 0
    body = generations(gemini)[0]
    assert "cachedContent" not in body and body["system_instruction"]["parts"][0]["text"] == "Be brief."


def test_expired_handle_is_recreated(
    gemini: FakeGemini, make_settings: Callable[..., Settings], gemini_url: str
) -> None:
    settings = make_settings(
        providers=providers_at(gemini_url, "gemini"),
        caching={"gemini_cache_ttl_seconds": 60, "mark_only_when_reused": False},
    )
    with serve(LayerCacheApp(settings)) as url:
        ask(url, "a")  # a 60 s handle is within the safety margin at once: the next request makes a new one
        ask(url, "b")
    assert gemini.creations == 2


def test_creation_failure_degrades_to_the_full_request(gemini: FakeGemini, gemini_settings: Settings) -> None:
    with serve(LayerCacheApp(gemini_settings)) as url:
        original = gemini._create

        async def broken(send: Any, body: dict[str, Any]) -> None:
            from layercache_asgi.testing._fake_provider import _send

            await _send(send, 500, {"error": {"code": 500, "message": "boom"}})

        gemini._create = broken  # type: ignore[method-assign]
        try:
            response = ask(url, "still answered")
        finally:
            gemini._create = original  # type: ignore[method-assign]
    assert response.choices[0].message.content == "Echo: still answered"
    assert "cachedContent" not in generations(gemini)[0]


def test_a_refused_creation_is_not_retried_on_every_request(
    gemini: FakeGemini, make_settings: Callable[..., Settings], gemini_url: str
) -> None:
    # The proxy's table says 100 tokens suffice; the provider says otherwise (400). One refusal is enough.
    settings = make_settings(
        providers=providers_at(gemini_url, "gemini"),
        caching={"min_prefix_tokens": {"gemini-2.5-flash": 100}, "mark_only_when_reused": False},
    )
    medium = " ".join(f"Rule {i}: be brief." for i in range(60))
    with serve(LayerCacheApp(settings)) as url:
        answers = [ask(url, f"question {i}", system=medium) for i in range(3)]
    creations = [r for r in gemini.requests if r.path.endswith("/cachedContents")]
    assert len(creations) == 1 and gemini.creations == 0
    for body in generations(gemini):
        assert "cachedContent" not in body
        assert body["system_instruction"]["parts"][0]["text"] == medium
    assert all(a.choices[0].finish_reason for a in answers)


@pytest.mark.postgres
def test_two_replicas_asked_at_once_create_one_cache(gemini: FakeGemini, gemini_settings: Settings) -> None:
    # Each replica's lock is its own; the claim row in the shared database is what makes it one creation.
    gemini.create_delay = 0.5
    with serve(LayerCacheApp(gemini_settings)) as a, serve(LayerCacheApp(gemini_settings)) as b:
        ask(a, "warm a", system="Be brief.")  # both apps started (and migrated) before the race
        ask(b, "warm b", system="Be brief.")
        threads = [threading.Thread(target=ask, args=(url, f"q{i}")) for i, url in enumerate([a, b] * 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert gemini.creations == 1
    names = {body.get("cachedContent") for body in generations(gemini)[2:]}
    assert len(names) == 1 and None not in names


def test_creating_a_cache_is_a_write_the_savings_pay_for(gemini: FakeGemini, gemini_settings: Settings) -> None:
    # Creation bills the held tokens once at the input price; reads then save 90% of them.
    with serve(LayerCacheApp(gemini_settings)) as url:
        ask(url, "first")
        created = next(iter(gemini.caches.values()))["tokens"]
        first = _model_metrics(url, requests=1)
        ask(url, "second")
        ask(url, "third")
        after = _model_metrics(url, requests=3)
    assert first["tokens"]["cache_write"] == created
    assert first["tokens"]["cache_read"] == created
    assert first["saved_usd"]["prefix_cache"] < 0  # one read cannot pay for the creation
    assert after["tokens"]["cache_write"] == created  # made once
    assert after["tokens"]["cache_read"] == 3 * created
    assert after["saved_usd"]["prefix_cache"] > 0


def _model_metrics(url: str, requests: int) -> dict[str, Any]:
    import time

    import httpx

    for _ in range(100):  # metrics are recorded as the response ends
        models = httpx.get(f"{url}/v1/cache/metrics", headers=ADMIN).json()["models"]
        if MODEL in models and models[MODEL]["requests"] == requests:
            return dict(models[MODEL])
        time.sleep(0.05)
    raise AssertionError(f"no metrics for {MODEL}")


def test_streamed_answers_use_the_cache_and_report_its_tokens(gemini: FakeGemini, gemini_settings: Settings) -> None:
    with serve(LayerCacheApp(gemini_settings)) as url:
        ask(url, "first question")  # creates the CachedContent
        stream = ask(url, "second question", stream=True, stream_options={"include_usage": True})
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: second question"
    [streamed] = [r for r in gemini.requests if ":streamGenerateContent" in r.path]
    assert streamed.body["cachedContent"].startswith("cachedContents/") and "tools" not in streamed.body
    usage = next(c.usage for c in reversed(chunks) if c.usage)
    assert usage.prompt_tokens_details.cached_tokens > 1000  # the cached prefix, as Gemini reported it
    assert usage.completion_tokens > 0


def test_a_minimum_stated_in_a_refusal_is_learned(gemini: FakeGemini, gemini_settings: Settings) -> None:
    # The table says 1024 for gemini-2.5-flash; this model's real minimum is higher than the prefix.
    gemini.real_minimums["gemini-2.5-flash"] = 4096
    with serve(LayerCacheApp(gemini_settings)) as url:
        first = client(url).chat.completions.with_raw_response.create(
            model=MODEL,
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "one"}],
            tools=TOOLS,
        )
        assert "x-layercache-prefix-below-minimum" not in first.headers  # by the table it was long enough
        other = SYSTEM + " Also be kind."  # a new prefix of the same size: no second creation is tried
        second = client(url).chat.completions.with_raw_response.create(
            model=MODEL,
            messages=[{"role": "system", "content": other}, {"role": "user", "content": "two"}],
            tools=TOOLS,
        )
    creations = [r for r in gemini.requests if r.path.endswith("/cachedContents")]
    assert len(creations) == 1 and gemini.creations == 0
    assert second.headers["x-layercache-prefix-below-minimum"].endswith("/4096")  # learned, not the table's 1024
    assert all(b.get("systemInstruction") or b.get("system_instruction") for b in generations(gemini))
