"""Dashboard pages, all relative to the mount point."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from .._runtime import Runtime


def dashboard_routes(get_runtime: Callable[[], Runtime], app: Any) -> list[BaseRoute]:
    return []
