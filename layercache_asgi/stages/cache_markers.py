"""Place provider cache markers at the L0/L1/L2 boundaries.

Pass-through until this stage is filled in; its place in the stack is fixed.
"""

from __future__ import annotations

from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["InjectCacheMarkers"]


class InjectCacheMarkers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
