"""The per-app metrics: a Prometheus registry of its own plus plain per-model totals.

Each LayerCacheApp owns one :class:`MetricsRecorder`, so two apps in one process never
share (or collide on) a collector. The totals feed the JSON API and the snapshots; the
Prometheus collectors feed ``/metrics``. Labels never carry tenants, request ids, keys
or prompt text, and model labels are capped so a client cannot blow up cardinality.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .._types import Outcome, PrefixCheck, Saved
from ..wire._completion import Usage
from ._labels import Children, ModelLabels, clean_label
from ._prefix import PREFIX_CAUSES, PrefixChanges, PrefixMeasured
from ._prices import PriceBook, call_cost, is_listed, prefix_savings
from ._semantic import SemanticMeasured, SemanticMetrics

if TYPE_CHECKING:
    from .._config import Settings
    from .._request import ChatRequest

__all__ = ["FIELDS", "PREFIX_CAUSES", "Measured", "MetricsRecorder", "Sample", "SnapshotHistory"]

# Per-model totals, all numbers, so snapshots can subtract them.
FIELDS = (
    "requests",
    "errors",
    "upstream_errors",
    "failovers",
    "hits",
    "misses",
    "bypasses",
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "tokens_saved_prefix",
    "tokens_saved_semantic",
    "cost_usd",
    "saved_prefix_usd",
    "saved_semantic_usd",
    "prefix_below_minimum",
    "prefix_stable",
    "prefix_new",
    "prefix_L0",
    "prefix_L1",
    "prefix_L2",
    "upstream_seconds",
    "upstream_calls",
)
_RESULT_FIELD = {"hit": "hits", "miss": "misses", "bypass": "bypasses"}
_MAX_DETAILS = 500
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Measured(PrefixMeasured, SemanticMeasured, Protocol):
    """What the recorder reads of one request: an Exchange is one (the recorder does not need the rest)."""

    @property
    def request(self) -> ChatRequest: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def route(self) -> str: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def session_over_budget(self) -> bool: ...
    @property
    def prefix(self) -> PrefixCheck | None: ...
    @property
    def gemini_cache_write_tokens(self) -> int: ...
    @property
    def saved(self) -> Saved | None: ...


class SnapshotHistory(Protocol):
    """The snapshot loop as the routes and the dashboard read it (``_snapshots.SnapshotLoop``)."""

    async def history(self, window: float, bucket: float, model: str | None = None) -> dict[str, Any]: ...
    async def status(self) -> dict[str, Any]: ...


@dataclass
class Sample:
    """What the RecordMetrics stage measured for one request (timers already stopped)."""

    exchange: Measured
    status: int
    overhead_seconds: float | None  # None when no response body was sent
    semantic_on: bool


class MetricsRecorder:
    """Counts requests into a per-app Prometheus registry and per-model totals."""

    def __init__(self, prices: PriceBook, replica: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.prices = prices
        self.replica = replica
        self.started_at = datetime.now(UTC)
        self.started_monotonic = time.monotonic()
        self.totals: dict[str, dict[str, float]] = {}
        self.prefix_details: Tally[tuple[str, str]] = Tally()
        self._model_label = ModelLabels(is_listed)
        self.child = Children()  # ``self.child(metric, *labels)``: a collector's child, looked up once
        self._usage: dict[tuple[str, str], tuple[Any, ...]] = {}
        self.model_providers: dict[str, set[str]] = {}  # for the dashboard's per-provider table
        self.snapshots: SnapshotHistory | None = None  # set once the database starter has run
        r = self.registry
        model_provider = ["model", "provider"]
        self.requests = Counter(
            "layercache_requests", "Proxied requests.", ["route", "model", "provider", "status", "cache"], registry=r
        )
        self.upstream_latency = Histogram(
            "layercache_upstream_latency_seconds",
            "Time until the provider's answer started.",
            model_provider,
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "layercache_proxy_overhead_seconds",
            "Time to first byte minus upstream latency.",
            ["route"],
            buckets=_OVERHEAD_BUCKETS,
            registry=r,
        )
        self.semantic = Counter(
            "layercache_semantic_cache", "Semantic cache lookups by result.", ["model", "result"], registry=r
        )
        self.semantic_lookups = SemanticMetrics(r)  # skips, nearest similarity, guard refusals, verifier
        self.cache_read = Counter(
            "layercache_cache_read_tokens",
            "Prompt tokens the provider read from its cache.",
            model_provider,
            registry=r,
        )
        self.cache_write = Counter(
            "layercache_cache_write_tokens",
            "Prompt tokens the provider wrote to its cache.",
            model_provider,
            registry=r,
        )
        self.uncached = Counter(
            "layercache_uncached_prompt_tokens", "Prompt tokens billed at the full price.", model_provider, registry=r
        )
        self.completion = Counter("layercache_completion_tokens", "Output tokens.", model_provider, registry=r)
        self.tokens_saved = Counter(
            "layercache_tokens_saved",
            "Tokens not billed in full (prefix cache reads, semantic hits).",
            ["model", "source"],
            registry=r,
        )
        self.cost = Counter("layercache_cost_usd", "USD billed by providers.", model_provider, registry=r)
        # A gauge, not a counter: net savings fall when cache writes cost more than reads saved.
        self.saved = Gauge(
            "layercache_cost_saved_usd", "Net USD saved (may be negative).", ["model", "source"], registry=r
        )
        self.below_minimum = Counter(
            "layercache_prefix_below_minimum",
            "Requests whose cacheable prefix was under the provider minimum.",
            ["model"],
            registry=r,
        )
        self.prefix = PrefixChanges(r)  # the proxy's verdicts and the provider's diagnoses
        self.over_budget = Counter(
            "layercache_session_over_budget",
            "Requests over caching.max_session_tokens even after truncation (the newest turn alone is too long).",
            ["model"],
            registry=r,
        )
        self.upstream_errors = Counter(
            "layercache_upstream_errors", "Requests that failed upstream.", ["provider", "status"], registry=r
        )
        self.failovers = Counter(
            "layercache_failovers", "Fallback deployments tried after a failure.", ["model"], registry=r
        )
        self.faults = Counter(
            "layercache_faults",
            "Warning and error log events by component and event (degradations the proxy served through).",
            ["component", "event"],
            registry=r,
        )
        self.responses = Counter(
            "layercache_responses",
            "Every HTTP response by route template ('unmatched' for unknown paths), method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.count_tokens = Counter(
            "layercache_count_tokens",
            "Answers of /v1/messages/count_tokens by who counted: the provider ('upstream') or the proxy ('local').",
            ["source"],
            registry=r,
        )
        self.pending_writes = Gauge(
            "layercache_semantic_pending_writes",
            "Semantic cache answers accepted but not yet written to the database (a crash loses them).",
            registry=r,
        )
        self.component_up = Gauge(
            "layercache_component_up",
            "1 while a component works, 0 while it is off or failed (the proxy then serves uncached).",
            ["component"],
            registry=r,
        )

    def fault(self, component: str, event: str) -> None:
        self.child(self.faults, component[:40], event[:80]).inc()

    def _row(self, model: str) -> dict[str, float]:
        row = self.totals.get(model)
        if row is None:
            row = self.totals[model] = dict.fromkeys(FIELDS, 0.0)
        return row

    def _add(self, model: str, **amounts: float) -> None:
        row = self._row(model)
        for name, amount in amounts.items():
            row[name] += amount

    def record(self, sample: Sample) -> None:
        """Count one finished request. Never raises on odd input: metrics must not break the proxy."""
        ex = sample.exchange
        outcome = ex.outcome
        model = self._model_label(ex.request.model, ex.settings)
        cache = outcome.cache if sample.semantic_on or outcome.cache == "hit" else "off"
        provider = clean_label(outcome.provider, 40) or ("cache" if cache == "hit" else "none")
        self.child(self.requests, ex.route, model, provider, str(sample.status), cache).inc()
        if outcome.provider:
            self.model_providers.setdefault(model, set()).add(provider)
        row = self._row(model)
        row["requests"] += 1
        row["errors"] += float(sample.status >= 400)
        if cache in ("hit", "miss", "bypass"):
            self.child(self.semantic, model, cache).inc()
            self._add(model, **{_RESULT_FIELD[cache]: 1})
        self.semantic_lookups.record(ex, model)  # skips (a cache that could not start too), lookups
        if ex.session_over_budget:
            self.child(self.over_budget, model).inc()
        if outcome.failovers:
            self.child(self.failovers, model).inc(outcome.failovers)
            self._add(model, failovers=outcome.failovers)
        if outcome.error is not None and cache != "hit" and sample.status >= 400:
            self.child(self.upstream_errors, provider, str(sample.status)).inc()
            self._add(model, upstream_errors=1)
        if outcome.upstream_seconds > 0:
            self.child(self.upstream_latency, model, provider).observe(outcome.upstream_seconds)
            row["upstream_seconds"] += outcome.upstream_seconds
            row["upstream_calls"] += 1
        if sample.overhead_seconds is not None:
            self.child(self.overhead, ex.route).observe(max(0.0, sample.overhead_seconds))
        self._record_prefix(model, ex)
        if cache == "hit":
            self._record_semantic_hit(ex, model)
        elif outcome.completion is not None:
            self._record_usage(ex, model, provider, outcome.completion.usage)

    def _record_prefix(self, model: str, ex: Measured) -> None:
        if ex.prefix is not None and ex.prefix.below:
            self.child(self.below_minimum, model).inc()
            self._add(model, prefix_below_minimum=1)
        cause = self.prefix.record(model, ex)
        if cause is not None and cause != "other":
            self._add(model, **{"prefix_" + cause: 1})
        detail = ex.prefix_change_detail
        if isinstance(detail, str) and detail and detail != "stable":
            key = (model, clean_label(detail, 120))  # a path may name a client's tool
            if key in self.prefix_details or len(self.prefix_details) < _MAX_DETAILS:
                self.prefix_details[key] += 1

    def _record_usage(self, ex: Measured, model: str, provider: str, usage: Usage) -> None:
        price = self.prices.price(_price_names(ex), provider, ex.settings.caching.anthropic_ttl)
        # A Gemini CachedContent made for this call is billed once, on top of the call (not in
        # place of prompt tokens, as other cache writes are): a write paid out of the savings.
        created = max(0, ex.gemini_cache_write_tokens)
        cost = call_cost(usage, price) + created * price.cache_write
        saved = prefix_savings(usage, price) - created * price.cache_write
        written = usage.cache_write + created
        read, write, uncached, completion, tokens_saved, cost_usd, saved_usd = self._usage_children(model, provider)
        read.inc(usage.cache_read)
        write.inc(written)
        uncached.inc(usage.uncached_input)
        completion.inc(usage.output)
        tokens_saved.inc(usage.cache_read)
        cost_usd.inc(cost)
        saved_usd.inc(saved)
        row = self._row(model)
        row["uncached_input_tokens"] += usage.uncached_input
        row["cache_read_tokens"] += usage.cache_read
        row["cache_write_tokens"] += written
        row["output_tokens"] += usage.output
        row["tokens_saved_prefix"] += usage.cache_read
        row["cost_usd"] += cost
        row["saved_prefix_usd"] += saved

    def _usage_children(self, model: str, provider: str) -> tuple[Any, ...]:
        """The seven children every answered call counts into, looked up as one (bounded as the labels are)."""
        children = self._usage.get((model, provider))
        if children is None:
            children = self._usage[model, provider] = (
                self.child(self.cache_read, model, provider),
                self.child(self.cache_write, model, provider),
                self.child(self.uncached, model, provider),
                self.child(self.completion, model, provider),
                self.child(self.tokens_saved, model, "prefix_cache"),
                self.child(self.cost, model, provider),
                self.child(self.saved, model, "prefix_cache"),
            )
        return children

    def _record_semantic_hit(self, ex: Measured, model: str) -> None:
        # The semantic cache notes what the original call cost; a hit avoided all of it.
        usage = ex.saved.usage if ex.saved is not None else Usage()
        noted = ex.saved.cost_usd if ex.saved is not None else None
        if noted is not None:
            saved = float(noted)
        else:
            price = self.prices.price(_price_names(ex), "", ex.settings.caching.anthropic_ttl)
            saved = call_cost(usage, price)
        tokens = usage.input_total + usage.output
        self.child(self.tokens_saved, model, "semantic_cache").inc(tokens)
        self.child(self.saved, model, "semantic_cache").inc(saved)
        self._add(model, tokens_saved_semantic=tokens, saved_semantic_usd=saved)


def _price_names(ex: Measured) -> tuple[str, ...]:
    """Names to price a call by: the configured route's model string first, then what was sent."""
    deployment = ex.outcome.deployment or ex.request.model
    routes = {r.name: r.model for r in ex.settings.models}
    return tuple(n for n in (routes.get(deployment), deployment, ex.request.model) if n)
