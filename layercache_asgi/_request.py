"""The typed request: the client's body parsed once, validated, ``lc_*`` extensions split off.

Stages read and edit :attr:`ChatRequest.body` in the client's own wire format; every
field and parameter the client sent stays there unless a stage means to change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from ._errors import ProxyError
from ._types import Wire
from .wire._json import JsonLimitError, loads
from .wire._responses import check_responses_body

__all__ = [
    "EXTENSION_HEADERS",
    "MAX_MODEL_NAME",
    "ChatRequest",
    "EnhancementList",
    "EnhancementSpec",
    "LcExtensions",
    "check_model_name",
    "parse_json_body",
    "parse_request",
    "split_extensions",
]

_OPENAI_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
# Claude Code (2.1.154+, beta ``mid-conversation-system-2026-04-07``) sends ``system`` messages
# inside ``messages``; the proxy is never stricter than the provider about what it passes on.
_ANTHROPIC_ROLES = frozenset({"user", "assistant", "system"})
_LAYER_NAMES = {"L0": 0, "L1": 1, "L2": 2, "L3": 3, "L4": 4}
# Model names are memoised (provider lookup, token counts) and become metric labels: bound them.
MAX_MODEL_NAME = 256


class EnhancementSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


def _names_or_specs(value: Any) -> Any:
    return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value


# A list of enhancements, each a bare name or ``{name, options}`` (requests and templates alike).
EnhancementList = Annotated[list[EnhancementSpec], BeforeValidator(_names_or_specs)]


class LcExtensions(BaseModel):
    """The ``lc_*`` request fields. They steer the proxy and are never sent upstream."""

    model_config = ConfigDict(extra="forbid")

    lc_template: str | None = None
    lc_enhancements: EnhancementList = Field(default_factory=list)
    # A year at most: a larger TTL overflows the expiry datetime in the write-behind batch.
    lc_cache_ttl: int | None = Field(default=None, ge=0, le=365 * 86400)
    lc_layer_hints: dict[int, int] = Field(default_factory=dict)
    lc_skip_semantic_cache: bool = False
    lc_bypass_cache: bool = False
    lc_warmup: bool = True

    @field_validator("lc_layer_hints", mode="before")
    @classmethod
    def _layer_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _LAYER_NAMES.get(v, v) if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("lc_layer_hints", mode="after")
    @classmethod
    def _layers_in_range(cls, value: dict[int, int]) -> dict[int, int]:
        for index, layer in value.items():
            if not 0 <= layer <= 4:
                raise ValueError(f"layer for message {index} must be 0-4 or L0-L4, got {layer}")
        return value


@dataclass
class ChatRequest:
    wire: Wire
    body: dict[str, Any]
    ext: LcExtensions
    # The body holds floats spelled unusually (``1e3``); see :mod:`._json`.
    exact_numbers: bool = False

    @property
    def model(self) -> str:
        return str(self.body["model"])

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def messages_key(self) -> str:
        """Where the conversation is in the body: the Responses API calls it ``input``."""
        return "input" if self.wire == "responses" else "messages"

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The conversation's entries (Responses ``input`` items; a string input is one user turn)."""
        messages = self.body.get(self.messages_key)
        return messages if isinstance(messages, list) else []


def _bad(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(400, message, param=param, code="invalid_request")


def _check_messages(wire: Wire, messages: Any) -> None:
    if not isinstance(messages, list):
        raise _bad("'messages' must be an array of message objects", "messages")
    if not messages:
        raise _bad("'messages' must contain at least one message", "messages")
    roles = _OPENAI_ROLES if wire == "openai" else _ANTHROPIC_ROLES
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _bad(f"messages[{i}] must be an object", f"messages[{i}]")
        role = message.get("role")
        if not isinstance(role, str) or role not in roles:
            raise _bad(f"messages[{i}].role must be one of {', '.join(sorted(roles))}", f"messages[{i}].role")
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise _bad(f"messages[{i}].content must be a string or an array of parts", f"messages[{i}].content")
        if wire == "anthropic" and content is None:
            raise _bad(f"messages[{i}].content is required", f"messages[{i}].content")
        calls = message.get("tool_calls")
        if calls is not None and not (isinstance(calls, list) and all(isinstance(c, dict) for c in calls)):
            raise _bad(f"messages[{i}].tool_calls must be an array of objects", f"messages[{i}].tool_calls")


def check_model_name(model: Any) -> str:
    """The model name of a body, or a 400: a non-empty string of at most :data:`MAX_MODEL_NAME` characters."""
    if not isinstance(model, str) or not model.strip():
        raise _bad("'model' is required and must be a non-empty string", "model")
    if len(model) > MAX_MODEL_NAME:
        raise _bad(f"'model' is longer than {MAX_MODEL_NAME} characters", "model")
    return model


def parse_json_body(raw: bytes) -> tuple[Any, bool]:
    """:func:`._json.loads` with its errors as 400s (bad JSON, too deep, not Unicode, a number too large)."""
    try:
        return loads(raw)
    except JsonLimitError as exc:
        raise _bad(f"request body refused: {exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(f"request body is not valid JSON: {exc}") from None


# The ``lc_*`` fields as request headers, for clients that can add headers but not body fields
# (Claude Code's ANTHROPIC_CUSTOM_HEADERS, Codex's http_headers, SDKs' default_headers).
EXTENSION_HEADERS = {
    "x-layercache-template": "lc_template",
    "x-layercache-enhancements": "lc_enhancements",
    "x-layercache-cache-ttl": "lc_cache_ttl",
    "x-layercache-layer-hints": "lc_layer_hints",
    "x-layercache-skip-semantic-cache": "lc_skip_semantic_cache",
    "x-layercache-bypass-cache": "lc_bypass_cache",
    "x-layercache-warmup": "lc_warmup",
}
_JSON_HEADERS = frozenset({"lc_layer_hints"})
_BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _header_value(header: str, field: str, text: str) -> Any:
    text = text.strip()
    if field in _JSON_HEADERS or (field == "lc_enhancements" and text.startswith("[")):
        try:
            return loads(text.encode())[0]
        except ValueError:
            raise _bad(f"header {header} must be JSON", header) from None
    if field == "lc_enhancements":
        return [name.strip() for name in text.split(",") if name.strip()]
    if field == "lc_template":
        return text
    if field == "lc_cache_ttl":
        return int(text) if text.isdigit() else text  # pydantic names a bad value below
    word = _BOOLEAN_WORDS.get(text.lower())
    if word is None:
        raise _bad(f"header {header} must be true or false", header)
    return word


def _header_extensions(headers: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    return {
        field: (header, _header_value(header, field, headers[header]))
        for header, field in EXTENSION_HEADERS.items()
        if header in headers
    }


def parse_request(wire: Wire, raw: bytes, headers: Mapping[str, str] | None = None) -> ChatRequest:
    """Parse and validate a chat request body; raise :class:`ProxyError` (4xx) when it is bad.

    ``headers`` (lower-case names) may carry the ``lc_*`` fields as ``x-layercache-*``
    headers; a field set in the body wins."""
    body, exact_numbers = parse_json_body(raw)
    if not isinstance(body, dict):
        raise _bad("request body must be a JSON object")
    check_model_name(body.get("model"))
    if wire == "responses":
        check_responses_body(body)
    elif "messages" not in body:
        raise _bad("'messages' is required", "messages")
    else:
        _check_messages(wire, body["messages"])
    if "stream" in body and not isinstance(body["stream"], bool) and body["stream"] is not None:
        raise _bad("'stream' must be a boolean", "stream")
    if body.get("stream_options") is not None and not isinstance(body["stream_options"], dict):
        raise _bad("'stream_options' must be an object", "stream_options")
    if "tools" in body and body["tools"] is not None and not isinstance(body["tools"], list):
        raise _bad("'tools' must be an array", "tools")
    if wire == "anthropic":
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise _bad("'max_tokens' is required and must be a positive integer", "max_tokens")
        system = body.get("system")
        if system is not None and not isinstance(system, str | list):
            raise _bad("'system' must be a string or an array of text blocks", "system")

    return ChatRequest(wire=wire, body=body, ext=split_extensions(body, headers), exact_numbers=exact_numbers)


def split_extensions(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> LcExtensions:
    """Take the ``lc_*`` fields out of ``body`` (they never go upstream) and validate them (400);
    ``x-layercache-*`` ``headers`` fill in the fields the body does not set."""
    ext_fields = {k: body.pop(k) for k in [k for k in body if k.startswith("lc_")]}
    from_headers = {f: hv for f, hv in _header_extensions(headers or {}).items() if f not in ext_fields}
    try:
        return LcExtensions.model_validate({**{f: v for f, (_, v) in from_headers.items()}, **ext_fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        where = ".".join(str(p) for p in first["loc"])
        if field in from_headers:
            where = from_headers[field][0]
        raise _bad(f"invalid {where}: {first['msg']}", where) from None
