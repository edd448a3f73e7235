"""Which top-level request fields each wire format has, and which LiteLLM would read as its own settings.

LiteLLM takes a provider's request fields and its own call settings (``api_base``,
``api_key``, ``mock_response``, ``custom_llm_provider``, ``extra_headers``, prices,
callbacks...) as keyword arguments of one call, so a request body handed to it whole
could send the operator's key to any URL or answer with text of the caller's choosing.
Hence two rules:

- :func:`refuse_litellm_settings` (every path, at parse time): a top-level field that
  LiteLLM reads as a call setting and that is not a field of the client's wire format
  is a 400 naming it. The set is derived from the installed LiteLLM, so a new setting
  in a new release is refused without a change here.
- :func:`translated_fields` (the LiteLLM path): only the wire format's own fields are
  passed; anything else is a 400 naming it, because LiteLLM forwards unknown keyword
  arguments to the provider or reads them itself.

On the fast path other unknown fields still pass: they go only to the configured base
URL, which judges them itself. A third wire format (the Responses API) adds its field
list to :data:`WIRE_FIELDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import inspect
import re
import sys
from collections.abc import Mapping
from typing import Any

from .._errors import ProxyError
from .._request import ChatRequest
from ._responses import RESPONSES_FIELDS

__all__ = [
    "ANTHROPIC_MESSAGES_FIELDS",
    "OPENAI_CHAT_FIELDS",
    "OPENAI_RESPONSES_FIELDS",
    "WIRE_FIELDS",
    "litellm_settings",
    "refuse_litellm_settings",
    "translated_fields",
]

# POST /v1/chat/completions, from OpenAI's API reference (and the official SDK's
# CompletionCreateParams): every top-level request field, deprecated ones included.
OPENAI_CHAT_FIELDS = frozenset(
    {
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "messages",
        "metadata",
        "modalities",
        "model",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)

# POST /v1/messages, from Anthropic's API reference (and the official SDK's
# MessageCreateParams, beta fields included; ``betas`` and the workspace/profile ids
# are headers there, not body fields).
ANTHROPIC_MESSAGES_FIELDS = frozenset(
    {
        "billing_policy",
        "cache_control",
        "compaction",
        "container",
        "context_management",
        "diagnostics",
        "fallback_credit_token",
        "fallbacks",
        "inference_geo",
        "max_tokens",
        "mcp_servers",
        "messages",
        "metadata",
        "model",
        "output_config",
        "output_format",
        "service_tier",
        "speed",
        "stop_sequences",
        "stream",
        "system",
        "temperature",
        "thinking",
        "thread",
        "tool_choice",
        "tools",
        "top_k",
        "top_p",
    }
)

# POST /v1/responses, from OpenAI's API reference (and the official SDK's ResponseCreateParams),
# plus ``client_metadata``, which Codex sends. Only RESPONSES_FIELDS of them (what another
# provider can use) cross LiteLLM's Responses bridge; the rest is OpenAI's own state and options.
OPENAI_RESPONSES_FIELDS = frozenset(
    {
        "background",
        "client_metadata",
        "context_management",
        "conversation",
        "include",
        "input",
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "model",
        "parallel_tool_calls",
        "previous_response_id",
        "prompt",
        "prompt_cache_key",
        "prompt_cache_retention",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
    }
)

WIRE_FIELDS: Mapping[str, frozenset[str]] = {
    "openai": OPENAI_CHAT_FIELDS,
    "anthropic": ANTHROPIC_MESSAGES_FIELDS,
    "responses": OPENAI_RESPONSES_FIELDS,
}

_WIRE_NAMES = {"openai": "OpenAI chat completions", "anthropic": "Anthropic messages", "responses": "OpenAI Responses"}
# Names LiteLLM's completion() reads from its **kwargs (``kwargs.get("mock_delay")``...).
_KWARG_READ = re.compile(r"""\bkwargs(?:\.(?:get|pop|setdefault)\(|\[)\s*["']([\w-]+)["']""")


@functools.cache
def _litellm_kwargs() -> tuple[frozenset[str], frozenset[str], frozenset[str], str]:
    """``(completion params, messages params, LiteLLM-owned kwargs, internal prefix)`` of the installed LiteLLM."""
    # Through ._litellm first: its module lock keeps a concurrent import (the tokenizer's) whole.
    from ..upstream._litellm import litellm  # lazy: importing LiteLLM costs seconds

    litellm_types = importlib.import_module("litellm.types.utils")

    def params(fn: Any) -> frozenset[str]:
        found = inspect.signature(fn).parameters.values()
        return frozenset(p.name for p in found if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))

    owned = set(getattr(litellm_types, "all_litellm_params", ()))
    for fn in (litellm.completion, litellm.acompletion):
        with contextlib.suppress(OSError, TypeError):  # no source shipped: the declared lists still apply
            owned |= set(_KWARG_READ.findall(inspect.getsource(fn)))
    prefix = str(getattr(litellm_types, "INTERNAL_KWARG_PREFIX", "_litellm_"))
    completion = params(litellm.completion) | params(litellm.acompletion)
    return completion, params(litellm.anthropic.messages.acreate), frozenset(owned), prefix


def _litellm_loaded() -> bool:
    module = sys.modules.get("layercache_asgi.upstream._litellm")
    return module is not None and hasattr(module, "__all__")  # bound on its last line: the import finished


@functools.cache
def litellm_settings(wire: str) -> frozenset[str]:
    """Top-level names LiteLLM takes as call settings, minus the fields of ``wire`` itself."""
    completion, _messages, owned, _prefix = _litellm_kwargs()
    return (completion | owned) - WIRE_FIELDS[wire]


def _is_setting(name: str, wire: str) -> bool:
    prefix = _litellm_kwargs()[3]
    return name in litellm_settings(wire) or (name.startswith(prefix) and name not in WIRE_FIELDS[wire])


def _refused(name: str, why: str) -> ProxyError:
    return ProxyError(400, f"'{name}' {why}", param=name, code="invalid_request")


async def refuse_litellm_settings(request: ChatRequest) -> None:
    """400 naming the first top-level field LiteLLM would read as a call setting (where to call, with
    which key, what to answer); the proxy's configuration alone decides those."""
    if _litellm_kwargs.cache_info().currsize == 0:
        if not _litellm_loaded():
            # Start-up is still importing LiteLLM (seconds): no request waits for it here. The body goes
            # where the configuration says; should it reach LiteLLM, translated_fields checks it there.
            return
        await asyncio.to_thread(_litellm_kwargs)
    for name in request.body:
        if _is_setting(name, request.wire):
            raise _refused(
                name,
                f"is not a field of the {_WIRE_NAMES[request.wire]} API; "
                "where and how the provider is called is set by the proxy's configuration",
            )


def translated_fields(request: ChatRequest) -> dict[str, Any]:
    """The body fields handed to LiteLLM: the wire format's own, minus those LiteLLM would read as its
    own settings (OpenAI's ``metadata``, Anthropic's ``fallbacks``: the provider behind the translation
    has no such field). Any other field is a 400 naming it. ``model`` is left out: the deployment sets it."""
    wire = request.wire
    allowed = WIRE_FIELDS[wire]
    completion, messages, owned, prefix = _litellm_kwargs()
    # Fields the called function declares are provider fields there; others LiteLLM owns are settings.
    declared = completion if wire == "openai" else messages
    for name in request.body:
        if name not in allowed:
            raise _refused(
                name,
                f"is not a field of the {_WIRE_NAMES[wire]} API, and this model is reached through "
                "translation, which passes only those fields",
            )
    if wire == "responses":
        # ``metadata`` is left out as on the chat wire: LiteLLM reads it as its own.
        return {k: v for k, v in request.body.items() if k in RESPONSES_FIELDS and k != "metadata"}
    return {
        k: v
        for k, v in request.body.items()
        if k != "model" and (k in declared or (k not in owned and not k.startswith(prefix)))
    }
