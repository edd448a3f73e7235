"""Apply the prompt template named by ``lc_template``: its L0/L1 content and default enhancements.

Runs before Stratify, so the template's content is layered, canonicalized and keyed like the
client's own. ``lc_template`` is a name (newest version) or ``name@version``. An unknown
template is a 404 in the client's error format, a malformed version (``name@0``) a 400.
"""

from __future__ import annotations

import structlog

from .._errors import ProxyError
from .._exchange import get_exchange
from .._types import ASGIApp, Receive, Scope, Send

__all__ = ["ApplyTemplate"]

log = structlog.get_logger("layercache.templates")


class ApplyTemplate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        reference = exchange.request.ext.lc_template if exchange is not None else None
        if exchange is None or reference is None:
            await self.app(scope, receive, send)
            return
        from ..templates._apply import apply_template
        from ..templates._model import split_reference

        try:
            split_reference(reference)
        except ValueError as exc:
            raise ProxyError(400, str(exc), code="bad_version", param="lc_template") from None
        registry = exchange.runtime.templates
        if registry is None:
            raise ProxyError(503, "prompt templates are not available", param="lc_template")
        try:
            template = await registry.get(reference)
        except Exception as exc:
            log.error("template_lookup_failed", template=reference, error=type(exc).__name__, detail=str(exc)[:200])
            raise ProxyError(503, "prompt templates are temporarily unavailable", param="lc_template") from None
        if template is None:
            raise ProxyError(
                404, f"prompt template '{reference}' does not exist", code="template_not_found", param="lc_template"
            )
        hints, system_hints = apply_template(exchange.request, template)
        exchange.layer_hints.update(hints)
        exchange.system_layer_hints = dict(system_hints)
        exchange.template = template.reference
        exchange.response_headers["x-layercache-template"] = template.reference
        await self.app(scope, receive, send)
