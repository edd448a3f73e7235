"""Dispatch to the wire-format modules by the client's format."""

from __future__ import annotations

from typing import Any

from .._types import Wire
from . import _anthropic, _openai, _responses
from ._anthropic import AnthropicStream
from ._completion import Completion
from ._openai import OpenAIStream
from ._responses import ResponsesStream

__all__ = ["StreamAccumulator", "completion_from_body", "new_accumulator", "render_body", "render_stream"]

StreamAccumulator = OpenAIStream | AnthropicStream | ResponsesStream


def new_accumulator(wire: Wire) -> StreamAccumulator:
    if wire == "responses":
        return ResponsesStream()
    return OpenAIStream() if wire == "openai" else AnthropicStream()


def completion_from_body(wire: Wire, body: dict[str, Any]) -> Completion:
    if wire == "openai":
        return _openai.completion_from_json(body)
    if wire == "responses":
        return _responses.completion_from_json(body)
    return _anthropic.completion_from_json(body)


def render_body(wire: Wire, completion: Completion, *, model: str) -> bytes:
    if wire == "openai":
        return _openai.render_json(completion, model=model)
    if wire == "responses":
        return _responses.render_json(completion, model=model)
    return _anthropic.render_json(completion, model=model)


def render_stream(wire: Wire, completion: Completion, *, model: str, include_usage: bool) -> list[bytes]:
    """A complete SSE event sequence for ``completion`` in the client's format."""
    if wire == "openai":
        return _openai.render_sse(completion, model=model, include_usage=include_usage)
    if wire == "responses":
        return _responses.render_sse(completion, model=model)
    return _anthropic.render_sse(completion, model=model)
