"""What the real APIs refuse with a 400, so the fake provider refuses it too.

A proxy that reshapes conversations (truncation, cache markers) can break them in ways
a lenient fake would hide: these are the rules the providers enforce, with their
messages, so such a mistake fails a test instead of a user's request.

- OpenAI: a ``tool`` message must answer a ``tool_calls`` id of the assistant message
  right before it (other tool messages may sit between); an assistant's ``tool_calls``
  must each be answered before the next non-tool message.
- Anthropic: a ``tool_result`` must answer a ``tool_use`` of the previous (assistant)
  message; every ``tool_use`` must be answered in the next message; at most 4 blocks
  carry ``cache_control`` (a top-level ``cache_control``, automatic caching, takes one);
  a ``ttl: 1h`` breakpoint must not come after a 5-minute one (order: tools, system,
  messages; the automatic one sits on the last block).

A trailing assistant message (a prefill) is not checked for answers: nothing follows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["anthropic_refusal", "openai_refusal"]

_ORDER_NOTE = "Note that blocks are processed in the following order: `tools`, `system`, `messages`."


def openai_refusal(body: dict[str, Any]) -> tuple[str, str] | None:
    """(message, param) of OpenAI's 400 for ``body``, or None when OpenAI would accept it."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return None
    pending: dict[str, None] = {}  # ids of the last assistant's tool_calls not yet answered
    answerable: set[str] = set()  # ids a tool message at this point may answer
    owner = 0  # index of the assistant message whose calls are pending
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            call_id = message.get("tool_call_id")
            if call_id not in answerable:
                return (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            pending.pop(str(call_id), None)
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(pending)}",
                f"messages.[{owner}].role",
            )
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        call_ids = [str(c.get("id")) for c in calls or [] if isinstance(c, dict)]
        pending, answerable, owner = dict.fromkeys(call_ids), set(call_ids), i
    return None


def _blocks(content: Any) -> list[Any]:
    return content if isinstance(content, list) else []


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def _ids(message: Any, kind: str, key: str) -> list[str]:
    if not isinstance(message, dict):
        return []
    return [str(b.get(key)) for b in _blocks(message.get("content")) if isinstance(b, dict) and b.get("type") == kind]


def _pairing_refusal(messages: list[Any]) -> str | None:
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "user":
            previous = messages[i - 1] if i > 0 else None
            uses = set(_ids(previous, "tool_use", "id")) if _role(previous) == "assistant" else set()
            for j, block in enumerate(_blocks(message.get("content"))):
                if (
                    isinstance(block, dict)
                    and block.get("type") == "tool_result"
                    and block.get("tool_use_id") not in uses
                ):
                    return (
                        f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                        "`tool_use` block in the previous message."
                    )
        elif message.get("role") == "assistant" and i + 1 < len(messages):
            following = messages[i + 1]
            answered = set(_ids(following, "tool_result", "tool_use_id")) if _role(following) == "user" else set()
            missing = [u for u in _ids(message, "tool_use", "id") if u not in answered]
            if missing:
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
                    "in the next message."
                )
    return None


def _marked_blocks(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path of its cache_control, cache_control) of every marked block, in the order Anthropic processes them."""
    tools = body.get("tools")
    for i, tool in enumerate(tools if isinstance(tools, list) else []):
        if isinstance(tool, dict) and isinstance(tool.get("cache_control"), dict):
            yield f"tools.{i}.cache_control", tool["cache_control"]
    for i, block in enumerate(_blocks(body.get("system"))):
        if isinstance(block, dict) and isinstance(block.get("cache_control"), dict):
            yield f"system.{i}.cache_control", block["cache_control"]
    messages = body.get("messages")
    for i, message in enumerate(messages if isinstance(messages, list) else []):
        for j, block in enumerate(_blocks(message.get("content") if isinstance(message, dict) else None)):
            if not isinstance(block, dict):
                continue
            if isinstance(block.get("cache_control"), dict):
                yield f"messages.{i}.content.{j}.cache_control", block["cache_control"]
            for k, inner in enumerate(_blocks(block.get("content")) if block.get("type") == "tool_result" else []):
                if isinstance(inner, dict) and isinstance(inner.get("cache_control"), dict):
                    yield f"messages.{i}.content.{j}.content.{k}.cache_control", inner["cache_control"]
    if isinstance(body.get("cache_control"), dict):  # automatic caching: a breakpoint on the last block
        yield "cache_control", body["cache_control"]


def _marker_refusal(body: dict[str, Any]) -> str | None:
    marked = list(_marked_blocks(body))
    if len(marked) > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {len(marked)}."
    seen_short = False
    for path, marker in marked:
        ttl = str(marker.get("ttl") or "5m")
        if ttl == "1h" and seen_short:
            return (
                f"{path}.ttl: a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block. "
                + _ORDER_NOTE
            )
        seen_short = seen_short or ttl == "5m"
    return None


def anthropic_refusal(body: dict[str, Any]) -> str | None:
    """The message of Anthropic's 400 (``invalid_request_error``) for ``body``, or None when valid."""
    messages = body.get("messages")
    pairing = _pairing_refusal(messages) if isinstance(messages, list) else None
    return pairing or _marker_refusal(body)
