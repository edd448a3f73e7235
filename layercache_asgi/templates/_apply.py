"""Put a template into a request body, in the client's wire format.

OpenAI: the template's system prompt becomes the first system message (L0); its context a
system message after the client's own leading system messages, hinted L1. Anthropic: both
become text blocks of ``system`` around the client's own: the system prompt first (L0), the
context last, hinted L1 (Anthropic reads tools, then system, so the context still sits
inside the cached prefix). Template tools join the request's tools unless the client
sent a tool of the same name. Nothing the client sent is dropped or reordered.
Responses API: the system prompt goes before the client's ``instructions`` (L0); the
context becomes a leading ``developer`` input item, hinted L1.
"""

from __future__ import annotations

import copy
from typing import Any

from .._request import ChatRequest, EnhancementSpec
from ._model import Template, tool_name

__all__ = ["apply_template", "to_anthropic_tool", "to_openai_tool", "to_responses_tool"]

_SYSTEM_ROLES = ("system", "developer")
_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def to_openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    if isinstance(tool.get("function"), dict):
        return copy.deepcopy(tool)
    function: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        function["description"] = tool["description"]
    function["parameters"] = copy.deepcopy(tool.get("input_schema") or _EMPTY_SCHEMA)
    return {"type": "function", "function": function}


def to_responses_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """The Responses API's flat function tool: ``{"type": "function", "name", "description", "parameters"}``."""
    function = to_openai_tool(tool)["function"]
    return {"type": "function", **function} if isinstance(function, dict) else copy.deepcopy(tool)


def to_anthropic_tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, dict):
        return copy.deepcopy(tool)
    converted: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        converted["description"] = function["description"]
    converted["input_schema"] = copy.deepcopy(function.get("parameters") or _EMPTY_SCHEMA)
    return converted


def _merge_tools(request: ChatRequest, template: Template) -> None:
    if not template.tools:
        return
    convert = {"openai": to_openai_tool, "responses": to_responses_tool}.get(request.wire, to_anthropic_tool)
    tools: list[dict[str, Any]] = list(request.body.get("tools") or [])
    taken = {tool_name(t) for t in tools if isinstance(t, dict)}
    tools += [convert(t) for t in template.tools if tool_name(t) not in taken]
    request.body["tools"] = tools


def _apply_openai(request: ChatRequest, template: Template) -> dict[int, int]:
    """Edit the messages; return hints for the template's messages (index → layer)."""
    messages = request.messages
    lead = 0
    while lead < len(messages) and isinstance(messages[lead], dict) and messages[lead].get("role") in _SYSTEM_ROLES:
        lead += 1
    role = messages[0]["role"] if lead else "system"  # o1-style clients send "developer"; follow them
    head: list[dict[str, Any]] = [{"role": role, "content": template.system}] if template.system else []
    head += messages[:lead]
    hints: dict[int, int] = {}
    if template.context:
        hints[len(head)] = 1
        head.append({"role": role, "content": template.context})
    before, after = (1 if template.system else 0), (1 if template.context else 0)
    # The client's own lc_layer_hints name indices of the messages it sent; shift them along.
    ext = request.ext
    ext.lc_layer_hints = {i + before + (after if i >= lead else 0): layer for i, layer in ext.lc_layer_hints.items()}
    request.body["messages"] = head + messages[lead:]
    return hints


def _apply_responses(request: ChatRequest, template: Template) -> dict[int, int]:
    """System prompt before the client's ``instructions``; context as a leading developer item (L1)."""
    body = request.body
    if template.system:
        own = body.get("instructions")
        body["instructions"] = f"{template.system}\n\n{own}" if isinstance(own, str) and own else template.system
    if not template.context:
        return {}
    items = body.get("input")
    items = [{"role": "user", "content": items}] if isinstance(items, str) else list(items or [])
    body["input"] = [{"role": "developer", "content": template.context}, *items]
    request.ext.lc_layer_hints = {i + 1: layer for i, layer in request.ext.lc_layer_hints.items()}
    return {0: 1}


def _apply_anthropic(request: ChatRequest, template: Template) -> dict[int, int]:
    """Put the template's blocks into ``system``; return system hints (its context block is L1)."""
    if not template.system and not template.context:
        return {}
    system = request.body.get("system")
    blocks: list[Any] = [{"type": "text", "text": template.system}] if template.system else []
    if isinstance(system, str) and system:
        blocks.append({"type": "text", "text": system})
    elif isinstance(system, list):
        blocks += system
    hints: dict[int, int] = {}
    if template.context:
        hints[len(blocks)] = 1
        blocks.append({"type": "text", "text": template.context})
    request.body["system"] = blocks
    return hints


def _merge_enhancements(request: ChatRequest, template: Template) -> None:
    # The template gives defaults; an enhancement the client names itself keeps the client's options.
    asked = {e.name for e in request.ext.lc_enhancements}
    defaults = [EnhancementSpec(name=e.name, options=dict(e.options)) for e in template.enhancements]
    request.ext.lc_enhancements = [e for e in defaults if e.name not in asked] + request.ext.lc_enhancements


def apply_template(request: ChatRequest, template: Template) -> tuple[dict[int, int], dict[int, int]]:
    """Apply ``template`` to ``request`` in place; return layer hints for the messages and
    for the (Anthropic) system blocks it added."""
    hints = _apply_openai(request, template) if request.wire == "openai" else {}
    if request.wire == "responses":
        hints = _apply_responses(request, template)
    system_hints = _apply_anthropic(request, template) if request.wire == "anthropic" else {}
    _merge_tools(request, template)
    _merge_enhancements(request, template)
    return hints, system_hints
