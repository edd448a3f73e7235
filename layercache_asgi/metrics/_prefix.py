"""Prefix-change metrics: the proxy's verdict and the provider's diagnosis side by side.

``layercache_prefix_changes_total{model, source, cause}``: ``source="proxy"`` counts the
proxy's layer diff (stable/new/L0/L1/L2), ``source="provider"`` Anthropic's
``cache_miss_reason`` (or ``none``: no divergence, ``pending``: not finished).
``layercache_prefix_disagreements_total{model}`` counts requests where both named a cause
and named different ones. For the dashboard: the pairs (proxy verdict, provider reason) and
the latest misses with where they start; both bounded, and free of prompt text unless
``log_prompts`` was on when they were recorded.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter

from ._labels import Children, clean_label

if TYPE_CHECKING:
    from ..explain._provider import Diagnosis
    from ..explain._where import Where

__all__ = ["PREFIX_CAUSES", "PROVIDER_CAUSES", "PrefixChanges", "PrefixMeasured"]

PROVIDER_CAUSES = (
    "none",
    "pending",
    "model_changed",
    "system_changed",
    "tools_changed",
    "messages_changed",
    "previous_message_not_found",
    "unavailable",
)
PREFIX_CAUSES = ("stable", "new", "L0", "L1", "L2")
_MAX_PAIRS = 500
_RECENT = 50


class PrefixMeasured(Protocol):
    """What the prefix-change counters read of one request: an Exchange is one."""

    @property
    def prefix_change(self) -> str | None: ...
    @property
    def prefix_change_detail(self) -> str | None: ...
    @property
    def prefix_where(self) -> Where | None: ...
    @property
    def diagnosis(self) -> Diagnosis | None: ...


class PrefixChanges:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.changes = Counter(
            "layercache_prefix_changes",
            "Prefix compared with the previous request of its family, by the proxy or the provider.",
            ["model", "source", "cause"],
            registry=registry,
        )
        self.disagreements = Counter(
            "layercache_prefix_disagreements",
            "Requests where the provider's cache diagnosis named another cause than the proxy's diff.",
            ["model"],
            registry=registry,
        )
        # (model, proxy verdict, provider reason or "-", they disagree) -> requests; the dashboard's table
        self.pairs: Tally[tuple[str, str, str, bool]] = Tally()
        self.recent: deque[dict[str, Any]] = deque(maxlen=_RECENT)  # the latest changes, where they start
        self.provider_counts: Tally[str] = Tally()  # provider reason -> requests (and "disagree")
        self.latest: dict[tuple[str, str], dict[str, Any]] = {}  # (model, verdict) -> its latest change's row
        self._child = Children()

    def record(self, model: str, ex: PrefixMeasured) -> str | None:
        """Count one request; returns the proxy's cause for the per-model totals (None: none recorded)."""
        cause = ex.prefix_change
        if not isinstance(cause, str) or not cause:
            return None
        cause = cause if cause in PREFIX_CAUSES else "other"
        self._child(self.changes, model, "proxy", cause).inc()
        diagnosis = ex.diagnosis
        reason = diagnosis.reason if diagnosis is not None else None
        if reason is not None:
            reason = reason if reason in PROVIDER_CAUSES else "other"
            self._child(self.changes, model, "provider", reason).inc()
            self.provider_counts[reason] += 1
        agrees = diagnosis.agrees if diagnosis is not None else None
        if agrees is False:
            self._child(self.disagreements, model).inc()
            self.provider_counts["disagree"] += 1
        detail = clean_label(ex.prefix_change_detail or cause, 120)  # a path may name a client's tool
        if detail != "stable" or reason not in (None, "none"):
            key = (model, detail, reason or "-", agrees is False)
            if key in self.pairs or len(self.pairs) < _MAX_PAIRS:
                self.pairs[key] += 1
        if ex.prefix_where is not None or agrees is False:
            row = _recent_row(model, ex, reason, agrees)
            self.recent.appendleft(row)
            if (model, detail) in self.latest or len(self.latest) < _MAX_PAIRS:
                self.latest[(model, detail)] = row
        return cause


def _recent_row(model: str, ex: PrefixMeasured, reason: str | None, agrees: bool | None) -> dict[str, Any]:
    where = ex.prefix_where
    diagnosis = ex.diagnosis
    row: dict[str, Any] = {
        "time": time.strftime("%H:%M:%S"),
        "model": model,
        "proxy": clean_label(ex.prefix_change_detail or "", 120),
        "provider": reason or "-",
        "missed_tokens": diagnosis.missed_tokens if diagnosis is not None else None,
        "disagree": agrees is False,
    }
    if where is not None:
        row.update(
            block=clean_label(where.path, 120),
            offset=where.offset,
            precision=where.precision,
            length=where.length,
            previous_length=where.previous_length,
            digest=where.digest,
            previous_digest=where.previous_digest,
            volatile=where.volatile,
            describe=clean_label(where.describe(), 160),
            text=where.text,
            previous_text=where.previous_text,
        )
    return row
