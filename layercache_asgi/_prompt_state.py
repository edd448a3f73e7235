"""Shared state of the prompt engine (prefix families, warm-up gate, Gemini handles)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._runtime import Runtime


async def start_prompt_state(runtime: Runtime) -> None:
    """Placeholder until the prompt engine lands."""
