"""Answer an exception that escaped a route, in that route's own shape, instead of a bare 500.

A database that went away is the common case: every management route and dashboard page
that reads it then answers 503 (JSON on the APIs, an HTML page on the dashboard), the
database is marked down at once (``layercache_component_up``), and the event is logged
(so it is counted in ``layercache_faults_total``). Anything else is a logged 500 in the
same shapes. Routes that answer their own errors never get here.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import structlog
from starlette.exceptions import HTTPException

from ._errors import error_body
from ._types import ASGIApp, Message, Receive, Scope, Send, Wire
from .wire._respond import send_body, send_json

__all__ = ["DATABASE_UNAVAILABLE", "AnswerFaults"]

log = structlog.get_logger("layercache.db")
internal_log = structlog.get_logger("layercache.app")

DATABASE_UNAVAILABLE = "the database is unavailable right now; try again shortly"


class AnswerFaults:
    """Wraps the app's router; ``get_db`` gives the open database, if any, to mark it down."""

    def __init__(self, app: ASGIApp, *, get_db: Callable[[], Any]) -> None:
        self.app = app
        self._get_db = get_db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except HTTPException:
            raise  # mounted in a Starlette host, the router's 404/405 are the host's to render
        except Exception as exc:
            path = _route_path(scope)
            from .db._database import is_database_error  # SQLAlchemy loads with the database, not at import

            if is_database_error(exc):
                db = self._get_db()
                if db is not None:
                    db.mark(False, type(exc).__name__)
                log.warning("database_unavailable", path=path[:200], error=type(exc).__name__)
                status, message = 503, DATABASE_UNAVAILABLE
            else:
                internal_log.exception("internal_error", path=path[:200])
                status, message = 500, "internal error"
            if started:
                raise  # too late for an error answer: the server ends the connection
            await _answer(path, status, message, send)


def _route_path(scope: Scope) -> str:
    # Mounted apps keep the full path and get the prefix in root_path (as Starlette's Mount does).
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


async def _answer(path: str, status: int, message: str, send: Send) -> None:
    retry = [(b"retry-after", b"5")] if status == 503 else []
    if path.startswith("/dashboard") and not path.startswith("/dashboard/data"):
        title = "Database unavailable" if status == 503 else "Internal error"
        page = (
            f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
            f"<h1>{title}</h1><p>The dashboard cannot show this page: {html.escape(message)}.</p></html>"
        )
        await send_body(send, status, page.encode(), b"text/html; charset=utf-8", retry)
        return
    wire: Wire = "anthropic" if path.startswith("/v1/messages") else "openai"
    await send_json(send, status, error_body(wire, status, message), retry)
