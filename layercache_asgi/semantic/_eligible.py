"""Which requests the semantic cache stays out of, and why.

Agent traffic first: a turn that carries tools, tool calls or tool results is an agent
at work. Answering it from the cache is unsafe (the tool's world has moved on), and a
session-start request such as Claude Code's "Warmup" (system prompt + tools + "Warmup")
exists to warm the provider's prefix cache: a cache hit defeats its purpose. Long
conversations next: their newest question leans on history that rarely repeats, so they
cost a lookup and a stored row for almost no hits. Both have settings that opt back in
(``include_tools``, ``max_messages``). The reasons are a small fixed set: they become a
response header and a metric label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._config import SemanticCacheSettings
    from .._request import ChatRequest

__all__ = ["RESPONSES_STATE", "SKIP_REASONS", "carries_tools", "conversation_length", "is_tool_item", "skip_reason"]

# Every value skip_reason and the SemanticCache stage give (bounded: a metric label).
SKIP_REASONS = (
    "client",  # lc_bypass_cache / lc_skip_semantic_cache
    "disabled",  # caching.semantic.enabled is off
    "unavailable",  # the model or the database is not there (yet)
    "server_state",  # the meaning hangs on state held at the provider (Responses API)
    "tools",
    "long_conversation",
    "not_a_question",  # the newest turn is not a user's text (or several choices were asked for)
    "error",  # the lookup failed (logged)
)
# Responses API fields naming state the proxy cannot see.
RESPONSES_STATE = ("previous_response_id", "conversation", "prompt")
_SYSTEM_ROLES = frozenset({"system", "developer"})
_TOOL_ROLES = frozenset({"tool", "function"})
_TOOL_MESSAGE_FIELDS = ("tool_calls", "function_call")  # OpenAI chat assistant turns
_TOOL_BODY_FIELDS = ("tools", "functions")  # "functions": OpenAI's older spelling


def skip_reason(request: ChatRequest, settings: SemanticCacheSettings) -> str | None:
    """Why the semantic cache must neither answer nor store this request, or None."""
    body = request.body
    if request.wire == "responses" and any(body.get(name) for name in RESPONSES_STATE):
        return "server_state"
    if not settings.include_tools and carries_tools(body, request.messages):
        return "tools"
    if settings.max_messages is not None and conversation_length(request) > settings.max_messages:
        return "long_conversation"
    return None


def carries_tools(body: dict[str, Any], messages: list[dict[str, Any]]) -> bool:
    """Tools offered, or a tool call or tool result anywhere in the conversation, on any wire:
    OpenAI chat (``tools``, ``tool_calls``, role ``tool``), Anthropic (``tool_use`` and
    ``tool_result`` blocks, server and MCP tools included) and the Responses API
    (``function_call`` / ``function_call_output`` and the other call items)."""
    if any(body.get(name) for name in _TOOL_BODY_FIELDS):
        return True
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("role") in _TOOL_ROLES or any(message.get(name) for name in _TOOL_MESSAGE_FIELDS):
            return True
        if is_tool_item(message.get("type")):
            return True
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(p, dict) and is_tool_item(p.get("type")) for p in content):
            return True
    return False


def is_tool_item(kind: Any) -> bool:
    """A content block or input item type that is a tool call or its result: Anthropic's
    ``tool_use``, ``tool_result``, ``server_tool_use``, ``web_search_tool_result``,
    ``mcp_tool_use``...; the Responses API's ``function_call``, ``function_call_output``,
    ``custom_tool_call``, ``computer_call``, ``mcp_call``, ``mcp_list_tools``..."""
    if not isinstance(kind, str):
        return False
    return "tool" in kind or kind.endswith(("_call", "_call_output")) or kind.startswith("mcp_")


def conversation_length(request: ChatRequest) -> int:
    """Messages (Responses items) in the conversation, system and developer ones not counted
    (Anthropic keeps its system prompt outside ``messages``: the same count on every wire)."""
    if isinstance(request.body.get(request.messages_key), str):
        return 1  # a Responses input string is one user message
    return sum(1 for m in request.messages if not (isinstance(m, dict) and m.get("role") in _SYSTEM_ROLES))
