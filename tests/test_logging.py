"""Logging: a request id on every line, no secrets or prompts unless enabled, a ring buffer per app."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog

from layercache_asgi import LayerCacheApp, Settings, get_exchange
from layercache_asgi._logging import LogBuffer
from layercache_asgi.stages import DEFAULT_STAGES
from layercache_asgi.testing import FakeProvider
from layercache_asgi.types import ASGIApp, Receive, Scope, Send

from .conftest import async_openai, client_of

pytestmark = pytest.mark.in_process

log = structlog.get_logger("layercache.test_stage")


class ChattyStage:
    """A user-added stage that logs the way the built-in ones do (no request id passed by hand)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        assert exchange is not None
        text = exchange.request.messages[-1]["content"]
        log.info("stage_saw_request", prompt=text, error=f"provider said: bad key sk-live-{text[-4:]}abcdefgh")
        log.debug("stage_debug_detail")
        await self.app(scope, receive, send)


def chatty_app(settings: Settings, fake: FakeProvider) -> LayerCacheApp:
    stages = [DEFAULT_STAGES[0], ChattyStage, *DEFAULT_STAGES[1:]]
    return LayerCacheApp(settings, stages=stages, transport=httpx.ASGITransport(app=fake))


async def ask(http: httpx.AsyncClient, text: str) -> str:
    raw = await async_openai(http).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )
    return raw.headers["x-layercache-request-id"]


def lines(buffer: LogBuffer | None, event: str) -> list[dict[str, Any]]:
    assert buffer is not None  # the app's log buffer, there once it started
    return [line for line in buffer.tail(1000) if line.get("event") == event]


async def test_every_line_carries_the_request_id_and_no_prompt_or_key(
    make_settings: Callable[..., Settings], fake: FakeProvider
) -> None:
    app = chatty_app(make_settings(), fake)
    async with client_of(app) as proxy:
        request_id = await ask(proxy, "my private question 1234")
        buffer = app.runtime.logs
    [line] = lines(buffer, "stage_saw_request")
    assert line["request_id"] == request_id
    assert line["prompt"] == "[omitted]"
    assert "sk-live" not in json.dumps(line) and "[redacted]" in line["error"]
    assert line["level"] == "info" and line["logger"] == "layercache.test_stage"
    assert not lines(buffer, "stage_debug_detail")  # below the configured INFO level


async def test_prompts_are_logged_only_when_enabled(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    app = chatty_app(make_settings(logging={"log_prompts": True, "level": "DEBUG"}), fake)
    async with client_of(app) as proxy:
        await ask(proxy, "say hello 5678")
        buffer = app.runtime.logs
    [line] = lines(buffer, "stage_saw_request")
    assert line["prompt"] == "say hello 5678"
    assert "sk-live" not in line["error"]  # keys are redacted even then
    assert lines(buffer, "stage_debug_detail")


async def test_json_format_writes_one_json_object_per_line(
    make_settings: Callable[..., Settings], fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    app = chatty_app(make_settings(logging={"format": "json"}), fake)
    async with client_of(app) as proxy:
        request_id = await ask(proxy, "json please 0000")
    err = capsys.readouterr().err
    docs = [json.loads(raw) for raw in err.splitlines() if raw.startswith("{")]
    [doc] = [d for d in docs if d.get("event") == "stage_saw_request"]
    assert doc["request_id"] == request_id and doc["level"] == "info" and "timestamp" in doc
    assert "json please" not in err


async def test_console_format_is_not_json(
    make_settings: Callable[..., Settings], fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    app = chatty_app(make_settings(logging={"format": "console"}), fake)
    async with client_of(app) as proxy:
        request_id = await ask(proxy, "console 1111")
    [raw] = [raw for raw in capsys.readouterr().err.splitlines() if "stage_saw_request" in raw]
    assert not raw.startswith("{") and f"request_id={request_id}" in raw


async def test_ring_buffer_is_bounded_and_per_app(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    first = chatty_app(make_settings(logging={"ring_buffer_size": 10}), fake)
    second = chatty_app(make_settings(), fake)
    async with client_of(first) as one, client_of(second) as two:
        for i in range(15):
            await ask(one, f"first app {i:04d}")
        second_id = await ask(two, "second app 9999")
        buffers = first.runtime.logs, second.runtime.logs
    assert buffers[0] is not None
    assert len(buffers[0].tail(1000)) == 10
    assert all(line.get("request_id") != second_id for line in buffers[0].tail(1000))
    [only] = lines(buffers[1], "stage_saw_request")  # none of the first app's lines
    assert only["request_id"] == second_id


async def test_host_logging_is_left_alone(make_settings: Callable[..., Settings], fake: FakeProvider) -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    host = logging.getLogger("myhost.service")
    app = chatty_app(make_settings(), fake)
    async with client_of(app) as proxy:
        await ask(proxy, "host check 2222")
    assert (list(root.handlers), root.level) == before
    assert host.propagate and logging.getLogger("layercache").propagate is False


async def test_a_client_request_id_is_used_only_when_it_is_a_short_plain_token(http: httpx.AsyncClient) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    kept = await http.post("/v1/chat/completions", json=body, headers={"x-request-id": "abc-123.x:y"})
    assert kept.headers["x-layercache-request-id"] == "abc-123.x:y"
    for bad in ("x" * 129, "has space", "tab\tid", "semi;colon"):
        answer = await http.post("/v1/chat/completions", json=body, headers={"x-request-id": bad})
        own = answer.headers["x-layercache-request-id"]
        assert own != bad and len(own) == 32  # a fresh id, not the client's text in every log line
