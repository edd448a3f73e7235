"""Canonical form of a chat request: the same intent gives the same bytes.

The rules, applied to the body in the client's own wire format (nothing else changes):

1. **Text** (system prompts, message text parts and string contents, tool descriptions):
   ``CRLF`` and lone ``CR`` become ``LF``; spaces and tabs at the end of each line are
   removed; blank lines at the start and whitespace at the end are removed. Indentation
   and blank lines *inside* the text stay (code keeps its shape).
2. **Tools** are sorted by name (stable; unnamed tools keep their order, after the named).
   Every key of every tool definition, including its JSON schema, is sorted, recursively.
   Lists keep their order (``required``, ``enum``, ``anyOf`` mean something in order).
3. **Tool-call arguments**: OpenAI ``tool_calls[].function.arguments`` (JSON text) is
   re-serialised minified with sorted keys; numbers keep their exact spelling (``1e3``
   stays ``1e3``); text that is not JSON, or has duplicate keys, is left as it is.
   Anthropic ``tool_use.input`` objects get their keys sorted, recursively.
4. Messages are never reordered, added or dropped; no field is removed; values inside
   strings are never parsed (``"1e3"`` stays a string).

Every rule is idempotent: ``canonicalize(canonicalize(x)) == canonicalize(x)``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._types import Wire

__all__ = ["canonical_arguments", "canonical_text", "canonicalize_body", "sort_keys_deep"]

_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")


def canonical_text(text: str) -> str:
    """Normalise line endings, trailing whitespace and blank edges; keep indentation."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING.sub("", text)
    text = _LEADING_BLANK_LINES.sub("", text)
    return text.rstrip()


def sort_keys_deep(value: Any) -> Any:
    """The same JSON value with every object's keys in sorted order; lists keep their order."""
    if isinstance(value, dict):
        return {k: sort_keys_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys_deep(v) for v in value]
    return value


class _Number(str):
    """A JSON number kept as its source text, so ``1e3`` is written back as ``1e3``."""


class _DuplicateKeyError(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def _dump(value: Any) -> str:
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def canonical_arguments(text: str) -> str:
    """Tool-call argument JSON, minified with sorted keys and untouched number spelling."""
    try:
        value = json.loads(
            text, parse_float=_Number, parse_int=_Number, parse_constant=_Number, object_pairs_hook=_pairs
        )
        # _dump recurses per level: arguments nested hundreds deep stay as the client wrote them.
        return _dump(value)
    except (ValueError, RecursionError):
        return text


def _text_parts(content: Any) -> Any:
    if isinstance(content, str):
        return canonical_text(content)
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                part["text"] = canonical_text(part["text"])
    return content


def _tool_name(tool: Any) -> str | None:
    if not isinstance(tool, dict):
        return None
    function = tool.get("function")
    name = function.get("name") if isinstance(function, dict) else tool.get("name")
    return name if isinstance(name, str) else None


def _canonical_tool(tool: Any) -> Any:
    if not isinstance(tool, dict):
        return tool
    function = tool.get("function")
    target = function if isinstance(function, dict) else tool
    if isinstance(target.get("description"), str):
        target["description"] = canonical_text(target["description"])
    return sort_keys_deep(tool)


def _canonical_tools(tools: list[Any]) -> list[Any]:
    named = [t for t in tools if _tool_name(t) is not None]
    unnamed = [t for t in tools if _tool_name(t) is None]
    named.sort(key=lambda t: str(_tool_name(t)))
    return [_canonical_tool(t) for t in named + unnamed]


def _openai_message(message: dict[str, Any]) -> None:
    if "content" in message:
        message["content"] = _text_parts(message["content"])
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            function["arguments"] = canonical_arguments(function["arguments"])


def _anthropic_message(message: dict[str, Any]) -> None:
    content = message.get("content")
    message["content"] = _text_parts(content)
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") in ("tool_use", "server_tool_use") and isinstance(block.get("input"), dict):
            block["input"] = sort_keys_deep(block["input"])
        elif block.get("type") == "tool_result" and "content" in block:
            block["content"] = _text_parts(block["content"])


def canonicalize_body(wire: Wire, body: dict[str, Any]) -> None:
    """Rewrite ``body`` (a parsed chat request of ``wire``) into canonical form, in place."""
    if isinstance(body.get("tools"), list):
        body["tools"] = _canonical_tools(body["tools"])
    if wire == "anthropic" and "system" in body:
        body["system"] = _text_parts(body["system"])
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    for message in messages:
        if not isinstance(message, dict):
            continue
        if wire == "openai":
            _openai_message(message)
        else:
            _anthropic_message(message)
