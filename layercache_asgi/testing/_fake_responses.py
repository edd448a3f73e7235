"""The fake provider's OpenAI Responses API (``POST .../responses``): what it answers.

"Echo: <newest user text>"; a function call to the first function tool when tools are
offered and the newest item is a user message; "Tool said: <output>" after a
``function_call_output``. The prompt it bills is instructions, tools and input items.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ..wire._completion import Completion, ToolCall
from ..wire._content import content_text

__all__ = ["responses_answer", "responses_prompt"]


def responses_prompt(body: dict[str, Any]) -> list[Any]:
    """The prompt in prefix order: tools, instructions, then each input item (a string is one user message)."""
    value = body.get("input")
    items = [{"role": "user", "content": value}] if isinstance(value, str) else list(value or [])
    head = [body["instructions"]] if body.get("instructions") else []
    return [*(body.get("tools") or []), *head, *items]


def responses_answer(body: dict[str, Any]) -> Completion:
    value = body.get("input")
    items = [{"role": "user", "content": value}] if isinstance(value, str) else list(value or [])
    last = items[-1] if items and isinstance(items[-1], dict) else {}
    model = str(body.get("model", ""))
    if last.get("type") == "function_call_output":
        return Completion(model=model, text=f"Tool said: {last.get('output', '')}")
    text = content_text(last.get("content"), " ")
    functions = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    if functions and last.get("role") == "user":
        call = ToolCall(
            f"call_{uuid.uuid4().hex[:12]}", str(functions[0].get("name", "tool")), json.dumps({"input": text})
        )
        return Completion(model=model, tool_calls=[call], finish_reason="tool_calls")
    return Completion(model=model, text=f"Echo: {text}")
