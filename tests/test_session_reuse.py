"""A turn costs only its new parts: what the previous turn worked out is reused by content, never stale.

The miss explainer takes the block prints of the parts a request shares (same path, same content
digest) with the request it is compared with; prefix token counts are remembered by the digest
of the prefix. Whatever is reused must equal what a fresh reading gives, and a part changed in
place (the same dict, new text) must be read again.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import anthropic
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layercache_asgi import LayerCacheApp, Settings
from layercache_asgi._exchange import Exchange, get_exchange
from layercache_asgi._lru import LRU
from layercache_asgi.explain import block_texts, prints_of
from layercache_asgi.prompt import _tokens
from layercache_asgi.prompt._canonical import canonicalize_body
from layercache_asgi.prompt._layers import Layers, Part, _common_length, digest, stratify
from layercache_asgi.prompt._state import prompt_state
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import FakeProvider, PrefixCacheSimulator, in_process, serve
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from .conftest import async_anthropic

MODEL = "claude-sonnet-4-5"
HEADER = "x-layercache-prefix"


class Capture:
    """A stage after the defaults that keeps each exchange (its layers, the app's prompt state)."""

    seen: ClassVar[list[Exchange]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None
        Capture.seen.append(exchange)
        await self.app(scope, receive, send)


@pytest.fixture
async def capture(make_settings: Callable[..., Settings], fake: FakeProvider) -> AsyncIterator[httpx.AsyncClient]:
    Capture.seen = []
    async with in_process(fake, make_settings(), stages=[*DEFAULT_STAGES, Capture]) as http:
        yield http


def turn(n: int) -> list[dict[str, Any]]:
    """One agent step: text and a tool call, then its result (list content: markers keep the shape)."""
    call = f"toolu_{n:04d}"
    return [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": f"Step {n}: reading the file."},
                {"type": "tool_use", "id": call, "name": "read", "input": {"path": f"/src/m{n}.py", "limit": 1.50}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call, "content": f"line {n}\n" * 40}]},
    ]


def layers(exchange: Exchange) -> Layers:
    """The layers Stratify set on a captured exchange."""
    assert exchange.layers is not None
    return exchange.layers


def seen_prints(exchange: Exchange) -> Any:
    """What the explainer remembered of this request (an entry in its family's history)."""
    families = prompt_state(exchange).families
    entries = [s for history in families._data.values() for s in history if s.layers.parts == layers(exchange).parts]
    assert len(entries) == 1
    return entries[0]


@pytest.mark.in_process
async def test_the_explainer_reuses_the_prints_it_shares_and_they_equal_a_fresh_reading(
    capture: httpx.AsyncClient,
) -> None:
    claude = async_anthropic(capture)
    system = [{"type": "text", "text": "You are a coding agent. " * 20}]
    tools = [{"name": "read", "description": "Read a file.", "input_schema": {"type": "object"}}]
    messages: list[dict[str, Any]] = [{"role": "user", "content": [{"type": "text", "text": "Fix the tests."}]}]
    sent: list[dict[str, Any]] = []
    for n in range(4):
        messages += turn(n)
        if n == 3:  # an old tool result edited in place: the same dict, new text
            messages[2]["content"][0]["content"] = "line 0 (edited)\n" * 40
        body = {"system": system, "tools": tools, "messages": messages}
        sent.append(copy.deepcopy(body))
        await claude.messages.create(model=MODEL, max_tokens=20, **body)  # type: ignore[call-overload]

    remembered = [seen_prints(exchange) for exchange in Capture.seen]
    for entry, body in zip(remembered, sent, strict=True):
        canonicalize_body("anthropic", body)  # what the stages read (tool keys sorted)
        assert entry.blocks == prints_of(block_texts("anthropic", body))  # the same as reading all of it
    # Turn 2 took turn 1's prints for every part they share: the very same objects, not read again.
    shared = layers(Capture.seen[1]).shared(layers(Capture.seen[0]))
    assert shared == len(layers(Capture.seen[0]).parts)  # turn 2 extends turn 1
    assert all(a is b for a, b in zip(remembered[1].prints[:shared], remembered[0].prints, strict=False))
    # The edited part has a new digest, so it was read again; the parts before it were still reused.
    edited = [p.path for p in layers(Capture.seen[3]).parts].index("messages[2]")
    assert remembered[3].prints[edited] != remembered[2].prints[edited]
    assert remembered[3].prints[edited - 1] is remembered[2].prints[edited - 1]
    assert Capture.seen[3].response_headers[HEADER].startswith("changed:L2 messages[2]; block=messages[2].content[0]")


def test_a_gemini_request_keeps_its_parts_for_the_explainer() -> None:
    """Parts moved out of the body by a later stage (a Gemini CachedContent) are still read as stratified."""
    body = {"messages": [{"role": "system", "content": "Rules."}, {"role": "user", "content": "Q"}]}
    layers = stratify("openai", body)
    body["messages"] = body["messages"][1:]  # what markers.gemini does with the system message
    assert layers.value(0, body) == {"role": "system", "content": "Rules."}
    kept = layers.without_values()
    assert kept.values == () and kept.parts == layers.parts and kept.value(0, body) == body["messages"][0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=40), st.lists(st.integers(0, 3), max_size=40))
def test_the_common_prefix_is_the_one_a_scan_finds(a: list[int], b: list[int]) -> None:
    expected = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    assert _common_length(tuple(a), tuple(b)) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=20))
def test_boundaries_are_the_ones_a_scan_finds(layers: list[int]) -> None:
    stratified = Layers("openai", tuple(Part(f"messages[{i}]", n, "d") for i, n in enumerate(layers)), ())
    for layer in range(-1, 6):
        assert stratified.boundary(layer) == next((i for i, n in enumerate(layers) if n > layer), len(layers))


def test_shared_parts_stop_at_the_first_changed_path_or_content() -> None:
    def body(last: str) -> dict[str, Any]:
        messages = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}]
        return {"system": "Rules.", "messages": [*messages, {"role": "user", "content": last}]}

    one, two = stratify("anthropic", body("Q2")), stratify("anthropic", body("Q2 again"))
    assert one.shared(two) == 3 and one.shared(two, through=2) == 3
    assert one.shared(one) == 4
    assert stratify("anthropic", {**body("Q2"), "system": "Other."}).shared(one) == 0


async def test_a_prefix_count_is_remembered_by_content_and_a_changed_part_is_counted_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body: Any = {"system": "You are terse. " * 50, "messages": [{"role": "user", "content": "Q1 " * 30}]}
    first = await _tokens.count_prefix("gpt-4o", stratify("anthropic", body), body, 2)
    assert first > 0

    def no_tokenizer(model: str, texts: list[str]) -> list[int]:
        raise AssertionError("a repeated prefix is not tokenized again")

    monkeypatch.setattr(_tokens, "_count", no_tokenizer)
    assert await _tokens.count_prefix("gpt-4o", stratify("anthropic", copy.deepcopy(body)), body, 2) == first
    monkeypatch.undo()
    body["messages"][0]["content"] += "and a longer question " * 20  # in place: the same dict
    longer = await _tokens.count_prefix("gpt-4o", stratify("anthropic", body), body, 2)
    assert longer > first


class TestLearning:
    @pytest.fixture
    def fake(self) -> PrefixCacheSimulator:
        return PrefixCacheSimulator(real_minimums={"claude-sonnet-4-6": 1024})

    def test_learning_from_an_answer_does_not_tokenize_the_newest_input(
        self, fake: PrefixCacheSimulator, make_settings: Callable[..., Settings]
    ) -> None:
        system = " ".join(f"Rule {i}: check the depot log, then answer in one line." for i in range(105))
        question = "What moved today? " + "x" * 40
        with serve(LayerCacheApp(make_settings())) as url:
            client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test-key-1", max_retries=0)
            for q in ("warm up", question):
                client.messages.create(
                    model="claude-sonnet-4-6", max_tokens=20, system=system, messages=[{"role": "user", "content": q}]
                )
        assert fake.usages[-1][1].cache_write > 0 or fake.usages[-1][1].cache_read > 0  # marked, so learned from
        newest = digest({"role": "user", "content": question})
        system_part = digest(system)
        counted = {d for _model, d in _tokens._memo._data}
        assert system_part in counted and newest not in counted


def test_touch_refreshes_what_is_held_and_names_the_rest() -> None:
    lru: LRU[str, int] = LRU(3)
    for key in "abc":
        lru.put(key, 1)
    assert lru.touch(["a", "x"]) == {"x"}
    lru.put("d", 1)  # "b" is now the least recently used
    assert "b" not in lru and "a" in lru


def test_the_loaded_heap_is_frozen_once_litellm_is_warm() -> None:
    _tokens._warm_up()
    assert gc.get_freeze_count() > 0
