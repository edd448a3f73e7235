"""The Responses API through the prompt engine: layers, truncation, the warm-up gate, the miss
explainer header and metrics from ``usage.input_tokens_details.cached_tokens``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi.prompt._layers import stratify, turn_groups
from layercache_asgi.testing import FakeProvider, PrefixCacheSimulator, serve

from .conftest import ADMIN

TOOLS: list[Any] = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}]
RULES = " ".join(f"Rule {i}: check the facts, cite the source and keep answers short." for i in range(160))


def tool_turn(i: int) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": f"Question number {i}:" + " details" * 40},
        {"type": "reasoning", "id": f"rs_{i}", "summary": [], "encrypted_content": "x" * 40},
        {"type": "function_call", "call_id": f"call_{i}", "name": "lookup", "arguments": '{"q":1}'},
        {"type": "function_call_output", "call_id": f"call_{i}", "output": "result " * 40},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Answer" + " w" * 40}]},
    ]


def session(turns: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"role": "developer", "content": "Follow the repository rules."}]
    for i in range(turns):
        items += tool_turn(i)
    return [*items, {"role": "user", "content": "The newest question?"}]


def test_default_layers() -> None:
    body = {"model": "gpt-4o", "instructions": "Be brief.", "tools": TOOLS, "input": session(1)}
    layers = stratify("responses", body)
    assert [(p.path, p.layer) for p in layers.parts] == [
        ("tools[0]", 1),
        ("instructions", 0),
        ("input[0]", 0),
        *[(f"input[{i}]", 2) for i in range(1, 6)],
        ("input[6]", 4),
    ]
    # A pending call's output after the last output item is the newest input.
    pending = [*session(0), {"type": "function_call", "call_id": "c", "name": "lookup", "arguments": "{}"}]
    pending.append({"type": "function_call_output", "call_id": "c", "output": "42"})
    assert stratify("responses", {"input": pending}).message_layers == (0, 2, 2, 4)
    assert [(p.path, p.layer) for p in stratify("responses", {"input": "hi"}).parts] == [("input", 4)]


def test_turns_keep_reasoning_calls_and_outputs_together() -> None:
    items = session(2)
    assert turn_groups("responses", items, list(range(1, 11))) == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]


def test_truncation_drops_whole_turns(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    with serve(LayerCacheApp(make_settings(caching={"max_session_tokens": 1200}))) as url:
        items = session(12)
        r = httpx.post(
            f"{url}/v1/responses",
            json={"model": "gpt-4o", "instructions": "Be brief.", "input": items},
            headers={"authorization": "Bearer sk-x"},
            timeout=60,  # the first count loads the tokenizer
        )
    assert r.status_code == 200, r.text
    dropped = int(r.headers["x-layercache-truncated"])
    sent = fake.requests[-1].body["input"]
    assert dropped > 0 and dropped % 5 == 0 and len(sent) == len(items) - dropped
    assert sent[0] == items[0] and sent[-1] == items[-1]
    assert sent[1:] == items[1 + dropped :]
    calls = {i["call_id"] for i in sent if i.get("type") == "function_call"}
    assert calls == {i["call_id"] for i in sent if i.get("type") == "function_call_output"}


def test_miss_explainer_names_the_changed_instructions(openai_client: openai.OpenAI) -> None:
    def prefix(instructions: str, text: str) -> str:
        raw = openai_client.responses.with_raw_response.create(
            model="gpt-4o", instructions=instructions, tools=TOOLS, input=text
        )
        return raw.headers["x-layercache-prefix"]

    assert prefix("Be brief.", "one") == "new"
    assert prefix("Be brief.", "two") == "stable"
    assert prefix("Be verbose.", "three") == "changed:L0 instructions"


def _summary(url: str, model: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        doc = httpx.get(f"{url}/v1/cache/metrics", headers=ADMIN).json()["models"].get(model, {})
        if doc.get("requests") == 2 or time.monotonic() > deadline:
            return dict(doc)
        time.sleep(0.05)


def test_metrics_count_cached_tokens(make_settings: Callable[..., Settings]) -> None:
    sim = PrefixCacheSimulator()
    with serve(sim) as up, serve(LayerCacheApp(make_settings(providers={"openai": {"api_base": f"{up}/v1"}}))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0)
        client.responses.create(model="gpt-4o", instructions=RULES, input="one")
        with client.responses.stream(model="gpt-4o", instructions=RULES, input="two") as stream:
            final = stream.get_final_response()
        model = _summary(url, "gpt-4o")
    assert final.usage is not None
    cached = final.usage.input_tokens_details.cached_tokens
    assert cached >= 1024
    assert model["tokens"]["cache_read"] == cached
    assert model["tokens"]["saved_prefix"] == cached and model["saved_usd"]["prefix_cache"] > 0


@pytest.fixture
def slow_sim() -> PrefixCacheSimulator:
    return PrefixCacheSimulator(delay=0.3)


def test_warmup_gate_fan_out_pays_one_write(
    make_settings: Callable[..., Settings], slow_sim: PrefixCacheSimulator
) -> None:
    results: list[Any] = []
    lock = threading.Lock()
    with (
        serve(slow_sim) as up,
        serve(LayerCacheApp(make_settings(providers={"openai": {"api_base": f"{up}/v1"}}))) as url,
    ):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-x", max_retries=0, timeout=30)

        def one(i: int) -> None:
            raw = client.responses.with_raw_response.create(model="gpt-4o", instructions=RULES, input=f"sub-task {i}")
            with lock:
                results.append(raw)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    usages = [r.parse().usage for r in results]
    assert len(usages) == 6
    assert sum(1 for u in usages if u.input_tokens_details.cached_tokens) == 5
    assert sum(1 for r in results if "x-layercache-warmup-wait-ms" in r.headers) == 5
