"""Start the metrics recorder."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._runtime import Runtime


async def start_metrics(runtime: Runtime) -> None:
    """Placeholder until observability lands."""
