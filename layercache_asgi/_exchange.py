"""Per-request state that travels through the stage stack in ``scope["layercache"]``."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._request import ChatRequest
from ._types import MarkPlan, Outcome, PrefixCheck, Saved, Scope
from .wire._json import dumps

if TYPE_CHECKING:
    from ._config import Settings
    from ._runtime import Runtime
    from .explain import Diagnosis, Where
    from .prompt._layers import Layers
    from .semantic._judge import LookupTrace
    from .upstream._providers import Deployment

__all__ = ["SCOPE_KEY", "Exchange", "MarkPlan", "Outcome", "PrefixCheck", "Saved", "get_exchange"]

SCOPE_KEY = "layercache"


@dataclass
class Exchange:
    """One proxied request. Stages read the settings snapshot taken when it arrived."""

    request: ChatRequest
    settings: Settings
    runtime: Runtime
    route: str
    tenant: str
    request_id: str
    # The key the provider call uses; never logged, never stored.
    credential: str | None = field(default=None, repr=False)
    client_headers: dict[str, str] = field(default_factory=dict, repr=False)
    started: float = field(default_factory=time.perf_counter)
    # What stages hand each other. Read ``layers`` and ``prefix`` through ``layers_of`` and
    # ``prefix_check_of`` (``_prompt_facts``): they compute on first use when the stage that
    # usually sets them was dropped from the stack.
    layers: Layers | None = None  # set by Stratify
    layer_hints: dict[int, int] = field(default_factory=dict)  # message index -> layer (ApplyTemplate)
    system_layer_hints: dict[int, int] = field(default_factory=dict)  # system block -> layer (ApplyTemplate)
    template: str | None = None  # "name@version" of the template applied (ApplyTemplate)
    enhancements: list[str] = field(default_factory=list)  # names of the enhancements added at L3 (Enhance)
    marker_plan: MarkPlan | None = None  # which layers proxy markers may end (InjectCacheMarkers)
    prefix: PrefixCheck | None = None  # None until checked (PrefixThreshold)
    prefix_change: str | None = None  # stable | new | L0 | L1 | L2 (ExplainMisses)
    prefix_change_detail: str | None = None  # e.g. "changed:L1 tools[3]" (ExplainMisses)
    prefix_where: Where | None = None  # the first differing block, offset, volatile value (ExplainMisses)
    diagnosis: Diagnosis | None = None  # the provider's cache diagnosis, asked and read (ExplainMisses)
    session_over_budget: bool = False  # TruncateSession could not fit the budget
    saved: Saved | None = None  # a semantic cache answer (SemanticCache)
    semantic_skip: str | None = None  # why the semantic cache stayed out: one of SKIP_REASONS (SemanticCache)
    semantic_trace: LookupTrace | None = None  # nearest similarity and judged candidates (SemanticCache)
    gemini_cache_write_tokens: int = 0  # a CachedContent made for this call (InjectCacheMarkers)
    # For the deployment the body is shaped for, what no field of the client's format can carry;
    # the LiteLLM path passes them on (InjectCacheMarkers).
    gemini_cached_content: str | None = None  # the Gemini CachedContent holding L0-L1
    prompt_cache_key: str | None = None  # OpenAI's prompt_cache_key, for an Anthropic-format request
    prompt_cache_retention: str | None = None  # OpenAI's prompt_cache_retention chosen for this deployment
    # Free-form state for users' own stages (and per-request bookkeeping of one stage).
    notes: dict[str, Any] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    outcome: Outcome = field(default_factory=Outcome)
    # Set by a stage that shaped the body for the first deployment (cache markers): the
    # route awaits it before failing over to another, so the body fits that one instead.
    retarget: Callable[[Deployment], Awaitable[None]] | None = field(default=None, repr=False)
    # The client left before its answer was complete (its work is cancelled; counted as 499).
    client_closed: bool = False

    def current_body(self) -> bytes:
        """The request body as the stages have left it so far (what a stage calling ``receive()`` gets)."""
        return dumps(self.request.body, exact=self.request.exact_numbers)

    def mark_client_closed(self) -> None:
        self.client_closed = True

    def header_list(self) -> list[tuple[bytes, bytes]]:
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.response_headers.items()]


def get_exchange(scope: Scope) -> Exchange | None:
    """The exchange of a proxied request, or None for anything else passing a stage."""
    exchange = scope.get(SCOPE_KEY)
    return exchange if isinstance(exchange, Exchange) else None
