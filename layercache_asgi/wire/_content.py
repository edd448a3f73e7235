"""Message content as the formats write it: a plain string, or a list of typed parts.

Text parts are ``{"type": "text"}`` in Chat and Anthropic, ``{"type": "input_text"}`` in the
Responses API; every reader of "the text of a message" goes through here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEXT_PART_TYPES", "content_text", "is_text_part"]

TEXT_PART_TYPES = frozenset({"text", "input_text"})


def is_text_part(part: Any) -> bool:
    """A part carrying text (images, documents, tool calls and results are not)."""
    return isinstance(part, dict) and part.get("type") in TEXT_PART_TYPES and isinstance(part.get("text"), str)


def content_text(content: Any, separator: str = "") -> str:
    """The text of a message's content: the string itself, or its text parts joined (empty ones left out)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return separator.join(part["text"] for part in content if is_text_part(part) and part["text"])
    return ""
