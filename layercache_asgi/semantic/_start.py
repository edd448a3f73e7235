"""Start the semantic cache (embedder and store)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._runtime import Runtime


async def start_semantic_cache(runtime: Runtime) -> None:
    """Placeholder until the semantic cache lands."""
