"""Apply the prompt template named by lc_template: its L0/L1 content and default enhancements.

Pass-through until this stage is filled in; its place in the stack is fixed.
"""

from __future__ import annotations

from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["ApplyTemplate"]


class ApplyTemplate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
