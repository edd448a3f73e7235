"""The OpenAI chat-completions wire format: usage, responses and streams."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ._completion import Completion, ToolCall, Usage
from ._content import content_text
from ._sse import SSEParser, format_event

__all__ = ["OpenAIStream", "completion_from_json", "render_json", "render_sse", "usage_from_wire", "usage_to_wire"]


def usage_from_wire(usage: dict[str, Any] | None) -> Usage:
    """OpenAI's ``prompt_tokens`` includes cached ones (``prompt_tokens_details.cached_tokens``)."""
    if not isinstance(usage, dict):
        return Usage()
    return Usage.from_inclusive(
        usage, details="prompt_tokens_details", prompt="prompt_tokens", completion="completion_tokens"
    )


def usage_to_wire(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_total,
        "completion_tokens": usage.output,
        "total_tokens": usage.input_total + usage.output,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read},
    }


def completion_from_json(body: dict[str, Any]) -> Completion:
    choices = body.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    calls = [
        ToolCall(
            id=str(c.get("id", "")),
            name=str((c.get("function") or {}).get("name", "")),
            arguments=str((c.get("function") or {}).get("arguments", "")),
        )
        for c in message.get("tool_calls") or []
        if isinstance(c, dict)
    ]
    return Completion(
        model=str(body.get("model", "")),
        text=content_text(message.get("content")),
        tool_calls=calls,
        finish_reason=str(choice.get("finish_reason") or "stop"),
        usage=usage_from_wire(body.get("usage")),
        id=str(body.get("id", "")),
    )


def _message(completion: Completion) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": completion.text or None}
    if completion.tool_calls:
        message["tool_calls"] = [
            {"id": t.id, "type": "function", "function": {"name": t.name, "arguments": t.arguments}}
            for t in completion.tool_calls
        ]
    else:
        message["content"] = completion.text
    return message


def render_json(completion: Completion, *, model: str) -> bytes:
    doc = {
        "id": completion.id or f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": _message(completion), "finish_reason": completion.finish_reason, "logprobs": None}
        ],
        "usage": usage_to_wire(completion.usage),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def render_sse(completion: Completion, *, model: str, include_usage: bool) -> list[bytes]:
    """A complete chunk sequence the OpenAI SDK parses, ending with ``[DONE]``."""
    cid = completion.id or f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
        doc: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if usage is not None:
            doc["choices"] = []
            doc["usage"] = usage
        return format_event(json.dumps(doc, separators=(",", ":")))

    events = [chunk({"role": "assistant", "content": ""})]
    if completion.text:
        events.append(chunk({"content": completion.text}))
    for i, call in enumerate(completion.tool_calls):
        events.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments},
                        }
                    ]
                }
            )
        )
    events.append(chunk({}, completion.finish_reason))
    if include_usage:
        events.append(chunk({}, usage=usage_to_wire(completion.usage)))
    events.append(b"data: [DONE]\n\n")
    return events


class OpenAIStream:
    """Accumulates a streamed chat completion into a :class:`Completion` as bytes pass by."""

    def __init__(self) -> None:
        self._parser = SSEParser()
        self.completion = Completion()
        self._calls: dict[int, ToolCall] = {}
        self.done = False
        self.error: str | None = None

    def feed(self, chunk: bytes) -> None:
        for _event, data in self._parser.feed(chunk):
            self._on_data(data)

    def _on_data(self, data: str) -> None:
        if data.strip() == "[DONE]":
            self.done = True
            return
        try:
            doc = json.loads(data)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        if "error" in doc:
            self.error = str((doc.get("error") or {}).get("message", "upstream error"))
            return
        c = self.completion
        c.id = c.id or str(doc.get("id", ""))
        c.model = c.model or str(doc.get("model", ""))
        if doc.get("usage"):
            c.usage = usage_from_wire(doc["usage"])
        for choice in doc.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                c.text += delta["content"]
            for tc in delta.get("tool_calls") or []:
                index = int(tc.get("index", 0))
                call = self._calls.setdefault(index, ToolCall("", "", ""))
                fn = tc.get("function") or {}
                call.id = call.id or str(tc.get("id") or "")
                call.name += str(fn.get("name") or "")
                call.arguments += str(fn.get("arguments") or "")
            if choice.get("finish_reason"):
                c.finish_reason = str(choice["finish_reason"])

    def result(self) -> Completion:
        self.completion.tool_calls = [self._calls[i] for i in sorted(self._calls)]
        return self.completion
