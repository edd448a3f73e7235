"""Semantic cache management: invalidate entries by id, model, tenant, all."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from .._runtime import Runtime


def cache_routes(get_runtime: Callable[[], Runtime]) -> list[BaseRoute]:
    return []
