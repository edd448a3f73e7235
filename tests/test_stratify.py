"""Stratify: every part of a request gets a layer; hints override; later stages see it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import anthropic
import httpx
import pytest

from layercache_asgi import Settings
from layercache_asgi._exchange import get_exchange
from layercache_asgi.prompt._layers import Layers, stratify, turn_groups
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from .conftest import async_anthropic, async_openai

TOOLS = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]


def agent_history() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "Q1"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "result"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]


def test_openai_default_layers() -> None:
    layers = stratify("openai", {"messages": agent_history(), "tools": TOOLS})
    assert layers.message_layers == (0, 2, 2, 2, 2, 4)
    assert [(p.path, p.layer) for p in layers.parts][:2] == [("tools[0]", 1), ("messages[0]", 0)]
    assert layers.messages_in(2) == [1, 2, 3, 4]


def test_trailing_tool_results_are_the_newest_input() -> None:
    messages = agent_history()[:4]
    layers = stratify("openai", {"messages": messages})
    assert layers.message_layers == (0, 2, 2, 4)


def test_anthropic_default_layers_and_prefix_order() -> None:
    body = {
        "system": [{"type": "text", "text": "rules"}, {"type": "text", "text": "persona"}],
        "tools": [{"name": "a", "input_schema": {}}],
        "messages": [
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ],
    }
    layers = stratify("anthropic", body)
    assert [p.path for p in layers.parts] == [
        "tools[0]",
        "system[0]",
        "system[1]",
        "messages[0]",
        "messages[1]",
        "messages[2]",
    ]
    assert [p.layer for p in layers.parts] == [1, 0, 0, 2, 2, 4]
    assert layers.boundary(1) == 3 and layers.boundary(2) == 5


def test_hints_override_message_layers() -> None:
    layers = stratify("openai", {"messages": agent_history()}, {1: 1, 5: 2})
    assert layers.message_layers == (0, 1, 2, 2, 2, 2)


def test_markers_do_not_change_digests_but_content_does() -> None:
    plain = stratify(
        "anthropic", {"system": "s", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]}
    )
    marked = stratify(
        "anthropic",
        {
            "system": "s",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}
            ],
        },
    )
    changed = stratify("anthropic", {"system": "s2", "messages": [{"role": "user", "content": "x"}]})
    assert plain.parts == marked.parts
    assert plain.layer_digest(0) != changed.layer_digest(0)
    assert plain.prefix_digest(1) != changed.prefix_digest(1)


def test_turn_groups_keep_tool_calls_with_results() -> None:
    messages = agent_history()
    assert turn_groups("openai", messages, [1, 2, 3, 4, 5]) == [[1, 2, 3, 4], [5]]


def test_first_difference_names_the_part() -> None:
    a = stratify("openai", {"messages": agent_history(), "tools": TOOLS + TOOLS})
    b_tools = [TOOLS[0], {"type": "function", "function": {"name": "other"}}]
    b = stratify("openai", {"messages": agent_history(), "tools": b_tools})
    index, part = b.first_difference(a)
    assert index == 1 and part is not None and part.path == "tools[1]" and part.layer == 1


# -- through the proxy ---------------------------------------------------------------------


class Capture:
    """A stage appended after the defaults that keeps the layers it saw."""

    seen: ClassVar[list[Layers]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None and exchange.layers is not None
        Capture.seen.append(exchange.layers)
        await self.app(scope, receive, send)


@pytest.fixture
async def capture(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    Capture.seen = []
    async with in_process(fake, make_settings(), stages=[*DEFAULT_STAGES, Capture]) as http:
        yield http


@pytest.mark.in_process
async def test_layers_visible_to_later_stages_with_client_hints(capture: httpx.AsyncClient) -> None:
    await async_openai(capture).chat.completions.create(
        model="gpt-4o",
        messages=agent_history(),  # type: ignore[arg-type]
        extra_body={"lc_layer_hints": {"1": "L1"}},
    )
    layers = Capture.seen[-1]
    assert isinstance(layers, Layers)
    assert layers.message_layers == (0, 1, 2, 2, 2, 4)


@pytest.mark.in_process
async def test_anthropic_request_is_stratified(capture: httpx.AsyncClient) -> None:
    await async_anthropic(capture).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=20,
        system="Rules.",
        messages=[
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ],
    )
    assert Capture.seen[-1].message_layers == (2, 2, 4)


@pytest.mark.in_process
async def test_out_of_range_hint_is_a_400_in_the_client_format(capture: httpx.AsyncClient) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await async_anthropic(capture).messages.create(
            model="claude-sonnet-4-5",
            max_tokens=20,
            messages=[{"role": "user", "content": "Q"}],
            extra_body={"lc_layer_hints": {"7": 1}},
        )
    assert "lc_layer_hints" in str(info.value)


def test_prefix_digests_are_kept_per_layers_and_a_changed_part_gets_its_own() -> None:
    from layercache_asgi.prompt._layers import digest

    def body(system: str) -> dict[str, Any]:
        return {"system": system, "tools": TOOLS, "messages": [{"role": "user", "content": "hi"}]}

    layers = stratify("anthropic", body("Be brief."))
    first = layers.prefix_digest(1)
    assert layers.prefix_digest(1) == first == digest([p.digest for p in layers.parts[: layers.boundary(1)]])
    changed = stratify("anthropic", body("Be thorough."))
    assert changed.prefix_digest(1) != first
    assert changed.prefix_digest(1) == digest([p.digest for p in changed.parts[: changed.boundary(1)]])
    assert layers.without_values().prefix_digest(0) == layers.prefix_digest(0)


def test_kept_key_digests_are_the_digests_of_their_values() -> None:
    from layercache_asgi.prompt._layers import digest, key_digest

    for values in (("t1", "claude", 1, "abc"), ("t2", "claude", 1, "abc"), ("t1", "claude", 0, "abc"), (None, "m", 1)):
        assert key_digest(*values) == key_digest(*values) == digest(*values)
    assert key_digest("t", 1) != key_digest("t", True)  # equal as keys of a dict, not as JSON
