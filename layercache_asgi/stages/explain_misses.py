"""Tell why the provider prefix cache missed: the first layer (and position) that changed.

Pass-through until this stage is filled in; its place in the stack is fixed.
"""

from __future__ import annotations

from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["ExplainMisses"]


class ExplainMisses:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
