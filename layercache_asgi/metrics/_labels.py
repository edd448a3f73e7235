"""Label values from client input, made safe for Prometheus, JSON and snapshots, and bounded.

A model name is whatever the client sent: a lone surrogate in it cannot be encoded as
UTF-8, and once stored as a label every later ``/metrics`` render (and the JSON API, the
dashboard, each snapshot) would fail with it. Names that are not printable text are
cleaned, long ones cut, and the set of distinct values is bounded: configured route
names and models LiteLLM knows always keep their own label; the first
:data:`MAX_UNKNOWN` other names do too, and any name beyond them is counted as ``other``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._config import Settings

__all__ = ["MAX_LABEL_LENGTH", "MAX_UNKNOWN", "OTHER", "Children", "ModelLabels", "clean_label"]

MAX_LABEL_LENGTH = 100
MAX_UNKNOWN = 100
OTHER = "other"


def clean_label(text: str, limit: int = MAX_LABEL_LENGTH) -> str:
    """Printable text of at most ``limit`` characters (each other character, e.g. a lone surrogate, as '?')."""
    cut = text[:limit]
    if cut.isprintable():
        return cut
    return "".join(c if c.isprintable() else "?" for c in cut)


def configured_names(settings: Settings) -> set[str]:
    """Every model name the config mentions: route names, their model strings, fallbacks."""
    names = {route.name for route in settings.models} | {route.model for route in settings.models}
    for name, targets in settings.fallbacks.items():
        names.add(name)
        names.update(targets)
    return names


class ModelLabels:
    """Maps model names to label values; ``is_known`` says whether a name is a real model (e.g. priced)."""

    def __init__(self, is_known: Callable[[str], bool]) -> None:
        self._is_known = is_known
        self._accepted: set[str] = set()
        self._unknown = 0

    def __call__(self, model: str, settings: Settings) -> str:
        if model in self._accepted:
            return model
        label = clean_label(model) or "unknown"
        if label in self._accepted:
            return label
        # Cleaned or cut text is not a model anyone configured: it competes for the unknown slots.
        if label == model and (model in configured_names(settings) or self._is_known(model)):
            self._accepted.add(label)
            return label
        if self._unknown >= MAX_UNKNOWN:
            return OTHER
        self._unknown += 1
        self._accepted.add(label)
        return label


class Children:
    """``children(metric, *values)`` is ``metric.labels(*values)``, remembered per label tuple.

    prometheus_client validates the values and takes a lock on every ``labels()`` call; a request
    makes a dozen. The child is the same object either way (nothing here removes children), and
    the set of tuples is bounded as the labels themselves are (see :class:`ModelLabels`).
    """

    def __init__(self) -> None:
        self._children: dict[tuple[Any, ...], Any] = {}

    def __call__(self, metric: Any, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child
