"""ASGI type aliases for people writing their own stages (public; the package uses the same ones).

    from layercache_asgi.types import ASGIApp, Receive, Scope, Send

    class AuditStage:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            ...

They are structurally the same as ``starlette.types``, so a stage typed with either fits.
``Wire`` names the client's wire format (``exchange.request.wire``).
"""

from __future__ import annotations

from ._types import ASGIApp, Message, Receive, Scope, Send, Wire

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "Wire"]
