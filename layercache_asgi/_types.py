"""ASGI type aliases, kept here so every module spells them the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "Wire"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The client's wire format: OpenAI chat completions, Anthropic messages, or the OpenAI Responses API.
Wire = Literal["openai", "anthropic", "responses"]
