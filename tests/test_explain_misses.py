"""Explain misses: say which layer of the cacheable prefix changed first, and where."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from layercache_asgi.prompt._layers import stratify
from layercache_asgi.stages.explain_misses import explain

from .conftest import async_anthropic, async_openai

# Through the proxy, tests reach the fake through the app's transport (no socket).
pytestmark = pytest.mark.in_process

HEADER = "x-layercache-prefix"


def tool(name: str, extra: str = "") -> dict[str, Any]:
    return {"name": name, "description": f"{name}{extra}", "input_schema": {"type": "object"}}


TOOLS = [tool(n) for n in ("alpha", "beta", "delta", "gamma")]


def body(system: str = "Rules.", tools: list[Any] | None = None, messages: list[Any] | None = None) -> dict[str, Any]:
    return {
        "system": system,
        "tools": TOOLS if tools is None else tools,
        "messages": messages or [{"role": "user", "content": "Q1"}],
    }


def verdict(current: dict[str, Any], *previous: dict[str, Any]) -> tuple[str, str]:
    return explain(stratify("anthropic", current), [stratify("anthropic", p) for p in previous])


def test_first_request_is_new_and_a_repeat_is_stable() -> None:
    assert verdict(body()) == ("new", "new")
    assert verdict(body(messages=[{"role": "user", "content": "other"}]), body()) == ("stable", "stable")


def test_a_growing_conversation_is_stable() -> None:
    turn1 = body(messages=[{"role": "user", "content": "Q1"}])
    turn2 = body(
        messages=[
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ]
    )
    assert verdict(turn2, turn1) == ("stable", "stable")


def test_changed_tool_is_named() -> None:
    changed = [*TOOLS[:3], tool("gamma", " (v2)")]
    assert verdict(body(tools=changed), body()) == ("L1", "changed:L1 tools[3]")


def test_removed_tool_is_named() -> None:
    assert verdict(body(tools=TOOLS[:3]), body()) == ("L1", "changed:L1 tools[3]")


def test_changed_system_prompt() -> None:
    assert verdict(body(system="Rules, v2."), body()) == ("L0", "changed:L0 system")


def test_edited_history_is_l2() -> None:
    history = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
    edited = [history[0], {"role": "assistant", "content": "A1 (edited)"}, {"role": "user", "content": "Q3"}]
    assert verdict(body(messages=edited), body(messages=history)) == ("L2", "changed:L2 messages[1]")


def test_the_closest_previous_request_is_the_reference() -> None:
    other_app = body(system="A different app.")
    assert verdict(body(messages=[{"role": "user", "content": "x"}]), body(), other_app) == ("stable", "stable")


# -- through the proxy, with the real SDKs -------------------------------------------------------


@pytest.fixture
def claude(http: httpx.AsyncClient) -> anthropic.AsyncAnthropic:
    return async_anthropic(http, api_key="sk-ant-test-key-1")


async def test_headers_through_the_proxy(claude: anthropic.AsyncAnthropic) -> None:
    async def send(tools: list[Any], question: str) -> str:
        raw = await claude.messages.with_raw_response.create(
            model="claude-sonnet-4-5",
            max_tokens=20,
            system="Rules.",
            tools=tools,
            messages=[{"role": "user", "content": question}],
        )
        return raw.headers[HEADER].split(";")[0]  # the verdict; details follow

    assert await send(TOOLS, "a") == "new"
    assert await send(list(reversed(TOOLS)), "b") == "stable"  # canonical order: not a change
    assert await send([*TOOLS[:3], tool("gamma", " (v2)")], "c") == "changed:L1 tools[3]"


async def test_tenants_and_models_are_separate_families(http: httpx.AsyncClient) -> None:
    first = async_openai(http, api_key="sk-tenant-one-key")
    second = async_openai(http, api_key="sk-tenant-two-key")
    messages: Any = [{"role": "system", "content": "S"}, {"role": "user", "content": "q"}]
    a = await first.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
    b = await second.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
    c = await first.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)
    assert a.headers[HEADER] == b.headers[HEADER] == c.headers[HEADER] == "new"
    changed: Any = [{"role": "system", "content": "S2"}, {"role": "user", "content": "q"}]
    d = await first.chat.completions.with_raw_response.create(model="gpt-4o", messages=changed)
    assert d.headers[HEADER] == "changed:L0 messages[0]; block=messages[0]; byte=0"


async def test_changes_reach_the_metrics(http: httpx.AsyncClient, claude: anthropic.AsyncAnthropic) -> None:
    for system in ("Rules.", "Rules v2."):
        await claude.messages.create(
            model="claude-sonnet-4-5", max_tokens=20, system=system, messages=[{"role": "user", "content": "q"}]
        )
    text = (await http.get("/metrics")).text
    changes = [line for line in text.splitlines() if "prefix" in line and "L0" in line and not line.startswith("#")]
    assert changes and float(changes[0].rsplit(" ", 1)[1]) >= 1
