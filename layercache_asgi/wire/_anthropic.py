"""The Anthropic messages wire format: usage, responses and event streams."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ._completion import Completion, ToolCall, Usage
from ._sse import SSEParser, format_event

__all__ = ["AnthropicStream", "completion_from_json", "render_json", "render_sse", "usage_from_wire", "usage_to_wire"]

_TO_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
_TO_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def usage_from_wire(usage: dict[str, Any] | None) -> Usage:
    """Anthropic's ``input_tokens`` excludes cache reads and writes."""
    if not usage:
        return Usage()
    return Usage(
        uncached_input=_int(usage.get("input_tokens")),
        cache_read=_int(usage.get("cache_read_input_tokens")),
        cache_write=_int(usage.get("cache_creation_input_tokens")),
        output=_int(usage.get("output_tokens")),
    )


def usage_to_wire(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.uncached_input,
        "output_tokens": usage.output,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_read_input_tokens": usage.cache_read,
    }


def completion_from_json(body: dict[str, Any]) -> Completion:
    text = ""
    calls: list[ToolCall] = []
    for block in body.get("content") or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            text += str(block.get("text", ""))
        elif block.get("type") == "tool_use":
            args = json.dumps(block.get("input") or {}, separators=(",", ":"))
            calls.append(ToolCall(str(block.get("id", "")), str(block.get("name", "")), args))
    return Completion(
        model=str(body.get("model", "")),
        text=text,
        tool_calls=calls,
        finish_reason=_TO_FINISH.get(str(body.get("stop_reason")), "stop"),
        usage=usage_from_wire(body.get("usage")),
        id=str(body.get("id", "")),
    )


def _blocks(completion: Completion) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if completion.text or not completion.tool_calls:
        blocks.append({"type": "text", "text": completion.text})
    for call in completion.tool_calls:
        try:
            args = json.loads(call.arguments or "{}")
        except ValueError:
            args = {}
        blocks.append(
            {"type": "tool_use", "id": call.id or f"toolu_{uuid.uuid4().hex[:24]}", "name": call.name, "input": args}
        )
    return blocks


def _message_id(completion: Completion) -> str:
    return completion.id if completion.id.startswith("msg_") else f"msg_{uuid.uuid4().hex[:24]}"


def render_json(completion: Completion, *, model: str) -> bytes:
    doc = {
        "id": _message_id(completion),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _blocks(completion),
        "stop_reason": _TO_STOP.get(completion.finish_reason, "end_turn"),
        "stop_sequence": None,
        "usage": usage_to_wire(completion.usage),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _event(kind: str, doc: dict[str, Any]) -> bytes:
    return format_event(json.dumps({"type": kind, **doc}, separators=(",", ":")), kind)


def render_sse(completion: Completion, *, model: str) -> list[bytes]:
    """The full message_start ... message_stop sequence the Anthropic SDK parses."""
    usage = usage_to_wire(completion.usage)
    start_usage = {**usage, "output_tokens": 0}
    message: dict[str, Any] = {
        "id": _message_id(completion),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events = [_event("message_start", {"message": message})]
    for index, block in enumerate(_blocks(completion)):
        if block["type"] == "text":
            events.append(
                _event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
            )
            if block["text"]:
                delta = {"type": "text_delta", "text": block["text"]}
                events.append(_event("content_block_delta", {"index": index, "delta": delta}))
        else:
            head = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append(_event("content_block_start", {"index": index, "content_block": head}))
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"], separators=(",", ":"))}
            events.append(_event("content_block_delta", {"index": index, "delta": delta}))
        events.append(_event("content_block_stop", {"index": index}))
    stop = {"stop_reason": _TO_STOP.get(completion.finish_reason, "end_turn"), "stop_sequence": None}
    # The final usage is cumulative and complete, as Anthropic sends it today: LangChain and other
    # clients take the input and cache counts from message_delta, not from message_start.
    events.append(_event("message_delta", {"delta": stop, "usage": usage}))
    events.append(_event("message_stop", {}))
    return events


class AnthropicStream:
    """Accumulates a streamed message into a :class:`Completion` as bytes pass by."""

    def __init__(self) -> None:
        self._parser = SSEParser()
        self.completion = Completion()
        self._blocks: dict[int, dict[str, Any]] = {}
        self.done = False
        self.error: str | None = None

    def feed(self, chunk: bytes) -> None:
        for _event_name, data in self._parser.feed(chunk):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            if isinstance(doc, dict):
                self._on_event(doc)

    def _on_event(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        c = self.completion
        if kind == "message_start":
            message = doc.get("message") or {}
            c.id, c.model = str(message.get("id", "")), str(message.get("model", ""))
            c.usage = usage_from_wire(message.get("usage"))
        elif kind == "content_block_start":
            self._blocks[int(doc.get("index", 0))] = dict(doc.get("content_block") or {}, _json="")
        elif kind == "content_block_delta":
            block = self._blocks.setdefault(int(doc.get("index", 0)), {"type": "text", "text": "", "_json": ""})
            delta = doc.get("delta") or {}
            if delta.get("type") == "text_delta":
                block["text"] = str(block.get("text", "")) + str(delta.get("text", ""))
            elif delta.get("type") == "input_json_delta":
                block["_json"] += str(delta.get("partial_json", ""))
        elif kind == "message_delta":
            delta = doc.get("delta") or {}
            if delta.get("stop_reason"):
                c.finish_reason = _TO_FINISH.get(str(delta["stop_reason"]), "stop")
            usage = doc.get("usage") or {}
            if "output_tokens" in usage:
                c.usage.output = _int(usage["output_tokens"])
            # Some providers report input counts only at the end.
            for key, attr in (
                ("input_tokens", "uncached_input"),
                ("cache_read_input_tokens", "cache_read"),
                ("cache_creation_input_tokens", "cache_write"),
            ):
                if usage.get(key):
                    setattr(c.usage, attr, _int(usage[key]))
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            self.error = str((doc.get("error") or {}).get("message", "upstream error"))

    def result(self) -> Completion:
        c = self.completion
        c.text = "".join(str(b.get("text", "")) for _, b in sorted(self._blocks.items()) if b.get("type") == "text")
        c.tool_calls = [
            ToolCall(str(b.get("id", "")), str(b.get("name", "")), b["_json"] or "{}")
            for _, b in sorted(self._blocks.items())
            if b.get("type") == "tool_use"
        ]
        return c
