"""The stage contract: drop any default stage and the others still do their job.

Stages hand each other typed fields on the exchange, read through getters that compute on
first use (``layers_of``, ``prefix_check_of``), so no stage silently depends on another
having run, and no stage module imports another.
"""

from __future__ import annotations

import ast
import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import anthropic
import httpx
import pytest

from layercache_asgi import DEFAULT_STAGES, LayerCacheApp, Settings, get_exchange
from layercache_asgi.markers.anthropic import count_markers
from layercache_asgi.markers.plan import MarkPlan
from layercache_asgi.stages import (
    ExplainMisses,
    InjectCacheMarkers,
    PrefixThreshold,
    RecordMetrics,
    Stratify,
    WarmupGate,
)
from layercache_asgi.testing import FakeProvider, in_process
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from .conftest import async_anthropic, client_of

pytestmark = pytest.mark.in_process

STAGES_DIR = Path(__file__).resolve().parent.parent / "layercache_asgi" / "stages"
MODEL = "claude-sonnet-4-5"
LONG_SYSTEM = "You are a careful assistant who checks every fact twice. " * 120  # above the 1024-token minimum
SHORT_SYSTEM = "Be brief."
HISTORY: list[Any] = [
    {"role": "user", "content": "question 0"},
    {"role": "assistant", "content": "answer 0"},
    {"role": "user", "content": "newest"},
]


class Probe:
    """Innermost user stage: keeps what the warm-up gate decided for each request, and the typed
    hand-offs between stages (the marker plan, the enhancements added)."""

    seen: ClassVar[list[str | None]] = []
    plans: ClassVar[list[MarkPlan | None]] = []
    enhancements: ClassVar[list[list[str]]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None:
            Probe.seen.append(exchange.notes.get("warmup"))
            Probe.plans.append(exchange.marker_plan)
            Probe.enhancements.append(list(exchange.enhancements))
        await self.app(scope, receive, send)


async def metric(app: LayerCacheApp, name: str, expected: float) -> float:
    """Metrics are recorded just after the client has its answer: poll until they arrive."""
    deadline = time.monotonic() + 30
    value = 0.0
    metrics = app.runtime.metrics
    assert metrics is not None
    while time.monotonic() < deadline:
        value = metrics.totals.get(MODEL, {}).get(name, 0.0)
        if value >= expected:
            break
        await asyncio.sleep(0.05)
    return value


@pytest.mark.parametrize("removed", DEFAULT_STAGES, ids=lambda s: s.__name__)
async def test_each_stage_can_be_dropped(
    removed: type, make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    stages = [s for s in DEFAULT_STAGES if s is not removed]
    Probe.seen, Probe.plans, Probe.enhancements = [], [], []
    app = LayerCacheApp(make_settings(), stages=[*stages, Probe], transport=httpx.ASGITransport(app=fake))
    async with client_of(app) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")
        long = await claude.messages.with_raw_response.create(
            model=MODEL, max_tokens=20, system=LONG_SYSTEM, messages=HISTORY
        )
        long_body = fake.requests[-1].body
        short = await claude.messages.with_raw_response.create(
            model=MODEL, max_tokens=20, system=SHORT_SYSTEM, messages=HISTORY
        )
        short_body = fake.requests[-1].body

        # The proxy answers whatever stage is missing.
        assert (await long.parse()).content[0].type == "text"
        assert (await short.parse()).content[0].type == "text"

        # Markers: placed on a cacheable prefix, never below the model's minimum (even when
        # PrefixThreshold, which usually checks it, did not run).
        if removed is not InjectCacheMarkers:
            assert count_markers(long_body) > 0
        assert "cache_control" not in json.dumps(short_body)

        # The below-minimum header is PrefixThreshold's own; the check itself is shared.
        assert ("x-layercache-prefix-below-minimum" in short.headers) == (removed is not PrefixThreshold)
        assert "x-layercache-prefix-below-minimum" not in long.headers

        # The miss explanation needs the layers, which exist with or without Stratify.
        if removed is not ExplainMisses:
            assert long.headers["x-layercache-prefix"] == "new"
            assert short.headers["x-layercache-prefix"].startswith("changed:L0")

        # The plan InjectCacheMarkers made is handed on typed (the warm-up gate reads it), and only by it.
        assert all((plan is not None) == (removed is not InjectCacheMarkers) for plan in Probe.plans)

        # The warm-up gate leads a cacheable prefix and stays off below the minimum.
        if removed is not WarmupGate:
            assert Probe.seen == ["leader", None]

        # Metrics: both requests counted, and the short one as below the minimum.
        if removed is not RecordMetrics:
            assert await metric(app, "requests", 2) == 2
            assert await metric(app, "prefix_below_minimum", 1) == 1


async def test_layer_hints_are_still_checked_without_stratify(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    stages = [s for s in DEFAULT_STAGES if s is not Stratify]
    async with in_process(fake, make_settings(), stages=stages) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")
        with pytest.raises(anthropic.BadRequestError) as info:
            await claude.messages.create(
                model=MODEL,
                max_tokens=20,
                system=LONG_SYSTEM,
                messages=[{"role": "user", "content": "Q"}],
                extra_body={"lc_layer_hints": {"7": 1}},
            )
    assert info.value.body is not None and "lc_layer_hints" in json.dumps(info.value.body)


def stage_imports(path: Path) -> list[str]:
    """The stage modules ``path`` imports (relative ``from .x`` or absolute ``layercache_asgi.stages.x``)."""
    stage_names = {p.stem for p in STAGES_DIR.glob("*.py") if p.stem != "__init__"}
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:
                names = [module] if module else [alias.name for alias in node.names]
            elif node.level == 0 and module.startswith("layercache_asgi.stages"):
                rest = module.removeprefix("layercache_asgi.stages").lstrip(".")
                names = [rest] if rest else [alias.name for alias in node.names]
            else:
                continue
            found += [name.split(".")[0] for name in names if name.split(".")[0] in stage_names]
        elif isinstance(node, ast.Import):
            found += [
                alias.name.split(".")[2]
                for alias in node.names
                if alias.name.startswith("layercache_asgi.stages.") and alias.name.split(".")[2] in stage_names
            ]
    return found


def test_no_stage_module_imports_another() -> None:
    modules = [p for p in STAGES_DIR.glob("*.py") if p.stem != "__init__"]
    assert len(modules) >= len(DEFAULT_STAGES)  # the check looked at the real folder
    offenders = {p.stem: stage_imports(p) for p in modules if stage_imports(p)}
    assert offenders == {}


def test_the_import_check_sees_a_stage_import(tmp_path: Path) -> None:
    # Guards the check above: it must notice the kind of import it forbids.
    module = tmp_path / "mine.py"
    module.write_text("from .stratify import Stratify\nfrom ..x import y\n", encoding="utf-8")
    assert stage_imports(module) == ["stratify"]


class ReadsTheBody:
    """A user's stage that reads the body the ASGI way, after the default stages."""

    seen: ClassVar[list[Any]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        ReadsTheBody.seen.append(json.loads(message["body"]))
        await self.app(scope, receive, send)


async def test_a_stage_reading_receive_gets_the_body_the_earlier_stages_rewrote(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    ReadsTheBody.seen = []
    async with in_process(fake, make_settings(), stages=[*DEFAULT_STAGES, ReadsTheBody]) as http:
        client = async_anthropic(http, api_key="sk-ant-test-key-1")
        await client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=20,
            messages=[{"role": "user", "content": "Why is the sky blue?"}],
            extra_body={"lc_enhancements": ["chain_of_thought"]},
        )
    [body] = ReadsTheBody.seen
    assert "lc_enhancements" not in body  # the proxy's own fields are gone, as upstream
    assert body["messages"] == fake.requests[-1].body["messages"]  # what the provider got, not what the client sent
    assert len(json.dumps(body["messages"])) > len(json.dumps("Why is the sky blue?")) + 40  # the L3 addition


@pytest.mark.parametrize("with_enhance", [True, False])
async def test_the_enhancements_added_are_handed_on_typed(
    with_enhance: bool, make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    stages = [s for s in DEFAULT_STAGES if with_enhance or s.__name__ != "Enhance"]
    Probe.seen, Probe.plans, Probe.enhancements = [], [], []
    app = LayerCacheApp(make_settings(), stages=[*stages, Probe], transport=httpx.ASGITransport(app=fake))
    async with client_of(app) as http:
        claude = async_anthropic(http, api_key="sk-ant-test-key-1")
        await claude.messages.create(
            model=MODEL,
            max_tokens=20,
            system=LONG_SYSTEM,
            messages=HISTORY,
            extra_body={"lc_enhancements": ["chain_of_thought"]},
        )
    assert Probe.enhancements == [["chain_of_thought"] if with_enhance else []]
    sent = json.dumps(fake.requests[-1].body)
    assert ("step by step" in sent.lower()) == with_enhance
