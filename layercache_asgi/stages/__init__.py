"""The pipeline stages: one ASGI middleware class per module.

:data:`DEFAULT_STAGES` is the default stack, outermost first. Reorder it, drop from it,
or add your own middleware (a class taking ``app``, or a ``starlette.middleware.Middleware``
with options); :func:`build_stack` folds the list around :class:`RouteUpstream`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._types import ASGIApp
from .apply_template import ApplyTemplate
from .cache_markers import InjectCacheMarkers
from .canonicalize import Canonicalize
from .enhance import Enhance
from .explain_misses import ExplainMisses
from .prefix_threshold import PrefixThreshold
from .record_metrics import RecordMetrics
from .route import RouteUpstream
from .semantic_cache import SemanticCache
from .stratify import Stratify
from .truncate_session import TruncateSession
from .warmup_gate import WarmupGate

__all__ = [
    "DEFAULT_STAGES",
    "ApplyTemplate",
    "Canonicalize",
    "Enhance",
    "ExplainMisses",
    "InjectCacheMarkers",
    "PrefixThreshold",
    "RecordMetrics",
    "RouteUpstream",
    "SemanticCache",
    "Stratify",
    "TruncateSession",
    "WarmupGate",
    "build_stack",
]

# Metrics outermost (they see hits, misses and errors); the template before the
# layers are assigned; the canonical form before them too, so the layers (a digest of
# every part) are computed once per request; the semantic cache after the prompt is canonical and trimmed,
# so lookup and store share one key; enhancements and markers after the lookup, so
# they never split that key; the warm-up gate right before the upstream call.
DEFAULT_STAGES: tuple[Any, ...] = (
    RecordMetrics,
    ApplyTemplate,
    Canonicalize,
    Stratify,
    TruncateSession,
    SemanticCache,
    PrefixThreshold,
    Enhance,
    InjectCacheMarkers,
    ExplainMisses,
    WarmupGate,
)


def build_stack(stages: Sequence[Any], endpoint: ASGIApp | None = None) -> ASGIApp:
    """Wrap ``endpoint`` (default: :class:`RouteUpstream`) in ``stages``, the first outermost."""
    app: ASGIApp = endpoint if endpoint is not None else RouteUpstream()
    for stage in reversed(stages):
        if isinstance(stage, type):
            app = stage(app)
        else:  # starlette.middleware.Middleware: iterable as (cls, args, kwargs)
            cls, args, kwargs = stage
            app = cls(app, *args, **kwargs)
    return app
