"""Translated answers shaped like the provider's own: the official schema's keys, nothing else.

LiteLLM's translations carry its own fields (``provider_specific_fields``, ``usage.cost``,
``iterations``, null ``reasoning_content`` ...) and, for Anthropic's format from another
provider, a ``chatcmpl-`` id. Clients that validate strictly, or compare answers across
providers, see them as foreign. Each wire's documents are cut down to the keys the official
SDK types define (openai 3.x, anthropic 2.x), usage and its cache counts included; block,
item and event types this table does not know pass through untouched.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["native_event", "native_json"]


class _ByType(dict[str, "_Shape"]):
    """Shapes chosen by the value's ``type``; an unknown type is kept as it is."""


_Keep = None  # keep the value as it is
_SET = "set"  # keep only when not null (an extension the SDKs don't define, or a rare field)
_Shape = dict[str, Any] | _ByType


def _keys(*names: str) -> dict[str, Any]:
    return dict.fromkeys(names, _Keep)


# -- OpenAI chat completions -------------------------------------------------------------
_FUNCTION = _keys("name", "arguments")
_TOOL_CALL = {**_keys("id", "type", "custom"), "function": _FUNCTION}
_DELTA_TOOL_CALL = {**_TOOL_CALL, "index": _Keep}
_OPENAI_USAGE = {
    **_keys("completion_tokens", "prompt_tokens", "total_tokens"),
    "completion_tokens_details": _keys(
        "accepted_prediction_tokens", "audio_tokens", "reasoning_tokens", "rejected_prediction_tokens", "text_tokens"
    ),
    "prompt_tokens_details": _keys(
        "audio_tokens", "cache_write_tokens", "cached_tokens", "image_tokens", "text_tokens"
    ),
}
# ``reasoning_content`` is no OpenAI field, but the de-facto place of a model's thinking: kept when set.
_OPENAI_MESSAGE = {
    **_keys("annotations", "audio", "content", "function_call", "refusal", "role"),
    "tool_calls": _TOOL_CALL,
    "reasoning_content": _SET,
}
_OPENAI_DELTA = {**_OPENAI_MESSAGE, "tool_calls": _DELTA_TOOL_CALL}
_OPENAI_TOP = _keys("id", "created", "model", "object", "service_tier", "system_fingerprint", "metadata", "moderation")
_CHAT_COMPLETION = {
    **_OPENAI_TOP,
    "choices": {**_keys("finish_reason", "index", "logprobs"), "message": _OPENAI_MESSAGE},
    "usage": _OPENAI_USAGE,
}
_CHAT_CHUNK = {
    **_OPENAI_TOP,
    "obfuscation": _Keep,
    "choices": {**_keys("finish_reason", "index", "logprobs"), "delta": _OPENAI_DELTA},
    "usage": _OPENAI_USAGE,
}

# -- Anthropic messages ------------------------------------------------------------------
_ANTHROPIC_USAGE = _keys(
    "cache_creation",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "inference_geo",
    "input_tokens",
    "output_tokens",
    "output_tokens_details",
    "server_tool_use",
    "service_tier",
    "speed",
)
_BLOCKS = _ByType(
    text=_keys("citations", "text", "type"),
    tool_use=_keys("caller", "id", "input", "name", "toolset_name", "type"),
    thinking=_keys("signature", "thinking", "type"),
    redacted_thinking=_keys("data", "type"),
)
_MESSAGE = {
    **_keys("container", "diagnostics", "id", "model", "role", "stop_reason", "stop_sequence", "type"),
    "stop_details": _SET,  # the API sends it with a refusal; LiteLLM sends null always
    "content": _BLOCKS,
    "usage": _ANTHROPIC_USAGE,
}
_ANTHROPIC_EVENTS = _ByType(
    message_start={"type": _Keep, "message": _MESSAGE},
    content_block_start={**_keys("type", "index"), "content_block": _BLOCKS},
    content_block_delta={
        **_keys("type", "index"),
        "delta": _ByType(
            text_delta=_keys("text", "type"),
            input_json_delta=_keys("partial_json", "type"),
            thinking_delta=_keys("thinking", "type"),
            signature_delta=_keys("signature", "type"),
            citations_delta=_keys("citation", "type"),
        ),
    },
    content_block_stop=_keys("type", "index"),
    message_delta={
        "type": _Keep,
        "delta": {**_keys("container", "stop_reason", "stop_sequence"), "stop_details": _SET},
        "usage": _keys(
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "input_tokens",
            "output_tokens",
            "output_tokens_details",
            "server_tool_use",
        ),
    },
    message_stop=_keys("type"),
    ping=_keys("type"),
)

# -- OpenAI Responses API ----------------------------------------------------------------
_OUTPUT_CONTENT = _ByType(
    output_text=_keys("annotations", "logprobs", "text", "type"), refusal=_keys("refusal", "type")
)
_OUTPUT_ITEMS = _ByType(
    message={**_keys("id", "phase", "role", "status", "type"), "content": _OUTPUT_CONTENT},
    function_call=_keys("arguments", "async", "call_id", "caller", "id", "name", "namespace", "status", "type"),
    reasoning=_keys("content", "encrypted_content", "id", "status", "summary", "type"),
)
_RESPONSE_KEYS = """
    access_programs background completed_at conversation created_at error id image incomplete_details
    input_transformations instructions max_output_tokens max_tool_calls metadata model moderation object
    parallel_tool_calls previous_response_id prompt prompt_cache_diagnostics prompt_cache_key prompt_cache_options
    prompt_cache_retention reasoning safety_identifier service_tier status temperature text tool_choice tool_usage
    tools top_logprobs top_p truncation user store
"""  # ``store``: the API sends it, though the SDK's type leaves it out
_RESPONSE = {
    **_keys(*_RESPONSE_KEYS.split()),
    "output": _OUTPUT_ITEMS,
    "usage": {
        **_keys("input_tokens", "output_tokens", "total_tokens"),
        "input_tokens_details": _keys("cache_write_tokens", "cache_write_tokens_details", "cached_tokens"),
        "output_tokens_details": _keys("reasoning_tokens"),
    },
}
_EVENT = _keys("type", "sequence_number")
_IN_PART = {**_EVENT, **_keys("item_id", "output_index", "content_index")}
_ON_RESPONSE = {**_EVENT, "response": _RESPONSE}
_ON_ITEM = {**_EVENT, "output_index": _Keep, "item": _OUTPUT_ITEMS}
_ON_ARGUMENTS = {**_EVENT, **_keys("item_id", "output_index", "delta", "arguments")}
_RESPONSES_EVENTS = _ByType(
    {f"response.{kind}": _ON_RESPONSE for kind in ("created", "in_progress", "completed", "failed", "incomplete")},
    **{
        "response.output_item.added": _ON_ITEM,
        "response.output_item.done": _ON_ITEM,
        "response.content_part.added": {**_IN_PART, "part": _OUTPUT_CONTENT},
        "response.content_part.done": {**_IN_PART, "part": _OUTPUT_CONTENT},
        "response.output_text.delta": {**_IN_PART, **_keys("delta", "logprobs", "obfuscation")},
        "response.output_text.done": {**_IN_PART, **_keys("text", "logprobs")},
        "response.function_call_arguments.delta": _ON_ARGUMENTS,
        "response.function_call_arguments.done": _ON_ARGUMENTS,
    },
)


def _shape(value: Any, shape: Any) -> Any:
    if shape is None or shape == _SET:
        return value
    if isinstance(value, list):
        return [_shape(item, shape) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(shape, _ByType):
        kind = value.get("type")
        chosen = shape.get(str(getattr(kind, "value", kind)))  # LiteLLM's event types are str enums
        return value if chosen is None else _shape(value, chosen)
    return {
        key: _shape(item, shape[key])
        for key, item in value.items()
        if key in shape and not (shape[key] == _SET and item is None)
    }


def _message_id(doc: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's ids start ``msg_``; LiteLLM passes on the other provider's (``chatcmpl-...``)."""
    found = doc.get("id")
    if not (isinstance(found, str) and found.startswith("msg_")):
        tail = found.split("-", 1)[-1] if isinstance(found, str) else ""
        doc["id"] = f"msg_{''.join(c for c in tail if c.isalnum()) or uuid.uuid4().hex}"
    return doc


def native_json(wire: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A whole answer in ``wire``'s format with only its official keys."""
    if wire == "anthropic":
        return _message_id(_shape(doc, _MESSAGE))
    shaped: dict[str, Any] = _shape(doc, _RESPONSE if wire == "responses" else _CHAT_COMPLETION)
    return shaped


def native_event(wire: str, doc: dict[str, Any]) -> dict[str, Any]:
    """One streamed event (an OpenAI chunk, an Anthropic or Responses event) with only its official keys."""
    if wire == "anthropic":
        shaped: dict[str, Any] = _shape(doc, _ANTHROPIC_EVENTS)
        if isinstance(shaped.get("message"), dict):
            _message_id(shaped["message"])
        return shaped
    shaped = _shape(doc, _RESPONSES_EVENTS if wire == "responses" else _CHAT_CHUNK)
    return shaped
