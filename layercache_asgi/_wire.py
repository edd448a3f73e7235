"""Dispatch to the wire-format modules by the client's format."""

from __future__ import annotations

from ._completion import Completion
from ._types import Wire
from ._wire_anthropic import AnthropicStream
from ._wire_openai import OpenAIStream

__all__ = ["StreamAccumulator", "completion_from_body", "new_accumulator", "render_body", "render_stream"]

StreamAccumulator = OpenAIStream | AnthropicStream


def new_accumulator(wire: Wire) -> StreamAccumulator:
    return OpenAIStream() if wire == "openai" else AnthropicStream()


def completion_from_body(wire: Wire, body: dict[str, object]) -> Completion:
    from . import _wire_anthropic, _wire_openai

    module = _wire_openai if wire == "openai" else _wire_anthropic
    return module.completion_from_json(body)


def render_body(wire: Wire, completion: Completion, *, model: str) -> bytes:
    from . import _wire_anthropic, _wire_openai

    if wire == "openai":
        return _wire_openai.render_json(completion, model=model)
    return _wire_anthropic.render_json(completion, model=model)


def render_stream(wire: Wire, completion: Completion, *, model: str, include_usage: bool) -> list[bytes]:
    from . import _wire_anthropic, _wire_openai

    if wire == "openai":
        return _wire_openai.render_sse(completion, model=model, include_usage=include_usage)
    return _wire_anthropic.render_sse(completion, model=model)
