"""Check that the cacheable prefix (L0 to L2) reaches the provider's minimum.

Below it the provider caches nothing, so the request says so: an info log, the header
``x-layercache-prefix-below-minimum: <tokens>/<minimum>``, and ``exchange.prefix`` (which
the metrics turn into a counter, and markers and the warm-up gate read through
``prefix_check_of``, which checks on first use when this stage is not in the stack).
Counting uses LiteLLM's tokenizer off the event loop; a failure only skips the check.
"""

from __future__ import annotations

import logging

import structlog

from .._exchange import get_exchange
from .._types import ASGIApp, Receive, Scope, Send
from ..prompt._facts import prefix_check_of

__all__ = ["PrefixThreshold"]

log = structlog.get_logger("layercache.prefix")
# What the structlog line is filtered on (``filter_by_level``): checked first, because the small
# prompts this fires for are common, and structlog builds a bound logger on every call (not cached,
# so that a reload takes effect).
_level = logging.getLogger("layercache.prefix")


class PrefixThreshold:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = get_exchange(scope)
        if exchange is not None and not exchange.request.ext.lc_bypass_cache:
            checked = await prefix_check_of(exchange)
            if checked.below:
                exchange.response_headers["x-layercache-prefix-below-minimum"] = f"{checked.tokens}/{checked.minimum}"
                if _level.isEnabledFor(logging.INFO):
                    log.info(
                        "prefix_below_minimum",
                        model=exchange.request.model,
                        tokens=checked.tokens,
                        minimum=checked.minimum,
                    )
        await self.app(scope, receive, send)
