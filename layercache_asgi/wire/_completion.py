"""A provider-neutral record of one answer: text, tool calls, stop reason, usage.

Both wire formats parse into it (JSON bodies and SSE streams) and render from it, so
a cached answer can be replayed to either client, as JSON or as a stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Completion", "ToolCall", "Usage"]


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


@dataclass
class Usage:
    """Prompt tokens split the way providers bill them."""

    uncached_input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0

    @property
    def input_total(self) -> int:
        return self.uncached_input + self.cache_read + self.cache_write

    def to_dict(self) -> dict[str, int]:
        return {
            "uncached_input": self.uncached_input,
            "cache_read": self.cache_read,
            "cache_write": self.cache_write,
            "output": self.output,
        }

    @classmethod
    def from_inclusive(cls, usage: dict[str, Any], *, details: str, prompt: str, completion: str) -> Usage:
        """Usage of OpenAI's two formats, whose prompt total includes the cached tokens. Writes are read
        where the SDK's types put them (``*_details.cache_write_tokens``) or where LiteLLM adds
        Anthropic-style counts."""
        detail = usage.get(details)
        detail = detail if isinstance(detail, dict) else {}
        read = _int(detail.get("cached_tokens")) or _int(usage.get("cache_read_input_tokens"))
        write = (
            _int(detail.get("cache_write_tokens"))
            or _int(detail.get("cache_creation_tokens"))
            or _int(usage.get("cache_creation_input_tokens"))
        )
        return cls(
            uncached_input=max(_int(usage.get(prompt)) - read - write, 0),
            cache_read=read,
            cache_write=write,
            output=_int(usage.get(completion)),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        return cls(**{k: int(data.get(k) or 0) for k in ("uncached_input", "cache_read", "cache_write", "output")})


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI carries it


@dataclass
class Completion:
    """One assistant answer. ``finish_reason`` uses OpenAI's words (stop, length, tool_calls)."""

    model: str = ""
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "text": self.text,
            "tool_calls": [{"id": t.id, "name": t.name, "arguments": t.arguments} for t in self.tool_calls],
            "finish_reason": self.finish_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        return cls(
            model=str(data.get("model", "")),
            text=str(data.get("text", "")),
            tool_calls=[
                ToolCall(str(t["id"]), str(t["name"]), str(t["arguments"])) for t in data.get("tool_calls", [])
            ],
            finish_reason=str(data.get("finish_reason", "stop")),
        )
