"""A fake LLM provider: OpenAI chat completions, the Responses API and Anthropic messages, JSON and SSE.

Answers deterministically ("Echo: <last user text>"), calls the first tool when tools
are offered and the newest message is a user's question, and reports usage the way
the real providers shape it. Failures, delays and broken streams can be scripted. Like
the real APIs it refuses, with their 400s, conversations they refuse (see
:mod:`._request_rules`): unpaired tool calls and results, too many cache breakpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from .._types import Message, Receive, Scope, Send, Wire
from ..prompt._layers import is_tool_result
from ..wire._anthropic import render_json as anthropic_json
from ..wire._anthropic import render_sse as anthropic_sse
from ..wire._completion import Completion, ToolCall, Usage
from ..wire._openai import render_json as openai_json
from ..wire._openai import render_sse as openai_sse
from ..wire._responses import render_json as responses_json
from ..wire._responses import render_sse as responses_sse
from ._asgi import read_body
from ._fake_diagnostics import FakeCacheDiagnostics
from ._fake_responses import responses_answer, responses_prompt
from ._request_rules import anthropic_refusal, openai_refusal

__all__ = ["FakeProvider", "RecordedRequest", "count_tokens"]


def count_tokens(value: Any) -> int:
    """About four characters a token, like the providers' tokenizers on English text."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return max(1, math.ceil(len(text) / 4))


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = b""  # the body as received, for byte-level checks


@dataclass
class FakeProvider:
    """An ASGI app. Every request is recorded in :attr:`requests`.

    ``fail_next``: statuses to answer the next requests with, in order. ``delay``:
    seconds before a response starts. ``stall_stream_after``: pause ``stall_seconds``
    after that many SSE events. ``break_stream_after``: drop the connection after that
    many SSE events. ``expected_key``: answer 401 to any other key.
    ``error_headers``: extra headers of the scripted failures (e.g. ``retry-after``).
    ``response_headers``: headers sent on every answer, success or failure (request ids, rate limits).
    ``strict``: answer 400, as the real APIs do, to a conversation they refuse (an orphan
    tool result, a tool call left unanswered, more than 4 cache breakpoints, a 1h
    breakpoint after a 5-minute one).

    ``/v1/messages/count_tokens`` answers ``{"input_tokens": N}`` after ``count_tokens_delay``
    seconds. ``count_tokens_status`` scripts another status (with an Anthropic error
    document; 404 as a gateway without the endpoint would), ``count_tokens_body`` another
    document (JSON, or bytes sent as they are), alone or together.

    :attr:`in_flight` counts requests being answered; a caller that closes its
    connection during a delay ends its request there and counts in :attr:`abandoned`.
    """

    name: str = "fake"
    delay: float = 0.0
    stall_stream_after: int | None = None
    stall_seconds: float = 0.0
    fail_next: list[int] = field(default_factory=list)
    break_stream_after: int | None = None
    expected_key: str | None = None
    error_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    strict: bool = True
    requests: list[RecordedRequest] = field(default_factory=list)
    # What ``GET .../models`` lists (OpenAI's shape, or Anthropic's when ``anthropic-version`` is sent).
    models: list[str] = field(default_factory=lambda: ["fake-gpt-1", "fake-claude-1"])
    in_flight: int = 0
    abandoned: int = 0
    count_tokens_status: int | None = None
    count_tokens_body: Any = None
    count_tokens_delay: float = 0.0
    # Anthropic's cache diagnostics (``diagnostics.previous_message_id``), answered from fingerprints.
    diagnostics: FakeCacheDiagnostics = field(default_factory=FakeCacheDiagnostics)

    # -- what to answer ---------------------------------------------------------------

    def usage_for(self, wire: str, body: dict[str, Any], completion: Completion) -> Usage:
        """Prompt tokens of the whole request, none cached. Subclasses simulate prefix caches."""
        prompt: Any = {k: v for k, v in body.items() if k in ("system", "tools", "messages")}
        if wire == "responses":
            prompt = responses_prompt(body)
        return Usage(uncached_input=count_tokens(prompt), output=count_tokens(completion.text or "x"))

    def answer(self, wire: str, body: dict[str, Any]) -> Completion:
        if wire == "responses":
            return responses_answer(body)
        messages = body.get("messages") or []
        last = messages[-1] if messages else {}
        text = _text_of(last.get("content"))
        kind: Wire = "anthropic" if wire == "anthropic" else "openai"
        result = is_tool_result(kind, last)
        # Like a model, it answers once the newest turn brings tool results (even with an
        # instruction after them) and calls a tool only for a new question.
        assistant = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"]
        since = assistant[-1] + 1 if assistant else 0
        has_results = any(is_tool_result(kind, m) for m in messages[since:])
        tools = body.get("tools") or []
        if tools and last.get("role") == "user" and not has_results:
            tool = tools[0]
            name = tool.get("name") or (tool.get("function") or {}).get("name") or "tool"
            call = ToolCall(f"call_{uuid.uuid4().hex[:12]}", str(name), json.dumps({"input": text}))
            if wire == "anthropic":
                call.id = f"toolu_{uuid.uuid4().hex[:20]}"
            return Completion(model=str(body.get("model", "")), tool_calls=[call], finish_reason="tool_calls")
        reply = f"Tool said: {text}" if result else f"Echo: {text}"
        return Completion(model=str(body.get("model", "")), text=reply, finish_reason="stop")

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        raw = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if scope["method"] == "GET" and path.endswith("/models"):
            self.requests.append(RecordedRequest(path, headers, {}))
            await _send(send, 200, self._model_list(anthropic="anthropic-version" in headers))
            return
        if path.endswith("/chat/completions"):
            wire = "openai"
        elif path.endswith("/v1/messages"):
            wire = "anthropic"
        elif path.endswith("/responses"):
            wire = "responses"
        elif path.endswith("/v1/messages/count_tokens"):
            wire = "count_tokens"
        else:
            await _send(send, 404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            await _send(send, 400, _error(wire, 400, "bad json"))
            return
        self.requests.append(RecordedRequest(path, headers, body, raw))
        self.in_flight += 1
        gone = asyncio.Event()
        watcher = asyncio.create_task(_watch_disconnect(receive, gone))
        try:
            await self._respond(wire, headers, body, _Pause(gone), send)
        except _CallerLeft:
            self.abandoned += 1
        finally:
            self.in_flight -= 1
            watcher.cancel()

    async def _respond(
        self, wire: str, headers: dict[str, str], body: dict[str, Any], pause: _Pause, send: Send
    ) -> None:
        if self.expected_key is not None:
            key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
            if key != self.expected_key:
                await _send(send, 401, _error(wire, 401, "invalid x-api-key"), self.response_headers)
                return
        if wire == "count_tokens":
            await self._count(body, pause, send)
            return
        await pause(self.delay)
        if self.fail_next:
            status = self.fail_next.pop(0)
            failure_headers = {**self.response_headers, **self.error_headers}
            await _send(send, status, _error(wire, status, f"{self.name} failed with {status}"), failure_headers)
            return
        refusal = _refusal(wire, body) if self.strict else None
        if refusal is None and wire == "anthropic":
            refusal = self.diagnostics.refusal(body)
        if refusal is not None:
            await _send(send, 400, refusal, self.response_headers)
            return
        completion = self.answer(wire, body)
        completion.usage = self.usage_for(wire, body, completion)
        model = str(body.get("model", ""))
        asked, diagnosis = self.diagnostics.diagnose(body, count_tokens) if wire == "anthropic" else (False, None)
        if not body.get("stream"):
            render = {"openai": openai_json, "responses": responses_json}.get(wire, anthropic_json)
            doc = json.loads(render(completion, model=model))
            if asked:
                doc = self.diagnostics.into_json(doc, diagnosis)
                self.diagnostics.remember(str(doc["id"]), body, count_tokens)
            await _send(send, 200, doc, self.response_headers)
            return
        if wire == "responses":
            events = responses_sse(completion, model=model)
        elif wire == "openai":
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            events = openai_sse(completion, model=model, include_usage=include)
        else:
            events = anthropic_sse(completion, model=model)
            if asked:
                events, message_id = self.diagnostics.into_events(events, diagnosis)
                self.diagnostics.remember(message_id, body, count_tokens)
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.response_headers.items()]
        sse_headers = [(b"content-type", b"text/event-stream"), *extra]
        await send({"type": "http.response.start", "status": 200, "headers": sse_headers})
        for i, chunk in enumerate(events):
            if self.break_stream_after is not None and i >= self.break_stream_after:
                raise ConnectionError("fake provider dropped the stream")
            if i == self.stall_stream_after:
                await pause(self.stall_seconds)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _count(self, body: dict[str, Any], pause: _Pause, send: Send) -> None:
        await pause(self.count_tokens_delay)
        status, doc = self.count_tokens_status or 200, self.count_tokens_body
        if isinstance(doc, bytes):  # not JSON at all, e.g. a gateway's HTML page
            await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": doc})
            return
        if doc is None and status >= 400:
            doc = _error("anthropic", status, f"{self.name} count_tokens failed with {status}")
        if doc is None:
            prompt = {k: v for k, v in body.items() if k in ("system", "tools", "messages")}
            doc = {"input_tokens": count_tokens(prompt)}
        await _send(send, status, doc)

    def _model_list(self, *, anthropic: bool) -> dict[str, Any]:
        if anthropic:
            data = [
                {"type": "model", "id": m, "display_name": m.title(), "created_at": "2026-01-02T03:04:05Z"}
                for m in self.models
            ]
            first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
            return {"data": data, "has_more": False, "first_id": first, "last_id": last}
        return {
            "object": "list",
            "data": [{"id": m, "object": "model", "created": 1, "owned_by": self.name} for m in self.models],
        }


class _CallerLeft(Exception):
    pass


class _Pause:
    """Sleep, unless the caller closes its connection first (then stop answering it)."""

    def __init__(self, gone: asyncio.Event) -> None:
        self.gone = gone

    async def __call__(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gone.wait(), seconds)
        if self.gone.is_set():
            raise _CallerLeft


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    # After the body, the server's next message is the disconnect (or the answer being done).
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, dict) and p.get("type") == "text":
                parts.append(str(p.get("text", "")))
            elif isinstance(p, dict) and p.get("type") == "tool_result":
                parts.append(_text_of(p.get("content")))
        return " ".join(parts)
    return ""


def _refusal(wire: str, body: dict[str, Any]) -> dict[str, Any] | None:
    if wire == "anthropic":
        message = anthropic_refusal(body)
        return (
            None
            if message is None
            else {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
        )
    found = openai_refusal(body)
    if found is None:
        return None
    message, param = found
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}


def _error(wire: str, status: int, message: str) -> dict[str, Any]:
    if wire in ("anthropic", "count_tokens"):
        kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}}


async def _send(send: Send, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(doc).encode()
    extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), *extra],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})
