"""The OpenAI Responses API wire format (``POST /v1/responses``): requests, usage, answers, streams.

A request's ``input`` is a string or a list of items: messages (``role`` user, assistant,
system, developer) and typed items (``function_call``, ``function_call_output``,
``reasoning``, ``custom_tool_call`` ...). Only what the proxy reads is validated; item
types it does not know pass untouched, since OpenAI adds new ones often.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from .._errors import ProxyError
from ._completion import Completion, ToolCall, Usage
from ._sse import SSEParser, format_event

__all__ = [
    "RESPONSES_FIELDS",
    "ResponsesStream",
    "check_responses_body",
    "completion_from_json",
    "item_role",
    "render_json",
    "render_sse",
    "stateful_fields",
    "usage_from_wire",
]

# The request fields that may reach LiteLLM's Responses bridge (the fast path forwards the
# body as the client built it). Anything else (Codex's ``client_metadata``, the OpenAI-only
# ``prompt_cache_key``) is OpenAI's own and means nothing to another provider.
RESPONSES_FIELDS = frozenset(
    {
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_output_tokens",
        "temperature",
        "top_p",
        "text",
        "reasoning",
        "metadata",
        "stream",
        "truncation",
        "user",
    }
)
# State that lives at OpenAI: only an OpenAI deployment can resolve it.
_STATEFUL = ("previous_response_id", "conversation")


def _bad(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(400, message, param=param, code="invalid_request")


def check_responses_body(body: dict[str, Any]) -> None:
    """Validate what the proxy reads of a Responses request (``model`` is checked by the caller)."""
    value = body.get("input")
    if value is not None and not isinstance(value, str | list):
        raise _bad("'input' must be a string or an array of input items", "input")
    for i, item in enumerate(value if isinstance(value, list) else []):
        if not isinstance(item, dict):
            raise _bad(f"input[{i}] must be an object", f"input[{i}]")
        if item.get("type", "message") == "message":
            if not isinstance(item.get("role"), str):
                raise _bad(f"input[{i}].role is required", f"input[{i}].role")
            if not isinstance(item.get("content"), str | list):
                raise _bad(f"input[{i}].content must be a string or an array of parts", f"input[{i}].content")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str | list):
        raise _bad("'instructions' must be a string", "instructions")


def stateful_fields(body: dict[str, Any]) -> list[str]:
    """The fields of ``body`` that name state stored at OpenAI: ``previous_response_id``,
    ``conversation``, and ``store: true`` / ``background: true`` (fetched back from OpenAI later)."""
    found = [name for name in _STATEFUL if body.get(name)]
    return found + [name for name in ("store", "background") if body.get(name) is True]


def item_role(item: Any) -> str | None:
    """The chat role an input item plays: output items (calls, reasoning) are the assistant's,
    their outputs are tool results; unknown item types have none."""
    if not isinstance(item, dict):
        return None
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        return role if isinstance(role, str) else None
    if not isinstance(kind, str):
        return None
    if kind.endswith("_output"):
        return "tool"
    if kind == "reasoning" or kind.endswith("_call"):
        return "assistant"
    return None


def usage_from_wire(usage: dict[str, Any] | None) -> Usage:
    """``input_tokens`` includes the cached ones (``input_tokens_details.cached_tokens``)."""
    if not isinstance(usage, dict):
        return Usage()
    return Usage.from_inclusive(
        usage, details="input_tokens_details", prompt="input_tokens", completion="output_tokens"
    )


def _usage_to_wire(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_total,
        "input_tokens_details": {"cached_tokens": usage.cache_read},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_total + usage.output,
    }


def _output_text(item: dict[str, Any]) -> str:
    content = item.get("content")
    if not isinstance(content, list):
        return ""
    return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "output_text")


def completion_from_json(body: dict[str, Any]) -> Completion:
    """A ``response`` object as a :class:`Completion` (text of its messages, its function calls)."""
    text: list[str] = []
    calls: list[ToolCall] = []
    for item in body.get("output") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            text.append(_output_text(item))
        elif item.get("type") == "function_call":
            calls.append(
                ToolCall(str(item.get("call_id", "")), str(item.get("name", "")), str(item.get("arguments", "")))
            )
    reason = (body.get("incomplete_details") or {}).get("reason") if body.get("status") == "incomplete" else None
    return Completion(
        model=str(body.get("model", "")),
        text="".join(text),
        tool_calls=calls,
        finish_reason="tool_calls" if calls else ("length" if reason == "max_output_tokens" else "stop"),
        usage=usage_from_wire(body.get("usage")),
        id=str(body.get("id", "")),
    )


def _message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = (
        [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if status == "completed" else []
    )
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _call_item(call: ToolCall, arguments: str, status: str = "completed") -> dict[str, Any]:
    fc_id = f"fc_{call.id.removeprefix('call_')}" if call.id else f"fc_{uuid.uuid4().hex}"
    return {
        "id": fc_id,
        "type": "function_call",
        "status": status,
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
    }


def _response(completion: Completion, model: str, rid: str, created: int, *, done: bool) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if done:
        if completion.text or not completion.tool_calls:
            output.append(_message_item(f"msg_{rid.removeprefix('resp_')}", completion.text))
        output += [_call_item(c, c.arguments) for c in completion.tool_calls]
    incomplete = done and completion.finish_reason == "length"
    return {
        "id": rid,
        "object": "response",
        "created_at": created,
        "status": ("incomplete" if incomplete else "completed") if done else "in_progress",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": _usage_to_wire(completion.usage) if done else None,
        "user": None,
        "metadata": {},
    }


def _rid(completion: Completion) -> str:
    return completion.id if completion.id.startswith("resp_") else f"resp_{uuid.uuid4().hex}"


def render_json(completion: Completion, *, model: str) -> bytes:
    doc = _response(completion, model, _rid(completion), int(time.time()), done=True)
    return json.dumps(doc, separators=(",", ":")).encode()


def render_sse(completion: Completion, *, model: str) -> list[bytes]:
    """A complete Responses event stream, ``response.created`` to ``response.completed``."""
    rid, created = _rid(completion), int(time.time())
    events: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        doc = {"type": kind, "sequence_number": len(events), **fields}
        events.append(format_event(json.dumps(doc, separators=(",", ":")), kind))

    emit("response.created", response=_response(completion, model, rid, created, done=False))
    emit("response.in_progress", response=_response(completion, model, rid, created, done=False))
    final = _response(completion, model, rid, created, done=True)
    for index, item in enumerate(final["output"]):
        ids = {"item_id": item["id"], "output_index": index}
        if item["type"] == "message":
            emit("response.output_item.added", output_index=index, item=_message_item(item["id"], "", "in_progress"))
            part = item["content"][0]
            emit("response.content_part.added", **ids, content_index=0, part={**part, "text": ""})
            if completion.text:
                emit("response.output_text.delta", **ids, content_index=0, delta=completion.text, logprobs=[])
            emit("response.output_text.done", **ids, content_index=0, text=completion.text, logprobs=[])
            emit("response.content_part.done", **ids, content_index=0, part=part)
        else:
            emit(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            emit("response.function_call_arguments.delta", **ids, delta=item["arguments"])
            emit("response.function_call_arguments.done", **ids, name=item["name"], arguments=item["arguments"])
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=final)
    return events


class ResponsesStream:
    """Accumulates a streamed response into a :class:`Completion` as the bytes pass by.

    The terminal ``response.completed`` (or ``response.incomplete``) carries the whole
    response with its usage; a ``response.failed`` or ``error`` event is the stream's error."""

    def __init__(self) -> None:
        self._parser = SSEParser()
        self.completion = Completion()
        self.done = False
        self.error: str | None = None

    def feed(self, chunk: bytes) -> None:
        for _event, data in self._parser.feed(chunk):
            self._on_data(data)

    def _on_data(self, data: str) -> None:
        try:
            doc = json.loads(data)
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        kind = doc.get("type")
        found = doc.get("response")
        response: dict[str, Any] = found if isinstance(found, dict) else {}
        if kind in ("response.completed", "response.incomplete"):
            self.completion = completion_from_json(response)
            self.done = True
        elif kind == "response.failed":
            self.error = str((response.get("error") or {}).get("message") or "upstream response failed")
        elif kind == "error":
            self.error = str(doc.get("message") or (doc.get("error") or {}).get("message") or "upstream error")
        elif kind == "response.created":
            self.completion.id = str(response.get("id", ""))
            self.completion.model = str(response.get("model", ""))

    def result(self) -> Completion:
        return self.completion
