"""One named task that runs while the app does: the database watch, the replicas' listener, metric snapshots.

Each of those loops forever (retrying with its own backoff); this only starts it and, on
close, cancels it and waits until it has ended, so nothing is left running against a
closed engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["Background", "doubled"]


class Background:
    def __init__(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def doubled(delay: float, most: float) -> float:
    """The next wait of an exponential backoff."""
    return min(delay * 2, most)
