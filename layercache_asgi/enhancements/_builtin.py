"""Built-in enhancements: chain_of_thought, structured_json, self_critique."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .._errors import ProxyError
from ..prompt._canonical import canonical_schema
from ._registry import Addition

if TYPE_CHECKING:
    from .._exchange import Exchange

__all__ = ["chain_of_thought", "self_critique", "structured_json"]

CHAIN_OF_THOUGHT = "Think through the problem step by step before giving your final answer."
SELF_CRITIQUE = (
    "Before answering, draft an answer, check it critically for errors, gaps and unsupported claims, "
    "then reply with the improved final answer only."
)


def _bad(message: str) -> ProxyError:
    return ProxyError(400, message, param="lc_enhancements")


def _text_option(options: dict[str, Any], default: str) -> str:
    text = options.get("text", default)
    if not isinstance(text, str) or not text.strip():
        raise _bad("enhancement option 'text' must be a non-empty string")
    return text


async def chain_of_thought(exchange: Exchange, options: dict[str, Any]) -> Addition:
    return Addition(text=_text_option(options, CHAIN_OF_THOUGHT))


async def self_critique(exchange: Exchange, options: dict[str, Any]) -> Addition:
    return Addition(text=_text_option(options, SELF_CRITIQUE))


def _json_format(fmt: Any, schema_of: Any, where: str) -> tuple[bool, dict[str, Any] | None]:
    """OpenAI's format object (chat ``response_format`` or Responses ``text.format``): whether it asks
    for JSON, and its schema. ``text`` is the default (nothing chosen); anything else is a 400."""
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_object":
        return True, None
    if kind == "json_schema":
        schema = schema_of(fmt)
        return True, schema if isinstance(schema, dict) else None
    if kind == "text" and where == "text.format":
        return False, None
    raise _bad(f"structured_json asks for JSON, but the request's {where} is {kind!r}")


def _clients_format(body: dict[str, Any], wire: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether the client asked for an output format itself, and the JSON schema it gave (if any).
    Raise a 400 when what it asked for is not JSON."""
    if wire == "openai":
        fmt = body.get("response_format")
        if fmt is None:
            return False, None
        return _json_format(fmt, lambda f: (f.get("json_schema") or {}).get("schema"), "response_format")
    if wire == "responses":
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        if fmt is None:
            return False, None
        return _json_format(fmt, lambda f: f.get("schema"), "text.format")
    # Anthropic: structured outputs (output_config.format, or the beta's output_format).
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    fmt = fmt if fmt is not None else body.get("output_format")
    if isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict):
        return True, fmt["schema"]
    return False, None


async def structured_json(exchange: Exchange, options: dict[str, Any]) -> Addition:
    """Ask for JSON (matching ``options["schema"]``, or the client's own response format's schema).

    On the OpenAI wire it also sets ``response_format`` (which LiteLLM translates for other
    providers), but never over a format the client chose, nor when the client offers tools
    (a forced JSON answer could not call them)."""
    schema = options.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise _bad("structured_json option 'schema' must be a JSON schema object")
    name = options.get("name", "response")
    if not isinstance(name, str) or not name:
        raise _bad("structured_json option 'name' must be a string")
    request = exchange.request
    has_format, clients_schema = _clients_format(request.body, request.wire)
    if clients_schema is not None:
        if schema is not None and schema != clients_schema:  # dict equality: the same fields and rules
            raise _bad("structured_json option 'schema' differs from the schema of the request's own output format")
        schema = clients_schema
    tools = bool(request.body.get("tools"))
    lead = "When you answer rather than call a tool, respond" if tools else "Respond"
    if schema is None:
        text = f"{lead} with a single valid JSON object and nothing else."
        response_format: dict[str, Any] = {"type": "json_object"}
    else:
        canonical = canonical_schema(schema)  # keeps the order of its fields
        minified = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
        text = f"{lead} with a single valid JSON object that matches this JSON schema, and nothing else: {minified}"
        response_format = {"type": "json_schema", "json_schema": {"name": name, "schema": canonical}}
    params: dict[str, Any] = {}
    if not has_format and not tools and request.wire == "openai":
        params = {"response_format": response_format}
    elif not has_format and not tools and request.wire == "responses":
        # The Responses API flattens the format into ``text.format``.
        inner = response_format.get("json_schema") or {}
        params = {"text": {**(request.body.get("text") or {}), "format": {"type": response_format["type"], **inner}}}
    return Addition(text=text, params=params)
