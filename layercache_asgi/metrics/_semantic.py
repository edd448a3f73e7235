"""What the semantic cache decided and why, for tuning it.

Per request: why the cache stayed out (``layercache_semantic_skipped_total{reason}``).
Per lookup: how close the nearest stored question was (a histogram, fine-grained where
thresholds live), each guard refusal by reason, and what the second-stage verifier said.
Recent refusals are kept in a small ring per app for the dashboard's cache page: time,
tenant id, similarity and reason; question text only with ``logging.log_prompts``.

Label values are bounded: skip reasons are a fixed set, guard reasons are reduced to a
short code (the guard's own ``code`` when its verdict has one) and only the first
:data:`MAX_REASONS` distinct codes keep theirs; any later one counts as ``other``.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

from ..semantic._eligible import SKIP_REASONS
from ._labels import OTHER, Children

if TYPE_CHECKING:
    from .._config import Settings
    from ..semantic._judge import Judgement, LookupTrace

__all__ = [
    "MAX_REASONS",
    "Refusal",
    "SemanticMeasured",
    "SemanticMetrics",
    "reason_code",
]

MAX_REASONS = 24
_RING = 100  # refused candidates kept for the dashboard, per app
# Fine where thresholds are set (0.7-1.0), coarse below.
_SIMILARITY_BUCKETS = (0.3, 0.5, 0.6, 0.7, 0.75, 0.775, 0.8, 0.825, 0.85, 0.875, 0.9, 0.925, 0.95, 0.97, 0.99, 1.0)


def reason_code(verdict: Any) -> str:
    """A short code for a refusal: the verdict's ``code`` if it has one, else the leading plain
    words of its reason ("opposites enable/disable" -> "opposites"), so words of the prompt
    that a reason quotes never become a label."""
    code = getattr(verdict, "code", None)
    return _code_of(code if isinstance(code, str) and code else str(getattr(verdict, "reason", "") or ""))


@lru_cache(maxsize=512)  # a lookup refuses up to 8 candidates, mostly for the same few reasons
def _code_of(text: str) -> str:
    words: list[str] = []
    for word in text.lower().replace("_", " ").split():
        if not word.isascii() or not word.isalpha():
            break
        words.append(word)
    return "_".join(words)[:40] or "unspecified"


@dataclass(frozen=True)
class Refusal:
    """One refused candidate as the dashboard lists it (text fields empty unless log_prompts)."""

    at: float  # epoch seconds
    tenant: str  # the tenant id (a hash, or "default"/"anonymous"), shortened
    model: str
    similarity: float
    code: str
    reason: str  # the guard's full reason (may quote words of the prompt: log_prompts only) or the verifier's score
    query: str
    stored_query: str


class SemanticMetrics:
    """The semantic cache's collectors on an app's registry, and its ring of recent refusals."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.skipped = Counter(
            "layercache_semantic_skipped",
            "Requests the semantic cache stayed out of, by reason (tools, long_conversation, client, ...).",
            ["reason"],
            registry=r,
        )
        self.nearest = Histogram(
            "layercache_semantic_nearest_similarity",
            "Per lookup: cosine similarity of the nearest stored question of the same bucket, whatever the threshold.",
            ["model"],
            buckets=_SIMILARITY_BUCKETS,
            registry=r,
        )
        self.guard_refusals = Counter(
            "layercache_semantic_guard_refusals",
            "Candidates at or above the similarity threshold that the guard refused, by reason code.",
            ["reason"],
            registry=r,
        )
        self.verifier = Counter(
            "layercache_semantic_verifier",
            "Second-stage verifier answers: accepted, rejected, unavailable (could not load), error.",
            ["result"],
            registry=r,
        )
        self.refusals: deque[tuple[float, str, str, float, str, str, str, str]] = deque(maxlen=_RING)
        self._codes: set[str] = set()
        self._child = Children()

    def code_label(self, code: str) -> str:
        if code in self._codes:
            return code
        if len(self._codes) >= MAX_REASONS:
            return OTHER
        self._codes.add(code)
        return code

    def record(self, ex: SemanticMeasured, model: str) -> None:
        skip = ex.semantic_skip
        if skip is not None and skip != "disabled":  # a cache switched off skips nothing
            self._child(self.skipped, skip if skip in SKIP_REASONS else OTHER).inc()
        trace = ex.semantic_trace
        if trace is None:
            return
        if trace.nearest is not None:
            self._child(self.nearest, model).observe(min(1.0, max(0.0, trace.nearest)))
        with_text = ex.settings.logging.log_prompts
        now = time.time()
        refused: dict[str, int] = {}
        for judged in trace.judged.values():
            code = ""
            if judged.guard_refused:
                code = self.code_label(reason_code(judged.verdict))
                refused[code] = refused.get(code, 0) + 1
            if judged.verifier:
                result = judged.verifier
                if result == "ok":
                    result = "accepted" if judged.accepted else "rejected"
                self._child(self.verifier, result).inc()
            if not judged.accepted:  # kept as a tuple; the dashboard's few reads build the Refusal
                self.refusals.append(
                    (
                        now,
                        ex.tenant[:12],
                        model,
                        round(judged.similarity, 4),
                        code or "verifier",
                        _reason_text(judged, with_text),
                        trace.query if with_text else "",
                        judged.stored_query if with_text else "",
                    )
                )
        for code, count in refused.items():  # one increment a reason, not one a candidate
            self._child(self.guard_refusals, code).inc(count)

    def recent(self) -> list[Refusal]:
        """Refusals, newest first."""
        return [Refusal(*fields) for fields in reversed(self.refusals)]


class SemanticMeasured(Protocol):
    """What the semantic metrics read of one request (an Exchange is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def tenant(self) -> str: ...
    @property
    def semantic_skip(self) -> str | None: ...
    @property
    def semantic_trace(self) -> LookupTrace | None: ...


def _reason_text(judged: Judgement, with_text: bool) -> str:
    if not judged.guard_refused:
        return f"verifier score {judged.score:.3f}" if judged.score is not None else ""
    # The guard's reason may quote words of the question ("opposites enable/disable").
    return str(getattr(judged.verdict, "reason", "") or "") if with_text else ""
