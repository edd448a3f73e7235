"""Open the database at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._runtime import Runtime


async def start_database(runtime: Runtime) -> None:
    """Placeholder until persistence lands."""
