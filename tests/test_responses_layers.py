"""The Responses API through the prompt engine: layers, truncation, the warm-up gate, the miss
explainer header and metrics from ``usage.input_tokens_details.cached_tokens``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi.prompt._layers import stratify, turn_groups
from layercache_asgi.testing import FakeProvider, PrefixCacheSimulator, in_process

from .conftest import ADMIN, async_openai

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


@pytest.mark.in_process
async def test_truncation_drops_whole_turns(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    async with in_process(fake, make_settings(caching={"max_session_tokens": 1200})) as http:
        items = session(12)
        r = await http.post(
            "/v1/responses",
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


@pytest.mark.in_process
async def test_miss_explainer_names_the_changed_instructions(http: httpx.AsyncClient) -> None:
    client = async_openai(http)

    async def prefix(instructions: str, text: str) -> str:
        raw = await client.responses.with_raw_response.create(
            model="gpt-4o", instructions=instructions, tools=TOOLS, input=text
        )
        return raw.headers["x-layercache-prefix"]

    assert await prefix("Be brief.", "one") == "new"
    assert await prefix("Be brief.", "two") == "stable"
    assert await prefix("Be verbose.", "three") == "changed:L0 instructions; block=instructions; byte=0"  # where, too


async def _summary(http: httpx.AsyncClient, model: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        doc = (await http.get("/v1/cache/metrics", headers=ADMIN)).json()["models"].get(model, {})
        if doc.get("requests") == 2 or time.monotonic() > deadline:
            return dict(doc)
        await asyncio.sleep(0.05)


@pytest.mark.in_process
async def test_metrics_count_cached_tokens(make_settings: Callable[..., Settings]) -> None:
    async with in_process(PrefixCacheSimulator(), make_settings()) as http:
        client = async_openai(http, api_key="sk-x")
        await client.responses.create(model="gpt-4o", instructions=RULES, input="one")
        async with client.responses.stream(model="gpt-4o", instructions=RULES, input="two") as stream:
            final = await stream.get_final_response()
        model = await _summary(http, "gpt-4o")
    assert final.usage is not None
    cached = final.usage.input_tokens_details.cached_tokens
    assert cached >= 1024
    assert model["tokens"]["cache_read"] == cached
    assert model["tokens"]["saved_prefix"] == cached and model["saved_usd"]["prefix_cache"] > 0


@pytest.mark.in_process
async def test_warmup_gate_fan_out_pays_one_write(make_settings: Callable[..., Settings]) -> None:
    async with in_process(PrefixCacheSimulator(delay=0.3), make_settings()) as http:
        client = async_openai(http, api_key="sk-x", timeout=30)
        results = await asyncio.gather(
            *(
                client.responses.with_raw_response.create(model="gpt-4o", instructions=RULES, input=f"sub-task {i}")
                for i in range(6)
            )
        )
    usages = [r.parse().usage for r in results]
    assert len(usages) == 6
    assert sum(1 for u in usages if u is not None and u.input_tokens_details.cached_tokens) == 5
    assert sum(1 for r in results if "x-layercache-warmup-wait-ms" in r.headers) == 5
