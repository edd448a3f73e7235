"""Prometheus /metrics and the JSON metrics API."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from .._runtime import Runtime


def metrics_routes(get_runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    return []
