"""Built-in enhancements: chain_of_thought, structured_json, self_critique."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .._canonical import canonical_schema
from .._errors import ProxyError
from ._registry import Addition

if TYPE_CHECKING:
    from .._exchange import Exchange

__all__ = ["chain_of_thought", "self_critique", "structured_json"]

CHAIN_OF_THOUGHT = "Think through the problem step by step before giving your final answer."
SELF_CRITIQUE = (
    "Before answering, draft an answer, check it critically for errors, gaps and unsupported claims, "
    "then reply with the improved final answer only."
)


def _text_option(options: dict[str, Any], default: str) -> str:
    text = options.get("text", default)
    if not isinstance(text, str) or not text.strip():
        raise ProxyError(400, "enhancement option 'text' must be a non-empty string", param="lc_enhancements")
    return text


async def chain_of_thought(exchange: Exchange, options: dict[str, Any]) -> Addition:
    return Addition(text=_text_option(options, CHAIN_OF_THOUGHT))


async def self_critique(exchange: Exchange, options: dict[str, Any]) -> Addition:
    return Addition(text=_text_option(options, SELF_CRITIQUE))


async def structured_json(exchange: Exchange, options: dict[str, Any]) -> Addition:
    """Ask for JSON (matching ``options["schema"]`` when given); on the OpenAI wire also set
    ``response_format``, which LiteLLM translates for other providers."""
    schema = options.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise ProxyError(400, "structured_json option 'schema' must be a JSON schema object", param="lc_enhancements")
    name = options.get("name", "response")
    if not isinstance(name, str) or not name:
        raise ProxyError(400, "structured_json option 'name' must be a string", param="lc_enhancements")
    if schema is None:
        text = "Respond with a single valid JSON object and nothing else."
        response_format: dict[str, Any] = {"type": "json_object"}
    else:
        canonical = canonical_schema(schema)  # keeps the order of its fields
        minified = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
        text = f"Respond with a single valid JSON object that matches this JSON schema, and nothing else: {minified}"
        response_format = {"type": "json_schema", "json_schema": {"name": name, "schema": canonical}}
    params = {"response_format": response_format} if exchange.request.wire == "openai" else {}
    if exchange.request.wire == "responses":  # the Responses API flattens the format into ``text``
        inner = response_format.get("json_schema") or {}
        params = {"text": {"format": {"type": response_format["type"], **inner}}}
    return Addition(text=text, params=params)
